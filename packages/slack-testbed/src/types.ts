/** Shapes shared by the fake Slack Web API, its Socket Mode server and the driver. */

/** Where the test bed reads time (the app's Clock fits): tests move it to expire triggers and response URLs. */
export interface Clock {
  now(): Date;
}

/** The log calls the test bed makes (the app's Logger fits). */
export interface TestbedLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): TestbedLogger;
}

export type Json = Record<string, unknown>;
/** A Block Kit block or element as the app sent it (kept loose on purpose: the fake checks what Slack checks). */
export type Block = Json;

export interface FakeUser {
  id: string;
  teamId?: string;
  name: string;
  realName?: string;
  email?: string;
  isBot?: boolean;
  deleted?: boolean;
  isAdmin?: boolean;
  tz?: string;
  /** A guest: multi-channel (restricted) or single-channel (ultra restricted). */
  isRestricted?: boolean;
  isUltraRestricted?: boolean;
}

export interface FakeChannel {
  id: string;
  name: string;
  isPrivate?: boolean;
  /** Who is in the channel (and sees its messages); undefined: every person of the workspace's own team. */
  members?: string[];
  /** false: the bot is not in the channel (posting and reading history answer not_in_channel). */
  botMember?: boolean;
}

/** One recorded request, in arrival order. */
export interface RecordedCall {
  method: string;
  /** Parsed arguments: form fields, JSON-stringified objects decoded (view, blocks, …). */
  args: Json;
  /** Epoch milliseconds. */
  at: number;
  /** Bearer token or `token` field, if any. */
  token?: string;
  /** Set when the call was answered by a fault from `failNext`. */
  fault?: Fault;
  /** What the fake answered (ok/error), for diagnostics. */
  outcome?: { status: number; error?: string };
}

export type Fault = { status: 429; retryAfter: number } | { status: 500 } | { error: string };

export interface MessageVersion {
  text?: string;
  blocks?: Block[];
  attachments?: unknown[];
  at: number;
  via: string;
}

export interface StoredMessage {
  kind: 'message';
  channel: string;
  ts: string;
  /** The bot user that wrote it. */
  user: string;
  text?: string;
  blocks?: Block[];
  attachments?: unknown[];
  metadata?: unknown;
  threadTs?: string;
  /** Set for ephemeral messages: the only user who sees it. */
  ephemeralUser?: string;
  /** The API (or response_url, or a slash command's ack body) that created it. */
  via: 'chat.postMessage' | 'chat.postEphemeral' | 'response_url' | 'files.completeUploadExternal' | 'ack';
  fileIds?: string[];
  deleted: boolean;
  postedAt: number;
  /** Earlier versions, oldest first (chat.update / replace_original push the previous state here). */
  history: MessageVersion[];
}

export interface StoredView {
  kind: 'view';
  id: string;
  type: 'modal' | 'home';
  userId: string;
  teamId: string;
  hash: string;
  externalId?: string;
  callbackId?: string;
  privateMetadata?: string;
  /** The view as the app last sent it, with Slack-generated block_id / action_id filled in. */
  definition: Json;
  /** `state.values` as the Slack client holds it (initial values plus what the driver typed/selected). */
  stateValues: Record<string, Record<string, Json>>;
  rootViewId: string;
  previousViewId: string | null;
  /** Still on the user's screen (in the modal stack, or the published Home tab). */
  open: boolean;
  openedAt: number;
  updatedAt: number;
  /** Earlier definitions, oldest first. */
  history: Json[];
  /**
   * What the app answered to the last submission with `response_action: 'errors'` (block_id → message): the
   * Slack client shows each under its input until the view changes or is submitted again.
   */
  errors?: Record<string, string>;
}

export interface StoredFile {
  id: string;
  filename: string;
  title?: string;
  length: number;
  altText?: string;
  snippetType?: string;
  /** Bytes received at the upload URL (undefined until uploaded). */
  bytes?: Buffer;
  completed: boolean;
  /** Where completeUploadExternal shared it (undefined: private to the bot). */
  channelId?: string;
  /** For DMs: the user at the other end. */
  userId?: string;
  initialComment?: string;
  threadTs?: string;
  messageTs?: string;
  createdAt: number;
  /**
   * Real time (ms) when Slack has finished processing the upload: before that files.info reports no type
   * and blocks that name the file are refused (uploads complete asynchronously in Slack).
   */
  processedAt?: number;
  /** files.delete was called: gone for everyone, and refused in blocks. */
  deleted?: boolean;
}

export interface ResponseUrlContext {
  channelId: string;
  userId: string;
  /** The message the interaction came from (enables replace_original / delete_original). */
  messageTs?: string;
}

/** A request exactly as the driver sent it to the app over HTTP (signed at the moment it was sent). */
export interface SentRequest {
  url: string;
  headers: Record<string, string>;
  /** The raw form-urlencoded body the signature covers. */
  body: string;
}

export interface DriverResponse {
  /** HTTP status Slack saw (0: nothing was sent, e.g. a non-dispatching select or a close without notify_on_close). */
  status: number;
  /** Parsed ack body: JSON object, text, or undefined when empty. */
  body: unknown;
  /** What went over the wire (HTTP mode; absent when nothing was sent or it went through Socket Mode). */
  request?: SentRequest;
}
