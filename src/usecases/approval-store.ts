import { ApprovalRequest, type IApprovalRequest } from '../db/entities.js';
import { type ApprovalState, canTransition } from '../domain/approvals.js';
import { fail } from '../errors.js';
import type { Facts } from './approval-model.js';
import type { EntityManager } from './deps.js';

/**
 * Reads and state changes of approval requests. Every change of state is one conditional UPDATE
 * (`where state = <from>`), allowed only along the declared transitions, so the first of several
 * concurrent decisions wins and the others see no row, on one instance or several.
 */
declare module '../errors.js' {
  interface Problems {
    'approval.gone': NoFacts;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Loads a request of this installation by its opaque id; anything else is "not found". */
export async function loadRow(em: EntityManager, teamId: string, id: string): Promise<IApprovalRequest> {
  const row = UUID.test(id) ? await em.findOne(ApprovalRequest, { id, teamId }, { refresh: true }) : null;
  if (!row) throw fail('NOT_FOUND', 'approval.gone', {});
  return row;
}

const COLUMNS = {
  decidedBy: 'decided_by',
  decidedAt: 'decided_at',
  decisionNote: 'decision_note',
  failureReason: 'failure_reason',
  activeUntil: 'active_until',
  executeAfter: 'execute_after',
} as const;

export interface Transition {
  id: string;
  teamId: string;
  from: ApprovalState;
  to: ApprovalState;
  at: Date;
  set?: Partial<Record<keyof typeof COLUMNS, string | Date | null>>;
  /** Facts merged into the request's result. */
  result?: Facts;
  /** Only while the decision window is open at this time (decisions). */
  openAt?: Date;
  /** Only once this column's time has passed (expiry, a delay, a time box). */
  due?: { column: 'expires_at' | 'execute_after' | 'active_until'; at: Date };
}

/** One conditional UPDATE along a declared transition; true when this call made the change. */
export async function transition(em: EntityManager, t: Transition): Promise<boolean> {
  if (!canTransition(t.from, t.to)) throw new Error(`approval: ${t.from} → ${t.to} is not a declared transition`);
  const sets = ['state = ?', 'version = version + 1', 'updated_at = ?'];
  const params: unknown[] = [t.to, t.at];
  for (const [key, value] of Object.entries(t.set ?? {})) {
    sets.push(`${COLUMNS[key as keyof typeof COLUMNS]} = ?`);
    params.push(value);
  }
  if (t.result) {
    sets.push('result = result || ?::jsonb');
    params.push(JSON.stringify(t.result));
  }
  const where = ['id = ?', 'team_id = ?', 'state = ?'];
  params.push(t.id, t.teamId, t.from);
  if (t.openAt) {
    where.push('expires_at > ?');
    params.push(t.openAt);
  }
  if (t.due) {
    where.push(`${t.due.column} <= ?`);
    params.push(t.due.at);
  }
  const rows = await em
    .getConnection()
    .execute<Array<{ id: string }>>(
      `update approval_request set ${sets.join(', ')} where ${where.join(' and ')} returning id`,
      params,
      'all',
      em.getTransactionContext(),
    );
  return rows.length === 1;
}

/** Where the card was posted (set once, right after posting). */
export async function setCardLocation(em: EntityManager, id: string, channel: string, ts: string): Promise<void> {
  await em
    .getConnection()
    .execute(
      'update approval_request set card_channel = ?, card_ts = ? where id = ? and card_ts is null',
      [channel, ts, id],
      'run',
      em.getTransactionContext(),
    );
}

/** Requests of a kind this responder made since `since` (any outcome): daily limits. */
export function countRequests(em: EntityManager, q: { teamId: string; userId: string; kinds: string[]; since: Date }) {
  return em.count(ApprovalRequest, {
    teamId: q.teamId,
    requesterUserId: q.userId,
    kind: { $in: q.kinds },
    createdAt: { $gt: q.since },
  });
}

/** Requests of a kind in a state for one Duo user (e.g. the active bypass status shown on the card). */
export function findForTarget(
  em: EntityManager,
  q: { teamId: string; duoUserId: string; kind: string; states: ApprovalState[] },
) {
  return em.find(
    ApprovalRequest,
    { teamId: q.teamId, targetDuoUserId: q.duoUserId, kind: q.kind, state: { $in: q.states } },
    { orderBy: { createdAt: 'desc' }, refresh: true },
  );
}
