/**
 * Typed Duo Admin API client (Duo Admin API reference, §3). Transport concerns live in transport.ts.
 */
import { z } from 'zod';
import {
  type Admin,
  AdminSchema,
  type BypassCodeMeta,
  BypassCodeMetaSchema,
  type Phone,
  PhoneSchema,
  type User,
  UserSchema,
} from '../domain/duo-objects.js';
import { type DuoSettings, DuoSettingsSchema } from '../domain/duo-settings.js';
import { AppError } from '../errors.js';
import { DuoError } from './errors.js';
import {
  ActivationSentSchema,
  type OkEnvelope,
  VerificationPushResultSchema,
  VerificationPushSchema,
} from './schemas.js';
import type { DuoParams } from './sign.js';
import { DuoTransport, type HttpMethod, type RequestOptions, type TransportOptions } from './transport.js';
import type {
  ActivationOptions,
  CreateBypassCodesOptions,
  DuoAdmin,
  EnrollUserOptions,
  NewUser,
  SentVerificationPush,
  UserUpdate,
  VerificationPushResponse,
} from './types.js';

export type DuoAdminClientOptions = TransportOptions;

const seg = (id: string) => encodeURIComponent(id);

function isNonNegInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0;
}

export class DuoAdminClient implements DuoAdmin {
  private readonly transport: DuoTransport;

  constructor(opts: DuoAdminClientOptions) {
    this.transport = new DuoTransport(opts);
  }

  private async call<T>(
    schema: z.ZodType<T>,
    method: HttpMethod,
    path: string,
    params: DuoParams = {},
    ro: RequestOptions = {},
  ): Promise<{ data: T; env: OkEnvelope }> {
    const env = await this.transport.request(method, path, params, ro);
    const parsed = schema.safeParse(env.response);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unknown';
      throw new DuoError('DUO_BAD_RESPONSE', `Duo ${method} ${path}: unexpected response shape at ${where}`, {
        httpStatus: 200,
        outcomeUnknown: false,
        details: { method, path },
      });
    }
    return { data: parsed.data, env };
  }

  /** Reads every page of a paged list endpoint. */
  private async *pages<T>(schema: z.ZodType<T>, path: string, params: DuoParams, limit: number): AsyncGenerator<T[]> {
    let offset = 0;
    for (;;) {
      const { data, env } = await this.call(z.array(schema), 'GET', path, { ...params, limit, offset });
      yield data;
      const next = env.metadata?.next_offset;
      const nextNum = typeof next === 'string' ? Number(next) : next;
      if (typeof nextNum !== 'number' || !Number.isFinite(nextNum) || nextNum <= offset || data.length === 0) return;
      offset = nextNum;
    }
  }

  private async all<T>(schema: z.ZodType<T>, path: string, params: DuoParams = {}, limit = 100): Promise<T[]> {
    const out: T[] = [];
    for await (const page of this.pages(schema, path, params, limit)) out.push(...page);
    return out;
  }

  async getUsersByUsername(username: string): Promise<User[]> {
    return (await this.call(z.array(UserSchema), 'GET', '/admin/v1/users', { username })).data;
  }

  async getUsersByEmail(email: string): Promise<User[]> {
    return (await this.call(z.array(UserSchema), 'GET', '/admin/v1/users', { email })).data;
  }

  async getUserById(userId: string): Promise<User> {
    return (await this.call(UserSchema, 'GET', `/admin/v1/users/${seg(userId)}`)).data;
  }

  iterateUsers(opts: { pageSize?: number } = {}): AsyncIterable<User[]> {
    const pageSize = opts.pageSize ?? 300;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 300) {
      throw new AppError('INVALID_INPUT', 'pageSize must be an integer from 1 to 300');
    }
    return this.pages(UserSchema, '/admin/v1/users', {}, pageSize);
  }

  async getUserPhones(userId: string): Promise<Phone[]> {
    return this.all(PhoneSchema, `/admin/v1/users/${seg(userId)}/phones`, {}, 500);
  }

  async updateUser(userId: string, update: UserUpdate): Promise<User> {
    const params: Record<string, string> = {};
    for (const key of ['status', 'realname', 'email', 'notes'] as const) {
      const v = update[key];
      if (v !== undefined) params[key] = v;
    }
    if (update.aliases !== undefined) {
      if (update.aliases.length > 8) throw new AppError('INVALID_INPUT', 'at most 8 username aliases');
      // Duo's `aliases`: every slot named, a blank value clears it.
      params.aliases = new URLSearchParams(
        Array.from({ length: 8 }, (_, i): [string, string] => [`alias${i + 1}`, update.aliases![i] ?? '']),
      ).toString();
    }
    if (update.enableAutoPrompt !== undefined) params.enable_auto_prompt = String(update.enableAutoPrompt);
    if (Object.keys(params).length === 0) throw new AppError('INVALID_INPUT', 'updateUser needs at least one field');
    return (await this.call(UserSchema, 'POST', `/admin/v1/users/${seg(userId)}`, params)).data;
  }

  async sendVerificationPush(userId: string, phoneId: string): Promise<SentVerificationPush> {
    const { data } = await this.call(
      VerificationPushSchema,
      'POST',
      `/admin/v1/users/${seg(userId)}/send_verification_push`,
      { phone_id: phoneId },
    );
    return { pushId: data.push_id, confirmationCode: data.confirmation_code };
  }

  async getVerificationPushResponse(
    userId: string,
    pushId: string,
    opts: { waitOnRateLimit?: boolean } = {},
  ): Promise<VerificationPushResponse> {
    try {
      const { data } = await this.call(
        VerificationPushResultSchema,
        'GET',
        `/admin/v1/users/${seg(userId)}/verification_push_response`,
        { push_id: pushId },
        opts.waitOnRateLimit === false ? { maxRateLimitRetries: 0 } : {},
      );
      return { pushId: data.push_id, result: data.result };
    } catch (e) {
      // Duo keeps results for 120 s; afterwards the endpoint answers 404.
      if (e instanceof DuoError && e.code === 'DUO_NOT_FOUND') return { pushId, result: 'timeout' };
      throw e;
    }
  }

  async createBypassCodes(userId: string, opts: CreateBypassCodesOptions): Promise<string[]> {
    const { count, reuseCount, validSecs } = opts;
    if (!Number.isInteger(count) || count < 1 || count > 10) {
      throw new AppError('INVALID_INPUT', 'bypass code count must be an integer from 1 to 10');
    }
    if (!isNonNegInt(reuseCount)) throw new AppError('INVALID_INPUT', 'reuseCount must be an integer >= 0');
    if (!isNonNegInt(validSecs)) throw new AppError('INVALID_INPUT', 'validSecs must be an integer >= 0');
    const { data } = await this.call(
      z.array(z.string()),
      'POST',
      `/admin/v1/users/${seg(userId)}/bypass_codes`,
      { count, reuse_count: reuseCount, valid_secs: validSecs, preserve_existing: true },
      { limitOn50001: true },
    );
    return data;
  }

  async getUserBypassCodes(userId: string): Promise<BypassCodeMeta[]> {
    return this.all(BypassCodeMetaSchema, `/admin/v1/users/${seg(userId)}/bypass_codes`, {}, 100);
  }

  async deleteBypassCode(bypassCodeId: string): Promise<void> {
    await this.call(z.unknown(), 'DELETE', `/admin/v1/bypass_codes/${seg(bypassCodeId)}`);
  }

  async enrollUser(opts: EnrollUserOptions): Promise<void> {
    if (!opts.username || !opts.email) throw new AppError('INVALID_INPUT', 'enrollUser needs a username and an email');
    const params: Record<string, string | number> = { username: opts.username, email: opts.email };
    if (opts.validSecs !== undefined) {
      if (!isNonNegInt(opts.validSecs)) throw new AppError('INVALID_INPUT', 'validSecs must be an integer >= 0');
      params.valid_secs = opts.validSecs;
    }
    await this.call(z.unknown(), 'POST', '/admin/v1/users/enroll', params);
  }

  async getAdmins(): Promise<Admin[]> {
    return this.all(AdminSchema, '/admin/v1/admins', {}, 100);
  }

  async getInfoSummary(): Promise<Record<string, unknown>> {
    return (await this.call(z.record(z.string(), z.unknown()), 'GET', '/admin/v1/info/summary')).data;
  }

  async sendSmsActivation(phoneId: string, opts: ActivationOptions): Promise<{ validSecs: number }> {
    if (!Number.isInteger(opts.validSecs) || opts.validSecs < 1)
      throw new AppError('INVALID_INPUT', 'validSecs must be a positive integer');
    const { data } = await this.call(
      ActivationSentSchema,
      'POST',
      `/admin/v1/phones/${seg(phoneId)}/send_sms_activation`,
      {
        valid_secs: opts.validSecs,
        install: opts.install ? 1 : 0,
      },
    );
    return { validSecs: data.valid_secs };
  }

  async createActivationCode(
    phoneId: string,
    opts: Pick<ActivationOptions, 'validSecs'>,
  ): Promise<{ validSecs: number }> {
    if (!Number.isInteger(opts.validSecs) || opts.validSecs < 1)
      throw new AppError('INVALID_INPUT', 'validSecs must be a positive integer');
    const { data } = await this.call(ActivationSentSchema, 'POST', `/admin/v1/phones/${seg(phoneId)}/activation_url`, {
      valid_secs: opts.validSecs,
      install: 0,
    });
    return { validSecs: data.valid_secs };
  }

  async sendSmsPasscodes(phoneId: string): Promise<void> {
    await this.call(z.unknown(), 'POST', `/admin/v1/phones/${seg(phoneId)}/send_sms_passcodes`);
  }

  async removeUserPhone(userId: string, phoneId: string): Promise<void> {
    await this.call(z.unknown(), 'DELETE', `/admin/v1/users/${seg(userId)}/phones/${seg(phoneId)}`);
  }

  async getSettings(): Promise<DuoSettings> {
    return (await this.call(DuoSettingsSchema, 'GET', '/admin/v1/settings')).data;
  }

  async syncUser(directoryKey: string, username: string): Promise<void> {
    if (!/^[A-Z0-9]{10,40}$/.test(directoryKey)) throw new AppError('INVALID_INPUT', 'not a Duo directory key');
    if (!username) throw new AppError('INVALID_INPUT', 'syncUser needs a username');
    await this.call(z.unknown(), 'POST', `/admin/v1/users/directorysync/${seg(directoryKey)}/syncuser`, { username });
  }

  async listBypassCodes(): Promise<BypassCodeMeta[]> {
    return this.all(BypassCodeMetaSchema, '/admin/v1/bypass_codes', {}, 500);
  }

  async getBypassCode(bypassCodeId: string): Promise<BypassCodeMeta> {
    return (await this.call(BypassCodeMetaSchema, 'GET', `/admin/v1/bypass_codes/${seg(bypassCodeId)}`)).data;
  }

  async createUser(user: NewUser): Promise<User> {
    if (!user.username) throw new AppError('INVALID_INPUT', 'createUser needs a username');
    const aliases = user.aliases ?? [];
    if (aliases.length > 8) throw new AppError('INVALID_INPUT', 'at most 8 username aliases');
    const params: Record<string, string> = { username: user.username };
    if (user.realname) params.realname = user.realname;
    if (user.email) params.email = user.email;
    // Duo's `aliases`: URL-encoded alias positions, e.g. alias1=joe.smith&alias2=jsmith@example.com.
    if (aliases.length)
      params.aliases = new URLSearchParams(aliases.map((a, i): [string, string] => [`alias${i + 1}`, a])).toString();
    return (await this.call(UserSchema, 'POST', '/admin/v1/users', params)).data;
  }

  async sendUsersToTrash(userIds: string[]): Promise<void> {
    await this.call(z.unknown(), 'POST', '/admin/v1/users/bulk_send_to_trash', { user_id_list: userIdList(userIds) });
  }

  async restoreUsers(userIds: string[]): Promise<void> {
    await this.call(z.unknown(), 'POST', '/admin/v1/users/bulk_restore', { user_id_list: userIdList(userIds) });
  }

  async deleteUser(userId: string): Promise<void> {
    await this.call(z.unknown(), 'DELETE', `/admin/v1/users/${seg(userId)}`);
  }
}

/** Duo's user_id_list: a JSON-encoded array of at most 100 user ids. */
function userIdList(ids: string[]): string {
  if (!ids.length || ids.length > 100) throw new AppError('INVALID_INPUT', 'from 1 to 100 user ids');
  return JSON.stringify(ids);
}
