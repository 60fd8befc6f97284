/**
 * The Duo port: what the rest of duo-desk depends on. DuoAdminClient (src/duo/client.ts) implements it over
 * HTTPS; tests may substitute anything with the same shape.
 */
import type { Admin, BypassCodeMeta, Phone, SettableUserStatus, User } from '../domain/duo-objects.js';
import type { DuoSettings } from '../domain/duo-settings.js';

export {
  type Admin,
  AdminSchema,
  type BypassCodeMeta,
  BypassCodeMetaSchema,
  type Group,
  GroupSchema,
  type Phone,
  PhoneSchema,
  type SettableUserStatus,
  type Token,
  TokenSchema,
  type User,
  UserSchema,
  type WebAuthnCredential,
  WebAuthnCredentialSchema,
} from '../domain/duo-objects.js';
export { type VerificationPush, VerificationPushSchema } from './schemas.js';

export interface UserUpdate {
  status?: SettableUserStatus;
  realname?: string;
  email?: string;
  notes?: string;
  /** The whole alias list (up to 8), alias1… in order; slots beyond it are cleared. */
  aliases?: string[];
  enableAutoPrompt?: boolean;
}

export type VerificationPushResult = 'approve' | 'deny' | 'fraud' | 'waiting' | 'timeout';

export interface SentVerificationPush {
  pushId: string;
  confirmationCode: string;
}

export interface VerificationPushResponse {
  pushId: string;
  result: VerificationPushResult;
}

export interface CreateBypassCodesOptions {
  /** 1..10 */
  count: number;
  /** Uses per code; 0 = unlimited. */
  reuseCount: number;
  /** Lifetime in seconds; 0 = never expires. */
  validSecs: number;
}

export interface EnrollUserOptions {
  username: string;
  email: string;
  validSecs?: number;
}

export interface ActivationOptions {
  /** Lifetime of the activation code in seconds (Duo: 1 to 7 days; duo-desk's setting keeps it at 24 h or less). */
  validSecs: number;
  /** Also send the link that installs Duo Mobile. */
  install: boolean;
}

export interface DuoAdmin {
  getUsersByUsername(username: string): Promise<User[]>;
  getUsersByEmail(email: string): Promise<User[]>;
  getUserById(userId: string): Promise<User>;
  iterateUsers(opts?: { pageSize?: number }): AsyncIterable<User[]>;
  getUserPhones(userId: string): Promise<Phone[]>;
  updateUser(userId: string, update: UserUpdate): Promise<User>;
  sendVerificationPush(userId: string, phoneId: string): Promise<SentVerificationPush>;
  /** `waitOnRateLimit: false`: a 429 throws DUO_RATE_LIMITED at once instead of sleeping and retrying. */
  getVerificationPushResponse(
    userId: string,
    pushId: string,
    opts?: { waitOnRateLimit?: boolean },
  ): Promise<VerificationPushResponse>;
  /** Always preserves existing codes. Returns the plaintext codes: never log them. */
  createBypassCodes(userId: string, opts: CreateBypassCodesOptions): Promise<string[]>;
  getUserBypassCodes(userId: string): Promise<BypassCodeMeta[]>;
  deleteBypassCode(bypassCodeId: string): Promise<void>;
  enrollUser(opts: EnrollUserOptions): Promise<void>;
  getAdmins(): Promise<Admin[]>;
  getInfoSummary(): Promise<Record<string, unknown>>;
  /**
   * A new Duo Mobile activation code sent by SMS to the number on the phone (the old credentials stop
   * working at once). Returns only the validity: the barcode Duo answers with is dropped here.
   */
  sendSmsActivation(phoneId: string, opts: ActivationOptions): Promise<{ validSecs: number }>;
  /**
   * A new Duo Mobile activation code for a device with no number (a tablet); the old credentials stop
   * working at once. The link and barcode Duo answers with are dropped here, never returned.
   */
  createActivationCode(phoneId: string, opts: Pick<ActivationOptions, 'validSecs'>): Promise<{ validSecs: number }>;
  /** A new batch of SMS passcodes to the phone's number; older passcodes stop working. */
  sendSmsPasscodes(phoneId: string): Promise<void>;
  /** Disassociates the phone from the user (DELETE /admin/v1/users/[user_id]/phones/[phone_id]). */
  removeUserPhone(userId: string, phoneId: string): Promise<void>;
  /** GET /admin/v1/settings (the "settings" grant): Duo's own account settings. */
  getSettings(): Promise<DuoSettings>;
  /** POST /admin/v1/users/directorysync/[directory_key]/syncuser: create, update or trash one user from the directory. */
  syncUser(directoryKey: string, username: string): Promise<void>;
  /** GET /admin/v1/bypass_codes, every page (500 a page): the organisation's valid codes, metadata only. */
  listBypassCodes(): Promise<BypassCodeMeta[]>;
  /** GET /admin/v1/bypass_codes/[id]: one code's metadata (never the code). */
  getBypassCode(bypassCodeId: string): Promise<BypassCodeMeta>;
  /** POST /admin/v1/users: a new user (Duo refuses a username or alias already in use). */
  createUser(user: NewUser): Promise<User>;
  /** POST /admin/v1/users/bulk_send_to_trash (≤100; Duo refuses sync-managed users). */
  sendUsersToTrash(userIds: string[]): Promise<void>;
  /** POST /admin/v1/users/bulk_restore (≤100): restored users stay Disabled. */
  restoreUsers(userIds: string[]): Promise<void>;
  /** DELETE /admin/v1/users/[user_id]: permanent, not the Trash. */
  deleteUser(userId: string): Promise<void>;
}

export interface NewUser {
  username: string;
  realname?: string;
  email?: string;
  /** Up to 8 username aliases, alias1… in order. */
  aliases?: string[];
}
