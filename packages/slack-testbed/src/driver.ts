/**
 * Plays Slack's side towards the app: signed HTTP requests to the app's /slack/events endpoint, or Socket Mode
 * envelopes through the fake. Interactions are built from what the bot really sent (the fake's stored messages
 * and views), so a test clicks the button the user would see, not a payload it made up.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { computeState, isObj, textOf, viewProblems } from './blocks.js';
import { messageContent } from './chat-methods.js';
import {
  clientValidation,
  type ElementLocator,
  findButton,
  findElement,
  findOption,
  type InputValue,
  optionsFromAnswer,
  SlackClientError,
  stateFor,
} from './elements.js';
import { SlackApiError } from './errors.js';
import { parseAnswer } from './http.js';
import type { EnvelopeType } from './socket-server.js';
import { MAX_VIEW_STACK } from './store.js';
import type { DriverResponse, Json, SentRequest, StoredMessage, StoredView } from './types.js';
import type { FakeSlack, MessageFilter } from './web-api.js';

/** `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{rawBody}`: the `x-slack-signature` header value. */
export function signSlackRequest(secret: string, rawBody: string, timestampSeconds: number): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestampSeconds}:${rawBody}`).digest('hex')}`;
}

export interface SlackDriverOptions {
  slack: FakeSlack;
  signingSecret: string;
  /** The app's request URL, e.g. `http://127.0.0.1:PORT/slack/events` (HTTP mode). */
  eventsUrl?: string;
  /** Send through Socket Mode instead of HTTP. */
  socket?: true;
  teamId?: string;
  enterpriseId?: string;
  /** How long to wait for a Socket Mode ack (Slack gives up after 3 s). */
  ackTimeoutMs?: number;
}

export type Surface = StoredView | StoredMessage | { view: StoredView } | { message: StoredMessage };

export interface SuggestResult extends DriverResponse {
  /** Options the app answered with (option groups flattened). */
  options: Json[];
}

/** An element by its label or text, block_id or action_id (what a test says), or exactly (what a client knows). */
export type ElementKey = string | ElementLocator;

/** What a person put into a modal: by label / block_id / action_id, or as exact element and value pairs. */
export type FormValues = Record<string, InputValue> | Array<[ElementKey, InputValue]>;

export interface RawOptions {
  signature?: string;
  timestamp?: number;
  omitSignature?: boolean;
}

const CHANNEL_ACK = { slash_commands: true, block_actions: false, view_submission: true, block_suggestion: true };

type LiveSurface = { kind: 'view'; view: StoredView } | { kind: 'message'; message: StoredMessage };

export class SlackDriver {
  private readonly slack: FakeSlack;
  private readonly teamId: string;
  private readonly enterpriseId: string | undefined;
  /** Client-side state of stateful elements in messages (views keep theirs in the fake's store). */
  private readonly messageState = new Map<string, Record<string, Record<string, Json>>>();
  private sent: SentRequest | undefined;

  constructor(private readonly opts: SlackDriverOptions) {
    if (!opts.socket && !opts.eventsUrl) throw new Error('SlackDriver needs eventsUrl (HTTP) or socket: true');
    this.slack = opts.slack;
    this.teamId = opts.teamId ?? opts.slack.teamId;
    this.enterpriseId = opts.enterpriseId ?? opts.slack.enterpriseId;
  }

  // Commands

  async command(
    userId: string,
    text: string,
    opts: { command?: string; channelId?: string; teamId?: string } = {},
  ): Promise<DriverResponse> {
    const channelId = opts.channelId ?? 'C0HELPDESK';
    const store = this.slack.store;
    const isDm = channelId.startsWith('D');
    const body: Record<string, string> = {
      token: this.slack.verificationToken,
      // A Slack Connect guest's commands carry their own team.
      team_id: opts.teamId ?? store.user(userId)?.teamId ?? this.teamId,
      team_domain: this.slack.teamDomain,
      ...(this.enterpriseId ? { enterprise_id: this.enterpriseId, enterprise_name: 'Duo Desk Grid' } : {}),
      channel_id: channelId,
      channel_name: isDm ? 'directmessage' : (store.channels.get(channelId)?.name ?? channelId.toLowerCase()),
      user_id: userId,
      user_name: store.user(userId)?.name ?? userId,
      command: opts.command ?? '/duo',
      text,
      api_app_id: this.slack.appId,
      is_enterprise_install: 'false',
      response_url: this.slack.newResponseUrl({ channelId, userId }),
      trigger_id: this.slack.issueTriggerId(userId),
    };
    const res = this.opts.socket
      ? await this.viaSocket('slash_commands', body, CHANNEL_ACK.slash_commands)
      : await this.post(new URLSearchParams(body).toString());
    this.showCommandAck(body.command!, channelId, userId, res);
    return res;
  }

  // Interactions

  async clickButton(
    surface: Surface,
    buttonText: string | RegExp | ElementLocator,
    userId: string,
  ): Promise<DriverResponse> {
    const live = this.live(surface);
    const { blocks, where } = this.blocksOf(live);
    const hit = findButton(blocks, buttonText, where);
    const action: Json = {
      type: 'button',
      action_id: hit.element.action_id,
      block_id: hit.block.block_id,
      text: hit.element.text,
      action_ts: this.actionTs(),
    };
    if (hit.element.value !== undefined) action.value = hit.element.value;
    if (hit.element.style !== undefined) action.style = hit.element.style;
    return this.sendBlockActions(live, userId, action);
  }

  /**
   * Picks an option in a static_select / radio_buttons / checkboxes / overflow / external_select (the last through
   * a block_suggestion with the option text as query, unless the option is given whole, as a client that already
   * showed the suggestions has it). Sends block_actions when Slack would: always outside input blocks, inside them
   * only with `dispatch_action: true`; otherwise only the client-side state changes (status 0).
   */
  async selectOption(
    surface: Surface,
    blockLabelOrActionId: ElementKey,
    optionText: string | { value: string; text?: string },
    userId: string,
  ): Promise<DriverResponse> {
    const live = this.live(surface);
    const { blocks, where } = this.blocksOf(live);
    const types = [
      'static_select',
      'multi_static_select',
      'radio_buttons',
      'checkboxes',
      'overflow',
      'external_select',
      'multi_external_select',
    ];
    const hit = findElement(blocks, blockLabelOrActionId, where, types);
    const type = String(hit.element.type);
    let option: Json;
    if (typeof optionText !== 'string') {
      option = {
        text: { type: 'plain_text', text: optionText.text ?? optionText.value, emoji: true },
        value: optionText.value,
      };
    } else if (type.endsWith('external_select')) {
      const { options } = await this.suggest(surface, blockLabelOrActionId, optionText, userId);
      option = structuredClone(
        options.find((o) => textOf(o.text) === optionText || o.value === optionText) ??
          (() => {
            throw new SlackClientError(
              `the app suggested no option "${optionText}" for ${String(hit.element.action_id)}`,
            );
          })(),
      );
    } else {
      option = findOption(hit.element, optionText, where);
    }
    const action: Json = {
      type,
      action_id: hit.element.action_id,
      block_id: hit.block.block_id,
      action_ts: this.actionTs(),
    };
    if (type === 'overflow') {
      action.selected_option = option;
    } else {
      const values = this.stateOf(live);
      const blockId = String(hit.block.block_id);
      const actionId = String(hit.element.action_id);
      const prev = values[blockId]?.[actionId];
      let entry: Json;
      if (type === 'checkboxes' || type.startsWith('multi_')) {
        const chosen = Array.isArray(prev?.selected_options) ? (prev.selected_options as Json[]) : [];
        entry = { type, selected_options: [...chosen.filter((o) => o.value !== option.value), option] };
        action.selected_options = entry.selected_options;
      } else {
        entry = { type, selected_option: option };
        action.selected_option = option;
      }
      values[blockId] = { ...(values[blockId] ?? {}), [actionId]: entry };
      this.setState(live, values);
      this.slack.store.changed();
    }
    const dispatches = hit.place !== 'input' || hit.block.dispatch_action === true;
    if (!dispatches) return { status: 0, body: undefined };
    return this.sendBlockActions(live, userId, action);
  }

  /**
   * Fills the modal's inputs (keys: block label, block_id or action_id) and submits it. The Slack client's own
   * checks (required inputs, min/max length, number bounds) throw SlackClientError instead of sending, as Slack
   * would not send the submission. The app's ack decides what happens to the view, as in Slack.
   */
  async submitView(view: StoredView, userId: string, values: FormValues = {}): Promise<DriverResponse> {
    const v = await this.fill(view, userId, values);
    const blocks = v.definition.blocks as Json[];
    const where = `view ${v.id} (${v.callbackId ?? 'no callback_id'})`;
    v.errors = undefined;
    const problems = clientValidation(blocks, v.stateValues);
    if (problems.length > 0) throw new SlackClientError(`Slack would not submit ${where}: ${problems.join('; ')}`);
    const payload: Json = {
      type: 'view_submission',
      ...this.envelopeBase(userId),
      trigger_id: this.slack.issueTriggerId(userId),
      view: this.slack.store.slackView(v),
      response_urls: [],
    };
    const res = await this.sendInteractive(payload, CHANNEL_ACK.view_submission);
    if (res.status === 200) this.applyResponseAction(v, res.body);
    this.slack.store.changed();
    return res;
  }

  /**
   * Types into / picks in the inputs of the modal on top of the user's screen, as the Slack client keeps them until
   * the modal is submitted (a block action from the modal carries them too). Returns the live view.
   */
  async fill(view: StoredView, userId: string, values: FormValues): Promise<StoredView> {
    const v = this.liveView(view);
    const stack = this.slack.store.openStack(v.userId);
    if (v.type !== 'modal' || stack.at(-1) !== v.id) {
      throw new SlackClientError(`view ${v.id} is not the modal on top of ${v.userId}'s screen`);
    }
    const blocks = v.definition.blocks as Json[];
    const where = `view ${v.id} (${v.callbackId ?? 'no callback_id'})`;
    for (const [key, input] of Array.isArray(values) ? values : Object.entries(values)) {
      const hit = findElement(blocks, key, where);
      let resolved: Json[] | undefined;
      if (String(hit.element.type).endsWith('external_select') && typeof input === 'string') {
        resolved = (await this.suggest(v, key, input, userId)).options;
      } else if (String(hit.element.type).endsWith('external_select') && Array.isArray(input)) {
        resolved = [];
        for (const q of input) resolved.push(...(await this.suggest(v, key, q, userId)).options);
      }
      const entry = stateFor(hit, input, where, resolved);
      const blockId = String(hit.block.block_id);
      v.stateValues[blockId] = { ...(v.stateValues[blockId] ?? {}), [String(hit.element.action_id)]: entry };
    }
    return v;
  }

  /** Types `query` into an external select; returns the options the app answered. */
  async suggest(
    surface: Surface,
    blockLabelOrActionId: ElementKey,
    query: string,
    userId: string,
  ): Promise<SuggestResult> {
    const live = this.live(surface);
    const { blocks, where } = this.blocksOf(live);
    const hit = findElement(blocks, blockLabelOrActionId, where, ['external_select', 'multi_external_select']);
    const minLength = typeof hit.element.min_query_length === 'number' ? hit.element.min_query_length : 3;
    if (query.length < minLength) {
      throw new SlackClientError(`Slack sends no block_suggestion for "${query}": min_query_length is ${minLength}`);
    }
    const payload: Json = {
      type: 'block_suggestion',
      ...this.envelopeBase(userId),
      ...this.containerOf(live),
      action_id: hit.element.action_id,
      block_id: hit.block.block_id,
      value: query,
    };
    const res = await this.sendInteractive(payload, CHANNEL_ACK.block_suggestion);
    return { ...res, options: optionsFromAnswer(res.body) };
  }

  /** The user closes the modal: view_closed goes to the app only with `notify_on_close` (status 0 otherwise). */
  async closeView(view: StoredView, userId: string): Promise<DriverResponse> {
    const v = this.liveView(view);
    const store = this.slack.store;
    const stack = store.openStack(v.userId);
    if (v.type !== 'modal' || stack.at(-1) !== v.id) {
      throw new SlackClientError(`view ${v.id} is not the modal on top of ${v.userId}'s screen`);
    }
    const clearAll = v.definition.clear_on_close === true && stack.length > 1;
    const payload: Json = {
      type: 'view_closed',
      ...this.envelopeBase(userId),
      view: store.slackView(v),
      is_cleared: clearAll,
    };
    store.closeViews(v.userId, clearAll ? undefined : 1);
    store.changed();
    if (v.definition.notify_on_close !== true) return { status: 0, body: undefined };
    return this.sendInteractive(payload, false);
  }

  /**
   * The person opens the app's Home tab: Slack sends an `app_home_opened` event (Events API: JSON, signed;
   * or an events_api envelope over Socket Mode). The app answers with views.publish; see `slack.homeView(userId)`.
   */
  async openHome(userId: string): Promise<DriverResponse> {
    const store = this.slack.store;
    const existing = store.homeViews.get(userId);
    const view = existing ? store.views.get(existing) : undefined;
    const payload: Json = {
      token: this.slack.verificationToken,
      team_id: this.teamId,
      api_app_id: this.slack.appId,
      event: {
        type: 'app_home_opened',
        user: userId,
        channel: store.dmChannelFor(userId),
        tab: 'home',
        event_ts: this.actionTs(),
        ...(view ? { view: store.slackView(view) } : {}),
      },
      type: 'event_callback',
      event_id: `Ev${randomUUID().replace(/-/g, '').slice(0, 12).toUpperCase()}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: this.teamId, user_id: store.ws.botUserId, is_bot: true }],
    };
    if (this.opts.socket) return this.viaSocket('events_api', payload, false);
    const raw = JSON.stringify(payload);
    if (!this.opts.eventsUrl) throw new Error('openHome over HTTP needs eventsUrl');
    const ts = Math.floor(Date.now() / 1000);
    const request: SentRequest = {
      url: this.opts.eventsUrl,
      headers: {
        'content-type': 'application/json',
        'x-slack-request-timestamp': String(ts),
        'x-slack-signature': signSlackRequest(this.opts.signingSecret, raw, ts),
      },
      body: raw,
    };
    this.sent = request;
    return this.send(request);
  }

  /** Low level, for signature tests: posts `body` with a chosen (or no) signature and timestamp. HTTP only. */
  async sendRaw(kind: 'form' | 'json-payload', body: Json | string, opts: RawOptions = {}): Promise<DriverResponse> {
    let raw: string;
    if (kind === 'form') {
      raw = typeof body === 'string' ? body : new URLSearchParams(body as Record<string, string>).toString();
    } else {
      raw = new URLSearchParams({ payload: typeof body === 'string' ? body : JSON.stringify(body) }).toString();
    }
    return this.post(raw, opts);
  }

  /** The last HTTP request sent, byte for byte (what someone who captured it would hold). */
  lastSent(): SentRequest | undefined {
    return this.sent && { ...this.sent, headers: { ...this.sent.headers } };
  }

  /**
   * Sends a captured request again, unchanged (a replay), or with extra headers and signed again at
   * `resignAt` (epoch seconds): Slack's own retries add `x-slack-retry-num` and `x-slack-retry-reason` and
   * carry a new timestamp and signature. HTTP only.
   */
  async resend(
    request: SentRequest,
    opts: { headers?: Record<string, string>; resignAt?: number } = {},
  ): Promise<DriverResponse> {
    const headers = { ...request.headers, ...opts.headers };
    if (opts.resignAt !== undefined) {
      headers['x-slack-request-timestamp'] = String(opts.resignAt);
      headers['x-slack-signature'] = signSlackRequest(this.opts.signingSecret, request.body, opts.resignAt);
    }
    // Sent to the app this driver talks to: a replay reaches whichever instance the attacker points it at.
    if (!this.opts.eventsUrl) throw new Error('resend needs eventsUrl (HTTP)');
    return this.send({ ...request, url: this.opts.eventsUrl, headers });
  }

  lastView(userId: string): StoredView | undefined {
    return this.slack.lastView(userId);
  }

  lastMessage(filter: MessageFilter = {}): StoredMessage | undefined {
    return this.slack.lastMessage(filter);
  }

  // Internals

  private envelopeBase(userId: string): Json {
    const store = this.slack.store;
    const team: Json = { id: this.teamId, domain: this.slack.teamDomain };
    if (this.enterpriseId) Object.assign(team, { enterprise_id: this.enterpriseId, enterprise_name: 'Duo Desk Grid' });
    const name = store.user(userId)?.name ?? userId;
    return {
      user: { id: userId, username: name, name, team_id: store.user(userId)?.teamId ?? this.teamId },
      api_app_id: this.slack.appId,
      token: this.slack.verificationToken,
      team,
      enterprise: this.enterpriseId ? { id: this.enterpriseId, name: 'Duo Desk Grid' } : null,
      is_enterprise_install: false,
    };
  }

  private actionTs(): string {
    const now = Date.now();
    return `${Math.floor(now / 1000)}.${String((now % 1000) * 1000).padStart(6, '0')}`;
  }

  private live(surface: Surface): LiveSurface {
    if ('kind' in surface && surface.kind === 'view') return { kind: 'view', view: this.liveView(surface) };
    if ('kind' in surface && surface.kind === 'message') return { kind: 'message', message: this.liveMessage(surface) };
    if ('view' in surface && !('kind' in surface)) return { kind: 'view', view: this.liveView(surface.view) };
    if ('message' in surface) return { kind: 'message', message: this.liveMessage(surface.message) };
    throw new Error('surface must be a stored view or message (or { view } / { message })');
  }

  private liveView(view: StoredView): StoredView {
    const v = this.slack.store.views.get(view?.id);
    if (!v) throw new SlackClientError(`the fake never saw view ${view?.id}`);
    if (!v.open) throw new SlackClientError(`view ${v.id} is no longer on screen`);
    return v;
  }

  private liveMessage(message: StoredMessage): StoredMessage {
    const m = this.slack.store.messages.find((x) => x.channel === message?.channel && x.ts === message?.ts);
    if (!m) throw new SlackClientError(`the fake never saw message ${message?.channel}/${message?.ts}`);
    if (m.deleted) throw new SlackClientError(`message ${m.channel}/${m.ts} was deleted`);
    return m;
  }

  private blocksOf(live: LiveSurface): { blocks: Json[] | undefined; where: string } {
    if (live.kind === 'view') {
      return { blocks: live.view.definition.blocks as Json[], where: `view ${live.view.id} (${live.view.callbackId})` };
    }
    return { blocks: live.message.blocks, where: `message ${live.message.channel}/${live.message.ts}` };
  }

  private stateOf(live: LiveSurface): Record<string, Record<string, Json>> {
    if (live.kind === 'view') return live.view.stateValues;
    const key = `${live.message.channel}/${live.message.ts}`;
    const s = computeState(live.message.blocks, this.messageState.get(key));
    this.messageState.set(key, s);
    return s;
  }

  private setState(live: LiveSurface, values: Record<string, Record<string, Json>>): void {
    if (live.kind === 'view') live.view.stateValues = values;
    else this.messageState.set(`${live.message.channel}/${live.message.ts}`, values);
  }

  private containerOf(live: LiveSurface): Json {
    const store = this.slack.store;
    if (live.kind === 'view') {
      return { container: { type: 'view', view_id: live.view.id }, view: store.slackView(live.view) };
    }
    const m = live.message;
    const channel = store.channels.get(m.channel);
    const out: Json = {
      container: { type: 'message', message_ts: m.ts, channel_id: m.channel, is_ephemeral: !!m.ephemeralUser },
      channel: { id: m.channel, name: channel?.name ?? (m.channel.startsWith('D') ? 'directmessage' : m.channel) },
    };
    // Slack includes the message only for non-ephemeral messages.
    if (!m.ephemeralUser) out.message = store.slackMessage(m);
    return out;
  }

  private async sendBlockActions(live: LiveSurface, userId: string, action: Json): Promise<DriverResponse> {
    const payload: Json = {
      type: 'block_actions',
      ...this.envelopeBase(userId),
      trigger_id: this.slack.issueTriggerId(userId),
      ...this.containerOf(live),
      state: { values: structuredClone(this.stateOf(live)) },
      actions: [action],
    };
    if (live.kind === 'message') {
      payload.response_url = this.slack.newResponseUrl({
        channelId: live.message.channel,
        userId,
        messageTs: live.message.ts,
      });
    }
    return this.sendInteractive(payload, CHANNEL_ACK.block_actions);
  }

  /**
   * What Slack does with a slash command's ack body: shows it as a message, to the user only unless it says
   * `response_type: 'in_channel'`; content Slack refuses shows as the error Slack prints instead.
   */
  private showCommandAck(command: string, channelId: string, userId: string, res: DriverResponse): void {
    if (res.status !== 200 || res.body === undefined || res.body === '') return;
    const body: Json = typeof res.body === 'string' ? { text: res.body } : isObj(res.body) ? res.body : {};
    const store = this.slack.store;
    const inChannel = body.response_type === 'in_channel';
    let content: ReturnType<typeof messageContent>;
    try {
      content = messageContent(body, { requireContent: false });
    } catch (e) {
      if (!(e instanceof SlackApiError)) throw e;
      content = { text: `${command} failed with the error "${e.error}"`, blocks: undefined, attachments: undefined };
    }
    if (content.text === undefined && !content.blocks?.length && !content.attachments?.length) return;
    store.addMessage({ channel: channelId, via: 'ack', ...content, ephemeralUser: inChannel ? undefined : userId });
    store.changed();
  }

  /** What Slack does with the view after the app acked a view_submission. */
  private applyResponseAction(v: StoredView, body: unknown): void {
    const store = this.slack.store;
    const action = isObj(body) ? body.response_action : undefined;
    if (action === 'errors') {
      const errors = isObj(body) && isObj(body.errors) ? body.errors : {};
      v.errors = Object.fromEntries(Object.entries(errors).map(([block, message]) => [block, String(message)]));
      return;
    }
    if (action === 'clear') {
      store.closeViews(v.userId);
      return;
    }
    if (action === 'update' || action === 'push') {
      const next = isObj(body) && isObj(body.view) ? body.view : undefined;
      const problems = next
        ? viewProblems(next, (id) => store.usableInBlocks(id))
        : ['[ERROR] missing required field: view'];
      if (problems.length > 0) throw new SlackClientError(`Slack rejects the ${action} view: ${problems.join('; ')}`);
      if (action === 'update') {
        store.replaceView(v, next!);
        return;
      }
      const stack = store.openStack(v.userId);
      if (stack.length >= MAX_VIEW_STACK) throw new SlackClientError('Slack rejects the push: push_limit_reached');
      const pushed = store.createView(v.userId, next!, { root: stack[0], previous: v.id });
      store.stacks.set(v.userId, [...stack, pushed.id]);
      return;
    }
    store.closeViews(v.userId, 1);
  }

  private async sendInteractive(payload: Json, acceptsResponsePayload: boolean): Promise<DriverResponse> {
    if (this.opts.socket) return this.viaSocket('interactive', payload, acceptsResponsePayload);
    return this.post(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
  }

  private async viaSocket(type: EnvelopeType, payload: Json, acceptsResponsePayload: boolean): Promise<DriverResponse> {
    const ack = await this.slack.socketServer.send(type, payload, {
      acceptsResponsePayload,
      ackTimeoutMs: this.opts.ackTimeoutMs,
    });
    if (!ack.acked) return { status: 408, body: undefined };
    const body = ack.payload && Object.keys(ack.payload).length > 0 ? ack.payload : undefined;
    return { status: 200, body };
  }

  private async post(rawBody: string, opts: RawOptions = {}): Promise<DriverResponse> {
    if (!this.opts.eventsUrl) throw new Error('sendRaw/HTTP needs eventsUrl');
    const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (!opts.omitSignature) {
      headers['x-slack-request-timestamp'] = String(ts);
      headers['x-slack-signature'] = opts.signature ?? signSlackRequest(this.opts.signingSecret, rawBody, ts);
    }
    const request: SentRequest = { url: this.opts.eventsUrl, headers: { ...headers }, body: rawBody };
    this.sent = request;
    return this.send(request);
  }

  private async send(request: SentRequest): Promise<DriverResponse> {
    const { url, headers, body: rawBody } = request;
    const res = await fetch(url, { method: 'POST', headers, body: rawBody });
    const text = await res.text();
    return { status: res.status, body: parseAnswer(text, res.headers.get('content-type')), request };
  }
}
