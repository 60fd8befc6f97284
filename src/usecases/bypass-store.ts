import { BypassRequest, type IBypassRequest } from '../db/entities.js';
import type { BypassStatus } from '../domain/bypass-policy.js';
import { fail } from '../errors.js';
import type { EntityManager } from './deps.js';

/**
 * Reads and state changes of bypass requests. Every change of status is one conditional UPDATE
 * (`where status = <expected>`), so the first of several concurrent decisions wins and the others
 * see rowcount 0, on one instance or several sharing the database.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

declare module '../errors.js' {
  interface Problems {
    'bypass.request_gone': NoFacts;
  }
}

const notFound = () => fail('NOT_FOUND', 'bypass.request_gone', {});

/** Loads a request of this installation by its opaque id; anything else is "not found". */
export async function loadRequest(em: EntityManager, teamId: string, id: string): Promise<IBypassRequest> {
  if (!UUID.test(id)) throw notFound();
  const row = await em.findOne(BypassRequest, { id, teamId }, { refresh: true });
  if (!row) throw notFound();
  return row;
}

const COLUMNS = {
  decidedBy: 'decided_by',
  decidedAt: 'decided_at',
  decisionNote: 'decision_note',
  failureReason: 'failure_reason',
} as const;

export interface Transition {
  id: string;
  teamId: string;
  from: BypassStatus;
  to: BypassStatus;
  set?: Partial<Record<keyof typeof COLUMNS, string | Date | null>>;
  /** Only while the request has not expired at this time (decisions). */
  notExpiredAt?: Date;
  /** Only once the request has expired at this time (the expiry job). */
  expiredAt?: Date;
}

/** One conditional UPDATE; true when this call made the change (rowcount 1). */
export async function transition(em: EntityManager, t: Transition): Promise<boolean> {
  const sets = ['status = ?', 'version = version + 1'];
  const params: unknown[] = [t.to];
  for (const [key, value] of Object.entries(t.set ?? {})) {
    sets.push(`${COLUMNS[key as keyof typeof COLUMNS]} = ?`);
    params.push(value);
  }
  const where = ['id = ?', 'team_id = ?', 'status = ?'];
  params.push(t.id, t.teamId, t.from);
  if (t.notExpiredAt) {
    where.push('expires_at > ?');
    params.push(t.notExpiredAt);
  }
  if (t.expiredAt) {
    where.push('expires_at <= ?');
    params.push(t.expiredAt);
  }
  const rows = await em
    .getConnection()
    .execute<Array<{ id: string }>>(
      `update bypass_request set ${sets.join(', ')} where ${where.join(' and ')} returning id`,
      params,
      'all',
      em.getTransactionContext(),
    );
  return rows.length === 1;
}

/** Where the approval card was posted (set once, right after posting). */
export async function setCardLocation(em: EntityManager, id: string, channel: string, ts: string): Promise<void> {
  await em
    .getConnection()
    .execute(
      'update bypass_request set approval_channel = ?, approval_ts = ? where id = ? and approval_ts is null',
      [channel, ts, id],
      'run',
      em.getTransactionContext(),
    );
}

/** Requests this responder made in the last 24 hours (any outcome). */
export async function countRecentRequests(em: EntityManager, teamId: string, userId: string, now: Date) {
  return em.count(BypassRequest, {
    teamId,
    requesterUserId: userId,
    createdAt: { $gt: new Date(now.getTime() - 24 * 3600_000) },
  });
}

export const expireJobKey = (id: string) => `bypass.expire:${id}`;
export const EXPIRE_JOB = 'bypass.expire';
