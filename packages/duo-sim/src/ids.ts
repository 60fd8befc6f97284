import { randomInt } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** cyrb53-style 53-bit string hash, split into two 32-bit halves (fast, non-cryptographic). */
function hash2(s: string): [number, number] {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h1 >>> 0, h2 >>> 0];
}

/**
 * Deterministic Duo-style id: prefix + 18 upper-case alphanumerics derived from the seed text.
 * Not cryptographic (ids are not secrets); fast enough for 100,000-user directories.
 */
export function deterministicId(prefix: string, seed: string): string {
  let [a, b] = hash2(`${prefix}:${seed}`);
  let out = prefix;
  for (let i = 0; i < 18; i++) {
    // xorshift over the two halves
    a ^= a << 13;
    a ^= a >>> 17;
    a ^= a << 5;
    b = (b + 0x9e3779b9) | 0;
    out += ALNUM[((a ^ b) >>> 0) % ALNUM.length];
  }
  return out;
}

/** Random Duo-style id (crypto). */
export function randomId(prefix: string): string {
  let out = prefix;
  for (let i = 0; i < 18; i++) out += ALNUM[randomInt(ALNUM.length)];
  return out;
}

/** n random decimal digits (crypto). */
export function randomDigits(n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += String(randomInt(10));
  return out;
}

/** A random 40-character skey-like secret. */
export function randomSecret(len = 40): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; i < len; i++) out += chars[randomInt(chars.length)];
  return out;
}
