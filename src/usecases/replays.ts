import { createHash } from 'node:crypto';
import type { AuditParams } from '../audit/secrets-guard.js';
import type { Deps, EntityManager } from './deps.js';

/**
 * Requests already seen, for every instance: a signed HTTP request captured within Slack's five-minute
 * signature window, or a Slack retry (X-Slack-Retry-Num) of a request an instance already took, must be
 * answered without acting a second time. Each request is known by its keys (its signature, its trigger_id,
 * which view submissions carry too, its event_id); a key is remembered for ten minutes, the longest a
 * signature can pass Bolt's ±5-minute timestamp check.
 */
export const SEEN_FOR_MS = 10 * 60_000;
export const PRUNE_SEEN_JOB = 'requests.prune_seen';

export type RequestKeyKind = 'signature' | 'trigger_id' | 'event_id';
export interface RequestKey {
  kind: RequestKeyKind;
  value: string;
}

const stored = (k: RequestKey) =>
  `${k.kind}:${k.kind === 'signature' ? createHash('sha256').update(k.value).digest('hex') : k.value}`.slice(0, 255);

/**
 * Records the request's keys in one statement (atomic across instances) and returns the first key that was
 * already seen within its ten minutes, or null for a request seen for the first time.
 */
export async function claimRequest(deps: Deps, em: EntityManager, keys: RequestKey[]): Promise<RequestKey | null> {
  if (keys.length === 0) return null;
  const now = deps.clock.now();
  const expires = new Date(now.getTime() + SEEN_FOR_MS);
  const fresh: Array<{ key: string }> = await em.getConnection().execute(
    `insert into seen_request (key, seen_at, expires_at) values ${keys.map(() => '(?, ?, ?)').join(', ')}
       on conflict (key) do update set seen_at = excluded.seen_at, expires_at = excluded.expires_at
         where seen_request.expires_at <= excluded.seen_at
       returning key`,
    keys.flatMap((k) => [stored(k), now, expires]),
    'all',
  );
  const claimed = new Set(fresh.map((r) => r.key));
  return keys.find((k) => !claimed.has(stored(k))) ?? null;
}

/** The audit event for a request answered without acting: a replay, or Slack's own retry. */
export function recordReplay(
  deps: Deps,
  em: EntityManager,
  r: { teamId: string; userId: string | null; correlationId: string; matched: RequestKeyKind; params: AuditParams },
) {
  return deps.audit.record(em, {
    teamId: r.teamId,
    actor: { userId: r.userId ?? 'unknown', role: null },
    action: 'request.replayed',
    outcome: 'denied',
    correlationId: r.correlationId,
    params: { matched: r.matched, ...r.params },
  });
}

/** Job: forgets keys past their ten minutes; runs again every ten minutes. */
export async function pruneSeenRequests(deps: Deps, em: EntityManager): Promise<{ runAgainAt: Date }> {
  const now = deps.clock.now();
  await em.getConnection().execute('delete from seen_request where expires_at < ?', [now], 'run');
  return { runAgainAt: new Date(now.getTime() + SEEN_FOR_MS) };
}
