/** Everything the fake Slack remembers: workspace directory, messages, views, files, triggers, response URLs. */
import { computeState, withGeneratedIds } from './blocks.js';
import { SlackApiError } from './errors.js';
import { slackId, stableId, TsGenerator, triggerId, viewHash } from './ids.js';
import type {
  Clock,
  FakeChannel,
  FakeUser,
  Json,
  ResponseUrlContext,
  StoredFile,
  StoredMessage,
  StoredView,
} from './types.js';

export interface WorkspaceConfig {
  teamId: string;
  teamDomain: string;
  teamName: string;
  enterpriseId?: string;
  appId: string;
  botId: string;
  botUserId: string;
  botToken: string;
  /** When set, apps.connections.open accepts only this app-level token; otherwise any `xapp-` token. */
  appToken?: string;
  /** The legacy verification token Slack puts in request payloads. */
  verificationToken: string;
  clock: Clock;
  /** How long (real time) Slack takes to process a completed upload. */
  fileProcessingMs: number;
  /** The bot token's scopes, answered in every response's x-oauth-scopes header (tests remove one). */
  botScopes: string[];
}

export const TRIGGER_TTL_MS = 3000;
export const RESPONSE_URL_TTL_MS = 30 * 60 * 1000;
export const RESPONSE_URL_MAX_USES = 5;
export const MAX_VIEW_STACK = 3;

interface IssuedTrigger {
  userId: string;
  issuedAt: number;
  used: boolean;
}

interface ResponseUrlRecord {
  context: ResponseUrlContext;
  createdAt: number;
  uses: number;
}

export class SlackStore {
  readonly users = new Map<string, FakeUser>();
  readonly channels = new Map<string, FakeChannel>();
  readonly messages: StoredMessage[] = [];
  readonly views = new Map<string, StoredView>();
  /** Open modal stack per user, bottom first. */
  readonly stacks = new Map<string, string[]>();
  readonly homeViews = new Map<string, string>();
  readonly files = new Map<string, StoredFile>();
  /** Upload URL token → file id. */
  readonly uploadTokens = new Map<string, string>();
  private readonly dmChannels = new Map<string, string>();
  private readonly triggers = new Map<string, IssuedTrigger>();
  private readonly responseUrls = new Map<string, ResponseUrlRecord>();
  private readonly ts = new TsGenerator();
  private readonly listeners = new Set<() => void>();

  constructor(readonly ws: WorkspaceConfig) {}

  /** Calls `listener` after anything a person could see may have changed; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells the listeners (after each Web API call, response_url post, upload, and client-side view change). */
  changed(): void {
    for (const listener of this.listeners) listener();
  }

  now(): number {
    return this.ws.clock.now().getTime();
  }

  nextTs(): string {
    return this.ts.next(this.now());
  }

  // Directory

  addUser(user: FakeUser): void {
    this.users.set(user.id, { teamId: this.ws.teamId, ...user });
  }

  user(id: string): FakeUser | undefined {
    return this.users.get(id);
  }

  addChannel(channel: FakeChannel): void {
    this.channels.set(channel.id, channel);
  }

  /** The stable DM channel between the bot and a user. */
  dmChannelFor(userId: string): string {
    let id = this.dmChannels.get(userId);
    if (!id) {
      id = stableId('D', `${this.ws.teamId}:${userId}`);
      this.dmChannels.set(userId, id);
    }
    return id;
  }

  dmUserOf(channelId: string): string | undefined {
    for (const [user, dm] of this.dmChannels) if (dm === channelId) return user;
    return undefined;
  }

  /**
   * Resolves a `channel` argument. A user id means the bot's DM with that user (Slack opens it).
   * Channel ids the fake has not been told about are accepted (remembered on first use).
   */
  resolveChannel(channel: string | undefined): string {
    if (!channel) throw new SlackApiError('channel_not_found');
    if (/^[UW][A-Z0-9]+$/.test(channel)) {
      if (!this.users.has(channel)) throw new SlackApiError('channel_not_found');
      return this.dmChannelFor(channel);
    }
    if (/^D[A-Z0-9]+$/.test(channel)) {
      if (!this.dmUserOf(channel)) throw new SlackApiError('channel_not_found');
      return channel;
    }
    if (!/^[CG][A-Z0-9]+$/.test(channel)) throw new SlackApiError('channel_not_found');
    if (!this.channels.has(channel)) this.channels.set(channel, { id: channel, name: channel.toLowerCase() });
    return channel;
  }

  // Triggers and response URLs

  issueTriggerId(userId: string): string {
    const id = triggerId();
    this.triggers.set(id, { userId, issuedAt: this.now(), used: false });
    return id;
  }

  /** Consumes a trigger: Slack accepts each once, within 3 s. */
  consumeTrigger(id: unknown): IssuedTrigger {
    if (typeof id !== 'string' || id.length === 0) throw new SlackApiError('invalid_arguments');
    const t = this.triggers.get(id);
    if (!t) throw new SlackApiError('invalid_trigger_id');
    if (t.used || this.now() - t.issuedAt >= TRIGGER_TTL_MS) throw new SlackApiError('expired_trigger_id');
    t.used = true;
    return t;
  }

  newResponseUrlId(context: ResponseUrlContext): string {
    const id = `${this.ws.teamId}/${slackId('', 13)}/${slackId('', 24).toLowerCase()}`;
    this.responseUrls.set(id, { context, createdAt: this.now(), uses: 0 });
    return id;
  }

  /** Counts one use of a response URL; `expired_url` past 30 minutes, `used_url` past 5 uses. */
  useResponseUrl(id: string): ResponseUrlContext {
    const r = this.responseUrls.get(id);
    if (!r) throw new SlackApiError('invalid_url');
    if (this.now() - r.createdAt > RESPONSE_URL_TTL_MS) throw new SlackApiError('expired_url');
    if (r.uses >= RESPONSE_URL_MAX_USES) throw new SlackApiError('used_url');
    r.uses += 1;
    return r.context;
  }

  // Messages

  findMessage(channel: string, ts: string): StoredMessage | undefined {
    return this.messages.find((m) => m.channel === channel && m.ts === ts && !m.deleted);
  }

  addMessage(m: Omit<StoredMessage, 'kind' | 'ts' | 'user' | 'deleted' | 'postedAt' | 'history'>): StoredMessage {
    const stored: StoredMessage = {
      kind: 'message',
      ts: this.nextTs(),
      user: this.ws.botUserId,
      deleted: false,
      postedAt: this.now(),
      history: [],
      ...m,
      blocks: withGeneratedIds(m.blocks),
    };
    this.messages.push(stored);
    return stored;
  }

  /** Message as the Web API returns it. */
  slackMessage(m: StoredMessage): Json {
    const out: Json = {
      type: 'message',
      user: m.user,
      bot_id: this.ws.botId,
      app_id: this.ws.appId,
      team: this.ws.teamId,
      ts: m.ts,
      text: m.text ?? '',
    };
    if (m.blocks) out.blocks = structuredClone(m.blocks);
    if (m.attachments) out.attachments = structuredClone(m.attachments);
    if (m.threadTs) out.thread_ts = m.threadTs;
    if (m.metadata) out.metadata = structuredClone(m.metadata);
    if (m.fileIds) out.files = m.fileIds.map((id) => this.slackFile(this.files.get(id)!));
    if (m.history.length > 0) out.edited = { user: m.user, ts: m.ts };
    return out;
  }

  // Views

  openStack(userId: string): string[] {
    return (this.stacks.get(userId) ?? []).filter((id) => this.views.get(id)?.open);
  }

  createView(userId: string, definition: Json, stack: { root?: string; previous?: string | null }): StoredView {
    const id = slackId('V');
    const blocks = withGeneratedIds(definition.blocks) ?? [];
    const def: Json = { ...structuredClone(definition), blocks };
    const now = this.now();
    const v: StoredView = {
      kind: 'view',
      id,
      type: def.type === 'home' ? 'home' : 'modal',
      userId,
      teamId: this.ws.teamId,
      hash: viewHash(now),
      externalId: typeof def.external_id === 'string' ? def.external_id : undefined,
      callbackId: typeof def.callback_id === 'string' ? def.callback_id : undefined,
      privateMetadata: typeof def.private_metadata === 'string' ? def.private_metadata : undefined,
      definition: def,
      stateValues: computeState(blocks),
      rootViewId: stack.root ?? id,
      previousViewId: stack.previous ?? null,
      open: true,
      openedAt: now,
      updatedAt: now,
      history: [],
    };
    this.views.set(id, v);
    return v;
  }

  /** Replaces a view's definition, keeping what the user typed into inputs that are still there. */
  replaceView(v: StoredView, definition: Json): void {
    const blocks = withGeneratedIds(definition.blocks) ?? [];
    v.history.push(v.definition);
    v.definition = { ...structuredClone(definition), blocks };
    v.errors = undefined;
    v.stateValues = computeState(blocks, v.stateValues);
    v.hash = viewHash(this.now());
    v.updatedAt = this.now();
    v.externalId = typeof definition.external_id === 'string' ? definition.external_id : v.externalId;
    v.callbackId = typeof definition.callback_id === 'string' ? definition.callback_id : undefined;
    v.privateMetadata = typeof definition.private_metadata === 'string' ? definition.private_metadata : undefined;
  }

  findViewByExternalId(externalId: string): StoredView | undefined {
    for (const v of this.views.values()) if (v.externalId === externalId && v.open) return v;
    return undefined;
  }

  /** Closes the top `count` views of a user's stack (all of them when count is undefined). */
  closeViews(userId: string, count?: number): void {
    const stack = this.openStack(userId);
    const n = count ?? stack.length;
    for (const id of stack.slice(stack.length - n)) this.views.get(id)!.open = false;
    this.stacks.set(userId, this.openStack(userId));
  }

  /** View as the Web API and interaction payloads carry it. */
  slackView(v: StoredView): Json {
    const d = v.definition;
    return {
      id: v.id,
      team_id: v.teamId,
      type: v.type,
      title: d.title,
      submit: d.submit ?? null,
      close: d.close ?? null,
      blocks: structuredClone(d.blocks),
      private_metadata: v.privateMetadata ?? '',
      callback_id: v.callbackId ?? '',
      external_id: v.externalId ?? '',
      state: { values: structuredClone(v.stateValues) },
      hash: v.hash,
      clear_on_close: d.clear_on_close === true,
      notify_on_close: d.notify_on_close === true,
      root_view_id: v.rootViewId,
      previous_view_id: v.previousViewId,
      app_id: this.ws.appId,
      app_installed_team_id: this.ws.teamId,
      bot_id: this.ws.botId,
    };
  }

  // Files

  /** Usable in an image block: uploaded and completed, processed, not deleted, and an image. */
  usableInBlocks(fileId: string): boolean {
    const f = this.files.get(fileId);
    return !!f && f.completed && !f.deleted && isProcessed(f) && /^image\/(png|jpeg|gif)$/.test(mimeTypeOf(f.filename));
  }

  slackFile(f: StoredFile): Json {
    const processed = isProcessed(f);
    const out: Json = {
      id: f.id,
      created: Math.floor(f.createdAt / 1000),
      timestamp: Math.floor(f.createdAt / 1000),
      name: f.filename,
      title: f.title ?? f.filename,
      mimetype: processed ? mimeTypeOf(f.filename) : '',
      filetype: processed ? (f.filename.split('.').pop() ?? 'binary').toLowerCase() : '',
      user: this.ws.botUserId,
      size: f.bytes?.length ?? 0,
      is_external: false,
      is_public: !!f.channelId && !f.channelId.startsWith('D'),
      url_private: `https://files.slack.com/files-pri/${this.ws.teamId}-${f.id}/${encodeURIComponent(f.filename)}`,
      permalink: `https://${this.ws.teamDomain}.slack.com/files/${this.ws.botUserId}/${f.id}/${encodeURIComponent(f.filename)}`,
    };
    if (f.channelId) out.channels = [f.channelId];
    return out;
  }

  // Directory objects

  slackUser(u: FakeUser): Json {
    const realName = u.realName ?? u.name;
    return {
      id: u.id,
      team_id: u.teamId ?? this.ws.teamId,
      name: u.name,
      deleted: u.deleted === true,
      real_name: realName,
      tz: u.tz ?? 'Etc/UTC',
      is_admin: u.isAdmin === true,
      is_owner: false,
      is_restricted: u.isRestricted === true || u.isUltraRestricted === true,
      is_ultra_restricted: u.isUltraRestricted === true,
      is_bot: u.isBot === true,
      is_app_user: false,
      updated: Math.floor(this.now() / 1000),
      profile: {
        real_name: realName,
        display_name: u.name,
        ...(u.email && !u.isBot ? { email: u.email } : {}),
        ...(u.isBot ? { bot_id: this.ws.botId } : {}),
        team: u.teamId ?? this.ws.teamId,
      },
    };
  }
}

const isProcessed = (f: StoredFile) => f.completed && Date.now() >= (f.processedAt ?? 0);

function mimeTypeOf(filename: string): string {
  const ext = filename.split('.').pop()?.toLowerCase();
  const types: Record<string, string> = {
    txt: 'text/plain',
    csv: 'text/csv',
    json: 'application/json',
    png: 'image/png',
    jpg: 'image/jpeg',
    jpeg: 'image/jpeg',
    gif: 'image/gif',
    pdf: 'application/pdf',
  };
  return types[ext ?? ''] ?? 'application/octet-stream';
}
