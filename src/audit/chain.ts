import { createHash } from 'node:crypto';

/** The hash chain: each row's hash covers its canonical content and the previous row's hash. */
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

export function hashAuditRow(f: ChainedFields): string {
  const content = canonicalJson([
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
  ]);
  return createHash('sha256').update(content).digest('hex');
}
