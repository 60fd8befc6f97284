/**
 * zod schemas for the Duo Admin API objects we read (docs/duo-admin-api.md §4).
 * Loose objects: unknown fields are kept, never rejected; fields Duo may send as null are nullable.
 */
import { z } from 'zod';

const unixSeconds = z.number();
const nullableString = z.string().nullable();

export const PhoneSchema = z.looseObject({
  phone_id: z.string(),
  number: z.string().nullish(),
  extension: z.string().nullish(),
  name: z.string().nullish(),
  type: z.string().nullish(),
  platform: z.string().nullish(),
  model: z.string().nullish(),
  activated: z.boolean().optional(),
  capabilities: z.array(z.string()).optional().default([]),
  last_seen: z.string().nullish(),
  sms_passcodes_sent: z.boolean().optional(),
});

export const TokenSchema = z.looseObject({
  token_id: z.string(),
  type: z.string().nullish(),
  serial: z.string().nullish(),
  totp_step: z.number().nullish(),
});

export const WebAuthnCredentialSchema = z.looseObject({
  webauthnkey: z.string(),
  credential_name: z.string().nullish(),
  date_added: z.number().nullish(),
  label: z.string().nullish(),
});

export const GroupSchema = z.looseObject({
  group_id: z.string().optional(),
  name: z.string(),
  desc: z.string().nullish(),
  status: z.string().nullish(),
});

export const UserStatusSchema = z.string();

export const UserSchema = z.looseObject({
  user_id: z.string(),
  username: z.string(),
  realname: nullableString.optional(),
  firstname: nullableString.optional(),
  lastname: nullableString.optional(),
  email: nullableString.optional(),
  notes: nullableString.optional(),
  status: UserStatusSchema,
  lockout_reason: nullableString.optional(),
  is_enrolled: z.boolean().optional(),
  created: unixSeconds.nullish(),
  last_login: unixSeconds.nullish(),
  last_directory_sync: unixSeconds.nullish(),
  external_id: nullableString.optional(),
  aliases: z.record(z.string(), z.string()).optional(),
  phones: z.array(PhoneSchema).optional().default([]),
  tokens: z.array(TokenSchema).optional().default([]),
  webauthncredentials: z.array(WebAuthnCredentialSchema).optional().default([]),
  groups: z.array(GroupSchema).optional().default([]),
});

export const BypassCodeMetaSchema = z.looseObject({
  bypass_code_id: z.string(),
  admin_email: nullableString.optional(),
  created: unixSeconds.nullish(),
  expiration: unixSeconds.nullable().optional(),
  reuse_count: z.number().nullable().optional(),
  user: z
    .looseObject({
      user_id: z.string(),
      username: z.string().optional(),
    })
    .optional(),
});

export const AdminSchema = z.looseObject({
  admin_id: z.string(),
  name: nullableString.optional(),
  email: nullableString.optional(),
  phone: nullableString.optional(),
  role: nullableString.optional(),
  status: nullableString.optional(),
  created: unixSeconds.nullish(),
  last_login: unixSeconds.nullish(),
});

export const VerificationPushSchema = z.looseObject({
  push_id: z.string(),
  confirmation_code: z.string(),
});

export const VerificationPushResultSchema = z.looseObject({
  push_id: z.string(),
  result: z.enum(['approve', 'deny', 'fraud', 'waiting']),
});

/** Success envelope; `response` is validated by the caller's schema. */
export const OkEnvelopeSchema = z.looseObject({
  stat: z.literal('OK'),
  response: z.unknown(),
  metadata: z
    .looseObject({
      next_offset: z.union([z.number(), z.string(), z.array(z.unknown())]).nullish(),
      prev_offset: z.union([z.number(), z.string(), z.array(z.unknown())]).nullish(),
      total_objects: z.number().nullish(),
    })
    .optional(),
});

export const FailEnvelopeSchema = z.looseObject({
  stat: z.literal('FAIL'),
  // The Go client tolerates a string code; so do we.
  code: z.union([z.number(), z.string().transform((s) => Number(s))]).optional(),
  message: z.string().optional(),
  message_detail: z.string().nullish(),
});

export const EnvelopeSchema = z.union([OkEnvelopeSchema, FailEnvelopeSchema]);

export type Phone = z.infer<typeof PhoneSchema>;
export type Token = z.infer<typeof TokenSchema>;
export type WebAuthnCredential = z.infer<typeof WebAuthnCredentialSchema>;
export type Group = z.infer<typeof GroupSchema>;
export type User = z.infer<typeof UserSchema>;
export type BypassCodeMeta = z.infer<typeof BypassCodeMetaSchema>;
export type Admin = z.infer<typeof AdminSchema>;
export type VerificationPush = z.infer<typeof VerificationPushSchema>;
export type OkEnvelope = z.infer<typeof OkEnvelopeSchema>;
