/**
 * Duo's own objects (users, phones, tokens, bypass-code metadata, admins), as the Admin API returns them
 * (Duo Admin API reference, §4): the vocabulary of the help desk's domain. The Duo client validates
 * every response with these schemas. Loose objects: unknown fields are kept, never rejected; fields Duo may
 * send as null are nullable.
 */
import { z } from 'zod';

/** A Duo user id as Duo issues them: "DU" and 18 upper-case letters or digits. */
export const DuoUserIdSchema = z.string().regex(/^DU[A-Z0-9]{18}$/);

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

export type Phone = z.infer<typeof PhoneSchema>;
export type Token = z.infer<typeof TokenSchema>;
export type WebAuthnCredential = z.infer<typeof WebAuthnCredentialSchema>;
export type Group = z.infer<typeof GroupSchema>;
export type User = z.infer<typeof UserSchema>;
export type BypassCodeMeta = z.infer<typeof BypassCodeMetaSchema>;
export type Admin = z.infer<typeof AdminSchema>;

/** Statuses the Admin API lets us set. */
export type SettableUserStatus = 'active' | 'bypass' | 'disabled';
export const SETTABLE_STATUSES: readonly SettableUserStatus[] = ['active', 'bypass', 'disabled'];
