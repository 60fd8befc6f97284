import { DEMO_PURPOSES, type DuoSimulator, type SimPush } from '@duo-desk/duo-sim';
import {
  type ElementKey,
  type FakeSlack,
  type FormValues,
  type InputValue,
  type Json,
  type Screen,
  type SentRequest,
  SlackClientError,
  type SlackDriver,
  type StoredMessage,
  type StoredView,
} from '@duo-desk/slack-testbed';
import { z } from 'zod';
import { ROLE_LABELS } from '../domain/roles.js';
import { LOCAL_PEOPLE } from './local-directory.js';

/**
 * The local workspace: what each person of the stand-in workspace sees (the test bed's visibility rules, nothing
 * decided here) and what they can do there: run a command, click, pick, fill and submit a form, close it. Each is
 * played as Slack plays it (the driver builds the payload from what the bot really sent, signs it at that moment and
 * posts it to the app's real endpoint). The browser page (local-page.ts) and `duo-desk slack` (local-console.ts)
 * both act through this; the phone of a Duo user is the simulator's, answered in-process.
 */

/** A refusal the person can act on (a button that is gone, a form Slack would not send): HTTP 400 with the words. */
export class WorkspaceError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'WorkspaceError';
  }
}

const userIdSchema = z.string().regex(/^[UW][A-Z0-9]{2,20}$/, 'a Slack user id such as U234');
const locatorSchema = z.object({ blockId: z.string().min(1).max(255), actionId: z.string().min(1).max(255) });
const optionSchema = z.object({ value: z.string().max(2000), text: z.string().max(2000).optional() });
const inputValueSchema = z.union([z.string().max(3000), z.array(z.string().max(2000)).max(100), optionSchema]);
const surfaceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('message'), channel: z.string().max(40), ts: z.string().max(40) }),
  z.object({ kind: z.literal('view'), id: z.string().max(40) }),
]);
/** What a modal holds when the person acts (the client sends it with every action from the modal). */
const valuesSchema = z
  .array(z.tuple([locatorSchema, inputValueSchema]))
  .max(100)
  .default([]);

export const actSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('command'), channel: z.string().max(40), text: z.string().max(4000) }),
  z.object({ op: z.literal('click'), surface: surfaceSchema, element: locatorSchema, values: valuesSchema }),
  z.object({
    op: z.literal('select'),
    surface: surfaceSchema,
    element: locatorSchema,
    option: optionSchema,
    values: valuesSchema,
  }),
  z.object({
    op: z.literal('suggest'),
    surface: surfaceSchema,
    element: locatorSchema,
    query: z.string().max(200),
    values: valuesSchema,
  }),
  z.object({ op: z.literal('submit'), view: z.string().max(40), values: valuesSchema }),
  z.object({ op: z.literal('close'), view: z.string().max(40) }),
]);
export type Act = z.infer<typeof actSchema>;

export const actRequestSchema = z.object({ as: userIdSchema, act: actSchema });
export const answerRequestSchema = z.object({
  pushId: z.string().min(1).max(100),
  result: z.enum(['approve', 'deny', 'fraud']),
});

export interface ActResult {
  /** HTTP status the app answered (0: Slack sends nothing for this, e.g. a pick inside a form). */
  status: number;
  body: unknown;
  /** The request as it went to the app, signed when it was sent. */
  request?: SentRequest;
  /** A typeahead's options. */
  options?: Json[];
}

export interface PageFile {
  id: string;
  name: string;
  title: string;
  mimetype: string;
  /** The file's Slack URLs, so an image's `slack_file: { url }` can be matched. */
  urlPrivate: string;
  permalink: string;
}

export interface PageMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: Json[];
  /** Shown to this person only ("Only visible to you"). */
  ephemeral: boolean;
  edited: boolean;
  threadTs?: string;
  fileIds: string[];
}

export interface PageModal {
  id: string;
  title: unknown;
  submit: unknown;
  close: unknown;
  blocks: Json[];
  /** `state.values` as Slack's client holds them (initial values, picks already made). */
  values: Record<string, Record<string, Json>>;
  /** The app's `response_action: errors`, by block_id. */
  errors: Record<string, string>;
  callbackId: string;
}

export interface PageScreen {
  userId: string;
  conversations: Array<{ id: string; name: string; kind: 'channel' | 'dm'; messages: PageMessage[] }>;
  modals: PageModal[];
  files: PageFile[];
  /** Display names for mentions: every person, and the channels this person is in (others read as private). */
  names: { users: Record<string, string>; channels: Record<string, string> };
}

export interface PhoneState {
  /** False when local mode talks to a real Duo tenant: answer on the real phone. */
  simulator: boolean;
  users: Array<{ username: string; purpose: string; pending: number }>;
  pushes: Array<{ pushId: string; username: string; device: string; confirmationCode: string; sentAt: string }>;
  enrollmentEmails: Array<{ username: string; email: string; sentAt: string; validDays: number }>;
}

export class LocalWorkspace {
  constructor(
    private readonly slack: FakeSlack,
    private readonly driver: SlackDriver,
    private readonly duo: DuoSimulator | undefined,
  ) {}

  /** The people to switch between, with what they are in the product. */
  people() {
    return LOCAL_PEOPLE.map((p) => ({
      id: p.id,
      name: p.name,
      realName: p.realName,
      role: p.role ? ROLE_LABELS[p.role] : null,
      approver: p.approver,
      otherWorkspace: p.teamId ?? null,
    }));
  }

  onChange(listener: () => void): () => void {
    return this.slack.onChange(listener);
  }

  screen(userId: string): PageScreen {
    const s = this.slack.screen(this.person(userId));
    const users: Record<string, string> = {};
    for (const u of this.slack.store.users.values()) users[u.id] = u.name;
    const channels: Record<string, string> = {};
    for (const c of s.conversations) if (c.kind === 'channel') channels[c.id] = c.name;
    return {
      userId,
      conversations: s.conversations.map((c) => ({
        id: c.id,
        name: c.name,
        kind: c.kind,
        messages: c.messages.map(pageMessage),
      })),
      modals: s.modals.map(pageModal),
      files: s.fileIds.map((id) => this.pageFile(id)),
      names: { users, channels },
    };
  }

  /** A file's bytes, for a person who has it on screen. */
  file(userId: string, fileId: string): { bytes: Buffer; mimetype: string } | undefined {
    if (!this.slack.canSeeFile(this.person(userId), fileId)) return undefined;
    const f = this.slack.files().find((x) => x.id === fileId);
    if (!f?.bytes) return undefined;
    return { bytes: f.bytes, mimetype: this.pageFile(fileId).mimetype };
  }

  async act(userId: string, act: Act): Promise<ActResult> {
    const who = this.person(userId);
    return this.refusingClientErrors(async () => {
      switch (act.op) {
        case 'command':
          return this.command(who, act.channel, act.text);
        case 'click': {
          const surface = await this.surface(who, act.surface, act.values);
          return this.driver.clickButton(surface, act.element, who);
        }
        case 'select': {
          const surface = await this.surface(who, act.surface, act.values);
          return this.driver.selectOption(surface, act.element, act.option, who);
        }
        case 'suggest': {
          const surface = await this.surface(who, act.surface, act.values);
          return this.driver.suggest(surface, act.element, act.query, who);
        }
        case 'submit':
          return this.driver.submitView(this.modal(who, act.view), who, act.values);
        case 'close':
          return this.driver.closeView(this.modal(who, act.view), who);
      }
    });
  }

  /** A slash command typed into a conversation the person is in; only `/duo` exists in this workspace. */
  async command(userId: string, channelId: string, text: string): Promise<ActResult> {
    const who = this.person(userId);
    if (!this.slack.screen(who).conversations.some((c) => c.id === channelId))
      throw new WorkspaceError(`${channelId} is not a conversation you are in`);
    const m = /^\s*(\/\S+)\s*([\s\S]*)$/.exec(text);
    if (!m) throw new WorkspaceError('Only slash commands reach duo-desk here: type /duo help');
    if (m[1] !== '/duo') throw new WorkspaceError(`${m[1]} is not a valid command. In this workspace there is /duo`);
    return this.driver.command(who, m[2]!.trim(), { channelId });
  }

  // The terminal's way in: by what a person reads (button text, input label), on the newest surface that has it.

  async clickByText(userId: string, text: string): Promise<ActResult> {
    const who = this.person(userId);
    const top = this.slack.screen(who).modals.at(-1);
    // A form's own buttons are not blocks: its submit and close.
    if (top && plainText(top.definition.close) === text && !buttonsIn(top.definition.blocks as Json[]).includes(text))
      return this.refusingClientErrors(() => this.driver.closeView(top, who));
    if (top && plainText(top.definition.submit) === text && !buttonsIn(top.definition.blocks as Json[]).includes(text))
      return this.refusingClientErrors(() => this.driver.submitView(top, who));
    return this.refusingClientErrors(async () => {
      const surface = this.newestWith(who, (blocks) => buttonsIn(blocks).includes(text));
      if (!surface) throw new WorkspaceError(`no button "${text}" on ${who}'s screen`);
      return this.driver.clickButton(surface, text, who);
    });
  }

  async selectByLabel(userId: string, label: string, option: string): Promise<ActResult> {
    const who = this.person(userId);
    return this.refusingClientErrors(async () => {
      const surface = this.newestWith(who, (blocks) => selectLabelsIn(blocks).includes(label));
      if (!surface) throw new WorkspaceError(`no menu "${label}" on ${who}'s screen`);
      return this.driver.selectOption(surface, label, option, who);
    });
  }

  async submitTop(userId: string, values: Array<[string, InputValue]>): Promise<ActResult> {
    const who = this.person(userId);
    const top = this.slack.screen(who).modals.at(-1);
    if (!top) throw new WorkspaceError(`${who} has no form open to submit`);
    return this.refusingClientErrors(() => this.driver.submitView(top, who, values));
  }

  // The phone

  phone(username: string | undefined): PhoneState {
    if (!this.duo) return { simulator: false, users: [], pushes: [], enrollmentEmails: [] };
    const pending = this.duo.pendingPushes();
    const users = Object.entries(DEMO_PURPOSES).map(([name, purpose]) => ({
      username: name,
      purpose,
      pending: pending.filter((p) => p.username === name).length,
    }));
    return {
      simulator: true,
      users,
      pushes: pending.filter((p) => p.username === username).map((p) => this.pagePush(p)),
      enrollmentEmails: this.duo.enrollmentOutbox().map((e) => ({
        username: e.username,
        email: e.email,
        sentAt: e.sentAt.toISOString(),
        validDays: Math.round(e.validSecs / 86_400),
      })),
    };
  }

  answerPush(pushId: string, result: 'approve' | 'deny' | 'fraud'): void {
    if (!this.duo) throw new WorkspaceError('local mode uses a real Duo tenant: answer on the real phone');
    if (!this.duo.pendingPushes().some((p) => p.pushId === pushId))
      throw new WorkspaceError('that push is no longer waiting (answered or timed out)', 404);
    this.duo.answerPush(pushId, result);
  }

  // Internals

  private person(userId: string): string {
    const id = userIdSchema.safeParse(userId);
    const u = id.success ? this.slack.store.user(id.data) : undefined;
    if (!u || u.isBot) throw new WorkspaceError(`${String(userId).slice(0, 30)} is not a person in this workspace`);
    return u.id;
  }

  private modal(userId: string, viewId: string): StoredView {
    const v = this.slack.screen(userId).modals.find((m) => m.id === viewId);
    if (!v) throw new WorkspaceError('that form is no longer open');
    return v;
  }

  /** The surface acted on, as this person sees it now; a modal first gets what the person typed into it. */
  private async surface(
    userId: string,
    ref: z.infer<typeof surfaceSchema>,
    values: FormValues,
  ): Promise<StoredView | StoredMessage> {
    if (ref.kind === 'view') {
      const v = this.modal(userId, ref.id);
      return values.length ? this.driver.fill(v, userId, values) : v;
    }
    const screen = this.slack.screen(userId);
    const m = screen.conversations.find((c) => c.id === ref.channel)?.messages.find((x) => x.ts === ref.ts);
    if (!m) throw new WorkspaceError('that message is no longer on your screen');
    return m;
  }

  /** The top modal when it matches, else the newest message that does, across the person's conversations. */
  private newestWith(userId: string, has: (blocks: Json[]) => boolean): StoredView | StoredMessage | undefined {
    const s: Screen = this.slack.screen(userId);
    const top = s.modals.at(-1);
    if (top && has(top.definition.blocks as Json[])) return top;
    const messages = s.conversations.flatMap((c) => c.messages).sort((a, b) => Number(b.ts) - Number(a.ts));
    return messages.find((m) => has(m.blocks ?? []));
  }

  private async refusingClientErrors(fn: () => Promise<ActResult>): Promise<ActResult> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof SlackClientError) throw new WorkspaceError(e.message);
      throw e;
    }
  }

  private pageFile(id: string): PageFile {
    const wire = this.slack.store.slackFile(this.slack.store.files.get(id)!);
    return {
      id,
      name: String(wire.name),
      title: String(wire.title),
      mimetype: String(wire.mimetype),
      urlPrivate: String(wire.url_private),
      permalink: String(wire.permalink),
    };
  }

  private pagePush(p: SimPush): PhoneState['pushes'][number] {
    const phone = this.duo?.getUser(p.username)?.phones.find((x) => x.phone_id === p.phoneId);
    return {
      pushId: p.pushId,
      username: p.username,
      device: phone ? [phone.name || phone.model, phone.number].filter(Boolean).join(', ') : p.phoneId,
      confirmationCode: p.confirmationCode,
      sentAt: new Date(p.sentAtMs).toISOString(),
    };
  }
}

function pageMessage(m: StoredMessage): PageMessage {
  return {
    channel: m.channel,
    ts: m.ts,
    text: m.text ?? '',
    blocks: (m.blocks ?? []) as Json[],
    ephemeral: m.ephemeralUser !== undefined,
    edited: m.history.length > 0,
    ...(m.threadTs ? { threadTs: m.threadTs } : {}),
    fileIds: m.fileIds ?? [],
  };
}

function pageModal(v: StoredView): PageModal {
  const d = v.definition;
  return {
    id: v.id,
    title: d.title,
    submit: d.submit ?? null,
    close: d.close ?? null,
    blocks: (d.blocks ?? []) as Json[],
    values: v.stateValues,
    errors: v.errors ?? {},
    callbackId: v.callbackId ?? '',
  };
}

const plainText = (t: unknown) => (t && typeof t === 'object' ? String((t as Json).text ?? '') : '');

/** Elements of blocks a person can click or pick: actions blocks, section accessories, input elements. */
function elementsIn(blocks: Json[]): Array<{ block: Json; element: Json }> {
  const out: Array<{ block: Json; element: Json }> = [];
  for (const b of blocks) {
    if (b.type === 'actions') for (const e of (b.elements as Json[]) ?? []) out.push({ block: b, element: e });
    if (b.type === 'section' && b.accessory) out.push({ block: b, element: b.accessory as Json });
    if (b.type === 'input' && b.element) out.push({ block: b, element: b.element as Json });
  }
  return out;
}

const buttonsIn = (blocks: Json[]) =>
  elementsIn(blocks)
    .filter((e) => e.element.type === 'button')
    .map((e) => plainText(e.element.text));

/** Menus by the names the driver finds them by: an input's label, a section's text, or the ids. */
const selectLabelsIn = (blocks: Json[]): ElementKey[] =>
  elementsIn(blocks)
    .filter((e) => /select|radio_buttons|checkboxes|overflow/.test(String(e.element.type)))
    .flatMap((e) => [
      plainText(e.block.label),
      plainText(e.block.text),
      String(e.block.block_id),
      String(e.element.action_id),
    ]);
