/** Fast deterministic directory generator for load tests and benchmarks. */
import { makeGroup, makeHardwareToken, makePhone, makeUser, type PhoneKind } from './build.js';
import type { SimGroup, SimUser, SimUserStatus } from './types.js';

const FIRST = [
  'Ada',
  'Ben',
  'Chloe',
  'Dmitri',
  'Elif',
  'Farah',
  'Goran',
  'Hana',
  'Ines',
  'Jonas',
  'Kwame',
  'Lena',
  'Mateo',
  'Nadia',
  'Oskar',
  'Priya',
  'Quinn',
  'Rosa',
  'Sven',
  'Tariq',
  'Uma',
  'Viktor',
  'Wen',
  'Ximena',
  'Yusuf',
  'Zoe',
];
const LAST = [
  'Abbott',
  'Becker',
  'Costa',
  'Dubois',
  'Eriksen',
  'Fujita',
  'Gomez',
  'Haddad',
  'Ibrahim',
  'Jensen',
  'Kowalski',
  'Lindqvist',
  'Moreau',
  'Nakamura',
  'Okafor',
  'Petrov',
  'Quintero',
  'Rossi',
  'Schmidt',
  'Tanaka',
  'Ueda',
  'Varga',
  'Weber',
  'Xu',
  'Yilmaz',
  'Zimmermann',
];
const GROUP_NAMES = ['Staff', 'Engineering', 'Sales', 'Support', 'Finance', 'Contractors'];

/** mulberry32: tiny deterministic PRNG (also drives the benchmarks' query mix). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/**
 * n realistic users, deterministic for a given seed. Usernames are `first.last` plus a numeric suffix,
 * unique within the directory.
 */
export function generateDirectory(n: number, seed = 1): SimUser[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const groups: SimGroup[] = GROUP_NAMES.map(makeGroup);
  const T0 = 1_700_000_000;
  const out: SimUser[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const username = `${first}.${last}.${i}`.toLowerCase();
    const roll = rnd();
    const enrolled = roll < 0.85;
    let status: SimUserStatus = 'active';
    let lockout: string | null = null;
    const s = rnd();
    if (s < 0.03) {
      status = 'locked out';
      lockout = enrolled ? 'Failed Attempts' : 'Not enrolled';
    } else if (s < 0.06) status = 'disabled';
    else if (s < 0.065) status = 'bypass';
    const created = T0 + Math.floor(rnd() * 60_000_000);
    const lastLogin = enrolled ? created + Math.floor(rnd() * 5_000_000) : null;
    const phoneKind: PhoneKind = pick(['iphone', 'iphone', 'android', 'android', 'sms-only', 'landline', 'tablet']);
    const number = `+1555${pad(Math.floor(rnd() * 10_000_000), 7)}`;
    const lastSeen = lastLogin ? new Date(lastLogin * 1000).toISOString().slice(0, 19) : '';
    const synced = rnd() < 0.3;
    out[i] = makeUser({
      username,
      realname: `${first} ${last}`,
      email: rnd() < 0.97 ? `${username}@example.com` : '',
      status,
      lockout_reason: lockout,
      created,
      last_login: lastLogin,
      last_directory_sync: synced ? created + 86_400 : null,
      external_id: synced ? `ext-${seed}-${i}` : null,
      aliases: rnd() < 0.2 ? { alias1: `${first[0]}${last}${i}`.toLowerCase() } : {},
      groups: [pick(groups)],
      phones: enrolled ? [makePhone(username, 1, phoneKind, number, lastSeen)] : [],
      tokens: enrolled && rnd() < 0.05 ? [makeHardwareToken(username, pad(i, 12))] : [],
    });
  }
  return out;
}
