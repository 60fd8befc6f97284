import { createHash, createHmac } from 'node:crypto';
import type { AuditKey } from './keys.js';

/**
 * The chain: each row's link covers its canonical content and the previous row's link. Rows written
 * since the keyed chain began (`keyId` set) are linked with HMAC-SHA-256 under the audit key, which is
 * not in the database, so nobody with only database access can recompute them. Older rows (`keyId`
 * null) keep their plain SHA-256 hash; the first keyed row after them seals them.
 */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainedFields {
  teamId: string;
  seq: number;
  occurredAt: Date;
  actorUserId: string | null;
  actorRole: string | null;
  action: string;
  phase: string;
  targetDuoUserId: string | null;
  targetUsername: string | null;
  outcome: string;
  reason: string | null;
  ticket: string | null;
  correlationId: string | null;
  intentId: number | null;
  requestRef: string | null;
  duoRef: string | null;
  params: Record<string, unknown>;
  prevHash: string;
  /** The audit key that linked this row; null for rows from before the keyed chain. */
  keyId: string | null;
}

/** JSON with object keys sorted at every depth (jsonb does not keep key order). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

const contentFields = (f: ChainedFields) => [
  f.teamId,
  f.seq,
  f.occurredAt.toISOString(),
  f.actorUserId,
  f.actorRole,
  f.action,
  f.phase,
  f.targetDuoUserId,
  f.targetUsername,
  f.outcome,
  f.reason,
  f.ticket,
  f.correlationId,
  f.intentId,
  f.requestRef,
  f.duoRef,
  f.params,
  f.prevHash,
];

/** The pre-keyed hash (plain SHA-256), still used to verify rows from before the keyed chain. */
export function hashAuditRow(f: ChainedFields): string {
  return createHash('sha256')
    .update(canonicalJson(contentFields(f)))
    .digest('hex');
}

/** The keyed link: HMAC-SHA-256 under `key` over the key id and the row's canonical content. */
export function linkAuditRow(f: ChainedFields, key: AuditKey): string {
  return createHmac('sha256', key.linkKey)
    .update(canonicalJson(['v2', key.id, ...contentFields(f)]))
    .digest('hex');
}

/** How much of a link the audit channel shows in each post (64 bits: enough to witness, short to read). */
export const shortLink = (link: string): string => link.slice(0, 16);
