/** Builders for simulated users, phones and tokens (deterministic ids derived from usernames). */
import { deterministicId } from './ids.js';
import type { SimGroup, SimPhone, SimToken, SimUser, SimWebAuthnCredential } from './types.js';

export function userIdFor(username: string): string {
  return deterministicId('DU', username.toLowerCase());
}

export function makeUser(p: Partial<SimUser> & { username: string }): SimUser {
  const [first = p.username, last = ''] = (p.realname ?? '').split(' ');
  const phones = p.phones ?? [];
  const tokens = p.tokens ?? [];
  const webauthn = p.webauthncredentials ?? [];
  return {
    user_id: p.user_id ?? userIdFor(p.username),
    username: p.username,
    realname: p.realname ?? '',
    firstname: p.firstname ?? (p.realname ? first : ''),
    lastname: p.lastname ?? (p.realname ? last : ''),
    email: p.email ?? '',
    notes: p.notes ?? '',
    status: p.status ?? 'active',
    lockout_reason: p.lockout_reason ?? null,
    is_enrolled: p.is_enrolled ?? phones.length + tokens.length + webauthn.length > 0,
    created: p.created ?? 1_700_000_000,
    last_login: p.last_login ?? null,
    last_directory_sync: p.last_directory_sync ?? null,
    external_id: p.external_id ?? null,
    enable_auto_prompt: p.enable_auto_prompt ?? true,
    aliases: p.aliases ?? {},
    phones,
    tokens,
    webauthncredentials: webauthn,
    groups: p.groups ?? [],
    ...(p.seedBypassCodes ? { seedBypassCodes: p.seedBypassCodes } : {}),
  };
}

export type PhoneKind = 'iphone' | 'android' | 'sms-only' | 'landline' | 'tablet';

export function makePhone(owner: string, index: number, kind: PhoneKind, number: string, lastSeen: string): SimPhone {
  const base = {
    phone_id: deterministicId('DP', `${owner.toLowerCase()}#${index}`),
    extension: '',
    last_seen: lastSeen,
    sms_passcodes_sent: false,
  };
  switch (kind) {
    case 'iphone':
      return {
        ...base,
        number,
        name: 'iPhone',
        type: 'Mobile',
        platform: 'Apple iOS',
        model: 'Apple iPhone 15',
        activated: true,
        capabilities: ['auto', 'push', 'sms', 'phone', 'mobile_otp'],
        encrypted: 'Encrypted',
        fingerprint: 'Configured',
        screenlock: 'Locked',
        tampered: 'Not tampered',
      };
    case 'android':
      return {
        ...base,
        number,
        name: 'Android',
        type: 'Mobile',
        platform: 'Google Android',
        model: 'Google Pixel 8',
        activated: true,
        capabilities: ['auto', 'push', 'sms', 'phone', 'mobile_otp'],
        encrypted: 'Encrypted',
        fingerprint: 'Configured',
        screenlock: 'Locked',
        tampered: 'Not tampered',
      };
    case 'sms-only':
      return {
        ...base,
        number,
        name: 'Mobile',
        type: 'Mobile',
        platform: 'Generic Smartphone',
        model: 'Unknown',
        activated: false,
        capabilities: ['phone', 'sms'],
      };
    case 'landline':
      return {
        ...base,
        number,
        name: 'Desk phone',
        type: 'Landline',
        platform: 'Unknown',
        model: 'Unknown',
        activated: false,
        capabilities: ['phone'],
      };
    case 'tablet':
      return {
        ...base,
        number: '',
        name: 'iPad',
        type: 'Mobile',
        platform: 'Apple iOS',
        model: 'Apple iPad Air',
        activated: true,
        capabilities: ['auto', 'push', 'mobile_otp'],
        encrypted: 'Encrypted',
        fingerprint: 'Configured',
        screenlock: 'Locked',
        tampered: 'Not tampered',
      };
  }
}

export function makeHardwareToken(owner: string, serial: string): SimToken {
  return { token_id: deterministicId('DH', owner.toLowerCase()), type: 'd1', serial, totp_step: null };
}

export function makeWebAuthn(owner: string, label: string, dateAdded: number): SimWebAuthnCredential {
  return {
    webauthnkey: deterministicId('WA', owner.toLowerCase()),
    credential_name: label,
    date_added: dateAdded,
    label,
  };
}

export function makeGroup(name: string): SimGroup {
  return { group_id: deterministicId('DG', name), name, desc: `${name} members`, status: 'Active' };
}
