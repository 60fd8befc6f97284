import { createHash, randomBytes, randomInt } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Slack-looking id: prefix + uppercase alphanumerics (`V04ABCDEF12`). */
export function slackId(prefix: string, length = 10): string {
  let out = prefix;
  for (let i = 0; i < length; i++) out += ALNUM[randomInt(ALNUM.length)];
  return out;
}

/** Deterministic Slack-looking id derived from a seed (stable DM channel ids). */
export function stableId(prefix: string, seed: string, length = 10): string {
  const digest = createHash('sha256').update(seed).digest();
  let out = prefix;
  for (let i = 0; i < length; i++) out += ALNUM[digest[i]! % ALNUM.length];
  return out;
}

export function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** `trigger_id` in Slack's `<digits>.<digits>.<hex>` form. */
export function triggerId(): string {
  return `${randomInt(1e9, 1e10)}.${randomInt(1e9, 1e10)}.${hex(16)}`;
}

/** Message timestamps: `<epoch seconds>.<6 digits>`, strictly increasing. */
export class TsGenerator {
  private lastMicros = 0;
  next(nowMs: number): string {
    const micros = Math.max(nowMs * 1000, this.lastMicros + 1);
    this.lastMicros = micros;
    const secs = Math.floor(micros / 1e6);
    const frac = String(micros % 1e6).padStart(6, '0');
    return `${secs}.${frac}`;
  }
}

/** View hash: `<epoch>.<random>` like Slack's. */
export function viewHash(nowMs: number): string {
  return `${Math.floor(nowMs / 1000)}.${hex(4)}`;
}
