/** Shapes the simulator stores and its typed control surface. Wire shapes follow Duo's Admin API user objects. */

/** Where the simulator reads time (the app's Clock fits): tests move it by hand to expire pushes. */
export interface Clock {
  now(): Date;
}

/** The few log calls the simulator makes (the app's Logger fits). */
export interface SimLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface SimPhone {
  phone_id: string;
  number: string;
  extension: string;
  name: string;
  type: 'Mobile' | 'Landline' | 'Unknown';
  platform: string;
  model: string;
  activated: boolean;
  capabilities: string[];
  last_seen: string;
  sms_passcodes_sent: boolean;
  encrypted?: string;
  fingerprint?: string;
  screenlock?: string;
  tampered?: string;
}

export interface SimToken {
  token_id: string;
  type: string;
  serial: string;
  totp_step: number | null;
}

export interface SimWebAuthnCredential {
  webauthnkey: string;
  credential_name: string;
  date_added: number;
  label: string;
}

export interface SimGroup {
  group_id: string;
  name: string;
  desc: string;
  status: string;
}

export type SimUserStatus = 'active' | 'bypass' | 'disabled' | 'locked out' | 'pending deletion';

export interface SimUser {
  user_id: string;
  username: string;
  realname: string;
  firstname: string;
  lastname: string;
  email: string;
  notes: string;
  status: SimUserStatus;
  lockout_reason: string | null;
  is_enrolled: boolean;
  created: number;
  last_login: number | null;
  last_directory_sync: number | null;
  external_id: string | null;
  enable_auto_prompt: boolean;
  aliases: Record<string, string>;
  phones: SimPhone[];
  tokens: SimToken[];
  webauthncredentials: SimWebAuthnCredential[];
  groups: SimGroup[];
  /** Seed only: this many random bypass codes exist at start-up (not part of the wire shape). */
  seedBypassCodes?: number;
}

export interface SimBypassCode {
  bypass_code_id: string;
  userId: string;
  /** Plaintext, for tests only (Duo never lists it). */
  code: string;
  created: number;
  expiration: number | null;
  /** Remaining uses; null = unlimited. */
  reuse_count: number | null;
}

export type PushAnswer = 'approve' | 'deny' | 'fraud';

export interface SimPush {
  pushId: string;
  userId: string;
  username: string;
  phoneId: string;
  confirmationCode: string;
  sentAtMs: number;
  result: PushAnswer | 'waiting';
}

export interface AutoAnswer {
  result: PushAnswer;
  afterMs: number;
}

export type FaultKind = 'rate_limit' | 'server_error' | 'latency' | 'html' | 'malformed_json' | 'drop';

export interface FaultSpec {
  method?: string;
  /** Path prefix (string) or pattern (RegExp) matched against the request path without query. */
  path?: string | RegExp;
  kind: FaultKind;
  /** How many matching requests it affects; default Infinity. */
  times?: number;
  latencyMs?: number;
}

export interface EnrollmentEmail {
  username: string;
  email: string;
  sentAt: Date;
  validSecs: number;
}

/** One text message Duo sent (activation instructions, an installation link, a passcode batch). */
export interface SimSms {
  to: string;
  phoneId: string;
  kind: 'activation' | 'installation' | 'passcodes';
  body: string;
  sentAtMs: number;
}

/** One Duo Mobile activation code handed out (kept so tests can scan for the link and barcode). */
export interface SimActivation {
  phoneId: string;
  activationUrl: string;
  activationBarcode: string;
  validUntilMs: number;
  used: boolean;
}

export interface SimRequestRecord {
  method: string;
  path: string;
  /** Request params (query, form or JSON body). Never includes the Authorization header or skey. */
  params: Record<string, string | string[]>;
  /** 0 when the connection was dropped. */
  status: number;
  at: Date;
}

export interface DuoSimulatorOptions {
  ikey?: string;
  skey?: string;
  port?: number;
  host?: string;
  directory?: 'demo' | 'empty' | SimUser[];
  clock?: Clock;
  pushTimeoutMs?: number;
  lockoutThreshold?: number;
  logger?: SimLogger;
}

export interface DuoSimulator {
  readonly url: string;
  readonly ikey: string;
  readonly skey: string;
  close(): Promise<void>;
  answerPush(pushId: string, result: PushAnswer): void;
  setAutoAnswer(username: string, policy: AutoAnswer | null): void;
  pendingPushes(): SimPush[];
  failAuthentication(username: string, times?: number): SimUser;
  injectFault(fault: FaultSpec): string;
  clearFaults(): void;
  /** Duo's clock off real time by `ms` (its Date header; requests dated outside ±300 s of it fail with 40103). */
  setClockSkew(ms: number): void;
  /** Permissions the Admin API application lacks: their endpoints answer 403 with code 40301. */
  setMissingGrants(grants: SimGrant[]): void;
  enrollmentOutbox(): EnrollmentEmail[];
  requests(): SimRequestRecord[];
  bypassCodesOf(userId: string): SimBypassCode[];
  /** Every plaintext code created through the API since start (tests scan for leaks). */
  issuedBypassCodes(): Array<{ userId: string; code: string }>;
  getUser(username: string): SimUser | undefined;
  addUser(user: Partial<SimUser> & { username: string }): SimUser;
  reset(): void;
  /** Every SMS Duo sent (activation instructions, passcode batches), oldest first. */
  smsOutbox(): SimSms[];
  /** Every activation link and barcode handed out since start (tests scan for leaks). */
  issuedActivations(): SimActivation[];
  /** The current SMS passcode batch of a phone (a new batch replaces the old one). */
  smsPasscodesOf(phoneId: string): string[];
  /** The user opens the newest activation link in Duo Mobile; false when there is none valid. */
  completeActivation(phoneId: string): boolean;
  /** Duo's account settings (GET /admin/v1/settings), as the tenant's owner would set them in the Admin Panel. */
  settings(): SimSettings;
  setSettings(changes: Partial<SimSettings>): SimSettings;
  /** The source directories behind directory sync: change a person there (null: removed), then sync them. */
  directories(): SimDirectory[];
  setDirectoryUser(directoryKey: string, username: string, person: SimDirectoryPerson | null): void;
}

/** The account settings Duo's GET /admin/v1/settings returns (Duo's field names; a subset of the real object). */
export interface SimSettings {
  name: string;
  helpdesk_bypass: 'allow' | 'limit' | 'deny';
  /** Minutes; with helpdesk_bypass "limit". */
  helpdesk_bypass_expiration: number | null;
  helpdesk_can_send_enroll_email: boolean;
  user_managers_can_put_users_in_bypass: boolean;
  lockout_threshold: number;
  lockout_expire_duration: number | null;
  inactive_user_expiration: number;
  enrollment_universal_prompt_enabled: boolean;
  fraud_email: string;
  fraud_email_enabled: boolean;
  sms_batch: number;
  sms_expiration: number;
  timezone: string;
}

/** A person in a source directory (Entra ID, Active Directory), as a sync would bring them into Duo. */
export interface SimDirectoryPerson {
  realname: string;
  email: string;
  /** The directory's object id, Duo's external_id. */
  external_id: string;
  /** Disabled in the source directory: Duo sets the user Disabled on sync. */
  disabled?: boolean;
}

export interface SimDirectory {
  directory_key: string;
  name: string;
  people: Record<string, SimDirectoryPerson>;
}

/** Admin API application permissions ("Grant read resource", …). */
export type SimGrant = 'read_resource' | 'write_resource' | 'read_information' | 'settings' | 'administrators';
