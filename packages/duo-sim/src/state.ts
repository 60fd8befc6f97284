/**
 * In-memory Duo tenant: directory, bypass codes, verification pushes, lockouts and the enrollment outbox.
 * Time comes from the injected clock. Errors are thrown as SimFail and rendered as Duo FAIL envelopes.
 */

import { randomUUID } from 'node:crypto';
import { makeUser } from './build.js';
import { DEMO_DIRECTORIES } from './demo-directory.js';
import { randomDigits, randomId } from './ids.js';
import type {
  AutoAnswer,
  Clock,
  EnrollmentEmail,
  PushAnswer,
  SimActivation,
  SimBypassCode,
  SimDirectory,
  SimDirectoryPerson,
  SimPush,
  SimSettings,
  SimSms,
  SimUser,
  SimUserStatus,
} from './types.js';

export class SimFail extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

export const notFound = () => new SimFail(404, 40401, 'Resource not found');
export const missingParam = (p: string) => new SimFail(400, 40001, 'Missing required request parameters', p);
export const invalidParam = (p: string) => new SimFail(400, 40002, 'Invalid request parameters', p);

const MAX_CODES_PER_USER = 100;
const SETTABLE_STATUSES = new Set(['active', 'bypass', 'disabled']);

export interface SimStateOptions {
  clock: Clock;
  pushTimeoutMs: number;
  lockoutThreshold: number;
}

export class SimState {
  users: SimUser[] = [];
  private byId = new Map<string, SimUser>();
  private byName = new Map<string, SimUser>();
  private bypass = new Map<string, SimBypassCode[]>();
  /** Every code the API handed out (deleted and expired ones too), so tests can scan for leaks. */
  readonly issuedCodes: Array<{ userId: string; code: string }> = [];
  private pushes = new Map<string, SimPush>();
  private autoAnswers = new Map<string, AutoAnswer>();
  private failures = new Map<string, number>();
  outbox: EnrollmentEmail[] = [];
  /** Device help (devices.ts): every SMS sent, every activation issued, the current SMS passcode batches. */
  sms: SimSms[] = [];
  readonly activations: SimActivation[] = [];
  smsPasscodes = new Map<string, string[]>();
  settings!: SimSettings;
  directories = new Map<string, SimDirectory>();

  /** Failed authentications before a user is locked out (Duo's lockout_threshold setting). */
  get lockoutThreshold(): number {
    return this.opts.lockoutThreshold;
  }

  constructor(
    private readonly opts: SimStateOptions,
    private readonly seed: () => SimUser[],
  ) {
    this.reset();
  }

  nowMs(): number {
    return this.opts.clock.now().getTime();
  }

  nowSec(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  reset(): void {
    this.users = [];
    this.byId.clear();
    this.byName.clear();
    this.bypass.clear();
    this.pushes.clear();
    this.autoAnswers.clear();
    this.failures.clear();
    this.outbox = [];
    this.sms = [];
    this.smsPasscodes.clear();
    this.settings = this.defaultSettings();
    this.directories.clear();
    for (const u of this.seed()) this.insert(structuredClone(u));
    for (const d of DEMO_DIRECTORIES) {
      const people: Record<string, SimDirectoryPerson> = {};
      for (const name of d.usernames) {
        const u = this.findByUsername(name);
        if (u?.external_id) people[name] = { realname: u.realname, email: u.email, external_id: u.external_id };
      }
      this.directories.set(d.directory_key, { directory_key: d.directory_key, name: d.name, people });
    }
  }

  /**
   * The demo tenant's settings: Duo's defaults, except that its owner lets Help Desk send enrollment
   * emails (Duo's default for helpdesk_can_send_enroll_email is false).
   */
  private defaultSettings(): SimSettings {
    return {
      name: 'Example Corp (simulated)',
      helpdesk_bypass: 'allow',
      helpdesk_bypass_expiration: null,
      helpdesk_can_send_enroll_email: true,
      user_managers_can_put_users_in_bypass: true,
      lockout_threshold: this.opts.lockoutThreshold,
      lockout_expire_duration: null,
      inactive_user_expiration: 0,
      enrollment_universal_prompt_enabled: true,
      fraud_email: '',
      fraud_email_enabled: false,
      sms_batch: 1,
      sms_expiration: 0,
      timezone: 'UTC',
    };
  }

  /** Changes settings as POST /admin/v1/settings does: only the fields given, each checked. */
  updateSettings(changes: Partial<Record<keyof SimSettings, unknown>>): SimSettings {
    const next = { ...this.settings };
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined) continue;
      switch (k) {
        case 'helpdesk_bypass':
          if (v !== 'allow' && v !== 'limit' && v !== 'deny') throw invalidParam(k);
          next.helpdesk_bypass = v;
          break;
        case 'helpdesk_bypass_expiration': {
          const n = v === null ? null : Number(v);
          if (n !== null && (!Number.isInteger(n) || n < 1)) throw invalidParam(k);
          next.helpdesk_bypass_expiration = n;
          break;
        }
        case 'helpdesk_can_send_enroll_email':
        case 'user_managers_can_put_users_in_bypass': {
          const b = v === true || v === 'true' ? true : v === false || v === 'false' ? false : null;
          if (b === null) throw invalidParam(k);
          next[k] = b;
          break;
        }
        case 'lockout_threshold': {
          const n = Number(v);
          if (!Number.isInteger(n) || n < 1 || n > 9999) throw invalidParam(k);
          next.lockout_threshold = n;
          break;
        }
        default:
          if (!(k in next)) throw invalidParam(k);
      }
    }
    this.settings = next;
    return { ...next };
  }

  private insert(u: SimUser): SimUser {
    const key = u.username.toLowerCase();
    if (this.byName.has(key) || this.byId.has(u.user_id)) throw invalidParam('username');
    this.users.push(u);
    this.byId.set(u.user_id, u);
    this.byName.set(key, u);
    for (const alias of Object.values(u.aliases)) this.byName.set(alias.toLowerCase(), u);
    if (u.seedBypassCodes) {
      const list: SimBypassCode[] = [];
      for (let i = 0; i < u.seedBypassCodes; i++) list.push(this.newCode(u.user_id, 1, 0));
      this.bypass.set(u.user_id, list);
      delete u.seedBypassCodes;
    }
    return u;
  }

  addUser(p: Partial<SimUser> & { username: string }): SimUser {
    return this.insert(makeUser(p));
  }

  /** Username or alias, case-insensitive. */
  findByUsername(name: string): SimUser | undefined {
    return this.byName.get(name.toLowerCase());
  }

  findByEmail(email: string): SimUser[] {
    const e = email.toLowerCase();
    return this.users.filter((u) => u.email && u.email.toLowerCase() === e);
  }

  userById(id: string): SimUser {
    const u = this.byId.get(id);
    if (!u) throw notFound();
    return u;
  }

  updateUser(
    id: string,
    fields: Record<string, string>,
    more: { aliases?: Record<string, string>; enableAutoPrompt?: boolean } = {},
  ): SimUser {
    const u = this.userById(id);
    if (more.aliases) {
      // Named slots are set (a blank value clears the slot); every alias unique across all users.
      const next = { ...u.aliases };
      for (const [k, v] of Object.entries(more.aliases)) {
        if (v) next[k] = v;
        else delete next[k];
      }
      const names = [u.username, ...Object.values(next)].map((n) => n.toLowerCase());
      if (new Set(names).size !== names.length) throw invalidParam('aliases');
      for (const n of names) {
        const holder = this.byName.get(n);
        if (holder && holder !== u) throw invalidParam('aliases');
      }
      for (const old of Object.values(u.aliases)) this.byName.delete(old.toLowerCase());
      u.aliases = next;
      for (const a of Object.values(next)) this.byName.set(a.toLowerCase(), u);
    }
    if (more.enableAutoPrompt !== undefined) u.enable_auto_prompt = more.enableAutoPrompt;
    if (fields.status !== undefined) {
      const status = fields.status.toLowerCase();
      if (!SETTABLE_STATUSES.has(status)) throw invalidParam('status');
      u.status = status as SimUserStatus;
      u.lockout_reason = null;
      this.failures.delete(u.user_id);
    }
    for (const key of ['realname', 'firstname', 'lastname', 'email', 'notes'] as const) {
      if (fields[key] !== undefined) u[key] = fields[key];
    }
    return u;
  }

  /**
   * POST /admin/v1/users/directorysync/[key]/syncuser: creates or updates the user from the source
   * directory (name, email, external_id, last sync; Disabled follows the directory), or sends a synced
   * user no longer in it to the Trash. An unknown directory or a person in neither place: 404.
   */
  syncUser(directoryKey: string, username: string): void {
    const dir = this.directories.get(directoryKey);
    if (!dir) throw notFound();
    const person = dir.people[username.toLowerCase()] ?? dir.people[username];
    const existing = this.findByUsername(username);
    const now = this.nowSec();
    if (!person) {
      if (!existing?.external_id) throw notFound();
      existing.status = 'pending deletion';
      existing.last_directory_sync = now;
      return;
    }
    const u = existing ?? this.addUser({ username, created: now, last_login: null });
    u.realname = person.realname;
    u.email = person.email;
    u.external_id = person.external_id;
    u.last_directory_sync = now;
    if (person.disabled) u.status = 'disabled';
    else if (u.status === 'disabled' || u.status === 'pending deletion') u.status = 'active';
  }

  /** POST /admin/v1/users: usernames and aliases are unique across users (case-insensitive). */
  createUser(p: { username: string; realname?: string; email?: string; aliases?: Record<string, string> }): SimUser {
    const names = [p.username, ...Object.values(p.aliases ?? {})].map((n) => n.toLowerCase());
    if (names.some((n) => this.byName.has(n))) throw invalidParam('username');
    if (new Set(names).size !== names.length) throw invalidParam('aliases');
    return this.addUser({
      username: p.username,
      realname: p.realname ?? '',
      email: p.email ?? '',
      aliases: p.aliases ?? {},
      created: this.nowSec(),
      last_login: null,
      is_enrolled: false,
      phones: [],
    });
  }

  /**
   * POST /admin/v1/users/bulk_send_to_trash and bulk_restore (user_id_list, at most 100). Duo refuses users
   * a directory sync manages (only a sync trashes or restores them): nothing changes then. A restored user
   * is Disabled until someone sets Active.
   */
  sendToTrash(ids: string[]): void {
    const users = this.bulkTargets(ids);
    for (const u of users) u.status = 'pending deletion';
  }

  restoreFromTrash(ids: string[]): void {
    const users = this.bulkTargets(ids);
    if (users.some((u) => u.status !== 'pending deletion')) throw invalidParam('user_id_list');
    for (const u of users) u.status = 'disabled';
  }

  private bulkTargets(ids: string[]): SimUser[] {
    if (!ids.length || ids.length > 100) throw invalidParam('user_id_list');
    const users = ids.map((id) => this.userById(id));
    if (users.some((u) => u.external_id || u.last_directory_sync != null)) throw invalidParam('user_id_list');
    return users;
  }

  /** DELETE /admin/v1/users/[user_id]: immediate and permanent (not the Trash); its codes and devices go too. */
  deleteUser(id: string): void {
    const u = this.userById(id);
    this.users = this.users.filter((x) => x !== u);
    this.byId.delete(u.user_id);
    for (const [name, holder] of this.byName) if (holder === u) this.byName.delete(name);
    this.bypass.delete(u.user_id);
  }

  setDirectoryUser(directoryKey: string, username: string, person: SimDirectoryPerson | null): void {
    const dir = this.directories.get(directoryKey);
    if (!dir) throw notFound();
    if (person) dir.people[username.toLowerCase()] = { ...person };
    else delete dir.people[username.toLowerCase()];
  }

  failAuthentication(username: string, times = 1): SimUser {
    const u = this.findByUsername(username);
    if (!u) throw notFound();
    const n = (this.failures.get(u.user_id) ?? 0) + times;
    this.failures.set(u.user_id, n);
    if (n >= this.opts.lockoutThreshold && (u.status === 'active' || u.status === 'locked out')) {
      u.status = 'locked out';
      u.lockout_reason = 'Failed Attempts';
    }
    return u;
  }

  // ---- bypass codes ----

  private newCode(userId: string, reuseCount: number, validSecs: number): SimBypassCode {
    const created = this.nowSec();
    return {
      bypass_code_id: randomId('DB'),
      userId,
      code: randomDigits(9),
      created,
      expiration: validSecs > 0 ? created + validSecs : null,
      reuse_count: reuseCount > 0 ? reuseCount : null,
    };
  }

  /** Live (non-expired) codes of a user; expired ones are dropped. */
  bypassCodesOf(userId: string): SimBypassCode[] {
    const now = this.nowSec();
    const live = (this.bypass.get(userId) ?? []).filter((c) => c.expiration === null || c.expiration > now);
    this.bypass.set(userId, live);
    return live;
  }

  createBypassCodes(
    userId: string,
    opts: { count: number; reuseCount: number; validSecs: number; preserveExisting: boolean; codes?: string[] },
  ): string[] {
    this.userById(userId);
    const existing = opts.preserveExisting ? this.bypassCodesOf(userId) : [];
    const n = opts.codes ? opts.codes.length : opts.count;
    if (existing.length + n > MAX_CODES_PER_USER) {
      throw new SimFail(500, 50001, 'Unknown internal server error', 'bypass code limit reached');
    }
    if (opts.codes?.some((c) => existing.some((e) => e.code === c))) throw invalidParam('codes');
    const fresh: SimBypassCode[] = [];
    for (let i = 0; i < n; i++) {
      const c = this.newCode(userId, opts.reuseCount, opts.validSecs);
      if (opts.codes) c.code = opts.codes[i]!;
      fresh.push(c);
    }
    this.bypass.set(userId, [...existing, ...fresh]);
    for (const c of fresh) this.issuedCodes.push({ userId, code: c.code });
    return fresh.map((c) => c.code);
  }

  findBypassCode(id: string): SimBypassCode | undefined {
    for (const [userId, list] of this.bypass) {
      const c = list.find((x) => x.bypass_code_id === id);
      if (c) return this.bypassCodesOf(userId).includes(c) ? c : undefined;
    }
    return undefined;
  }

  deleteBypassCode(id: string): boolean {
    for (const [userId, list] of this.bypass) {
      const i = list.findIndex((c) => c.bypass_code_id === id);
      if (i >= 0) {
        list.splice(i, 1);
        this.bypass.set(userId, list);
        return true;
      }
    }
    return false;
  }

  allBypassCodes(): SimBypassCode[] {
    return [...this.bypass.keys()].flatMap((id) => this.bypassCodesOf(id));
  }

  // ---- verification pushes ----

  sendPush(userId: string, phoneId: string): SimPush {
    const u = this.userById(userId);
    const phone = u.phones.find((p) => p.phone_id === phoneId);
    if (!phone?.activated || !phone.capabilities.includes('push')) throw invalidParam('phone_id');
    const push: SimPush = {
      pushId: randomUUID(),
      userId,
      username: u.username,
      phoneId,
      confirmationCode: randomDigits(6),
      sentAtMs: this.nowMs(),
      result: 'waiting',
    };
    this.pushes.set(push.pushId, push);
    return push;
  }

  /** The live push (auto-answer applied), or undefined once unknown or past the result window. */
  livePush(pushId: string): SimPush | undefined {
    const p = this.pushes.get(pushId);
    if (!p) return undefined;
    const age = this.nowMs() - p.sentAtMs;
    if (age >= this.opts.pushTimeoutMs) return undefined;
    const auto = this.autoAnswers.get(p.username.toLowerCase());
    if (p.result === 'waiting' && auto && age >= auto.afterMs) p.result = auto.result;
    return p;
  }

  answerPush(pushId: string, result: PushAnswer): void {
    if (!['approve', 'deny', 'fraud'].includes(result)) throw invalidParam('result');
    const p = this.livePush(pushId);
    if (!p) throw notFound();
    p.result = result;
  }

  setAutoAnswer(username: string, policy: AutoAnswer | null): void {
    if (policy) this.autoAnswers.set(username.toLowerCase(), policy);
    else this.autoAnswers.delete(username.toLowerCase());
  }

  pendingPushes(): SimPush[] {
    return [...this.pushes.keys()]
      .map((id) => this.livePush(id))
      .filter((p): p is SimPush => p !== undefined && p.result === 'waiting');
  }

  // ---- enrollment ----

  enroll(username: string, email: string, validSecs: number): void {
    if (!this.findByUsername(username)) this.addUser({ username, email });
    this.outbox.push({ username, email, sentAt: new Date(this.nowMs()), validSecs });
  }
}
