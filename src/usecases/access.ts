import type { AuditParams } from '../audit/secrets-guard.js';
import { type Action, authorize, type Denial, type Target } from '../domain/authorize.js';
import type { Actor } from '../domain/roles.js';
import type { Settings } from '../domain/settings.js';
import { AppError, fail } from '../errors.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { loadSettings } from './settings.js';

declare module '../errors.js' {
  interface Problems {
    /** authorize() refused: the actor's role, the action, and what would allow it. */
    'access.denied': Denial & { action: Action; role: Actor['role']; toStatus?: 'active' | 'bypass' | 'disabled' };
  }
}

/** Actors loaded through each EntityManager fork (one fork per request or job run, one per transaction). */
const loadedActors = new WeakMap<EntityManager, Map<string, Promise<Actor | null>>>();

/**
 * Loads the responder behind a caller from the database (never from anything Slack sent back), once
 * per EntityManager: the request middleware and the use case it calls share the request's fork, so
 * the use case re-authorizes on the row this request read instead of reading it a second time.
 * A new request, job run or transaction has its own fork and reads it afresh.
 */
export function findActor(em: EntityManager, teamId: string, userId: string): Promise<Actor | null> {
  const forEm = loadedActors.get(em) ?? new Map<string, Promise<Actor | null>>();
  loadedActors.set(em, forEm);
  const key = `${teamId}\u0000${userId}`;
  const known = forEm.get(key);
  if (known) return known;
  const loading = em
    .getConnection()
    .execute<Array<{ team_id: string; user_id: string; role: Actor['role']; approver: boolean }>>(
      'select team_id, user_id, role, approver from responder where team_id = ? and user_id = ?',
      [teamId, userId],
      'all',
      em.getTransactionContext(),
    )
    .then(([r]) => (r ? { teamId: r.team_id, userId: r.user_id, role: r.role, approver: r.approver } : null));
  forEm.set(key, loading);
  loading.catch(() => forEm.delete(key));
  return loading;
}

/** Every refusal is an audit event: who tried what, on whom, and why it was refused. */
export function recordDenial(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  actor: Actor | null,
  d: {
    attempted?: string;
    why: string;
    target?: { duoUserId?: string | null; username?: string | null } | undefined;
    requestRef?: string;
    params?: AuditParams;
  },
) {
  return deps.audit.record(em, {
    teamId: actor?.teamId ?? caller.teamId,
    actor: { userId: caller.userId, role: actor?.role ?? null },
    action: 'permission.denied',
    outcome: 'denied',
    target: d.target,
    requestRef: d.requestRef ?? null,
    correlationId: caller.correlationId,
    params: { ...(d.attempted ? { attempted: d.attempted } : {}), why: d.why.slice(0, 200), ...d.params },
  });
}

export async function requireActor(deps: Deps, em: EntityManager, caller: Caller): Promise<Actor> {
  const actor = await findActor(em, caller.teamId, caller.userId);
  if (!actor) {
    await recordDenial(deps, em, caller, null, { why: 'not a responder' });
    throw new AppError('NOT_A_RESPONDER', `user ${caller.userId} is not a responder`);
  }
  return actor;
}

/**
 * Authorizes on state loaded now; a denial is recorded in the audit trail and thrown with the
 * reason and what would allow it.
 */
export async function authorizeOrThrow(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  actor: Actor,
  action: Action,
  target: Target,
  opts: {
    settings?: Settings;
    targetUser?: { duoUserId?: string | null; username?: string | null } | undefined;
    /** What the audit row says was attempted, when it is more specific than the action (e.g. bypass.approve). */
    attempted?: string;
    requestRef?: string;
    /** The guard this check is part of (e.g. 'approval' for deciding a request), for the audit row. */
    guard?: string;
  } = {},
): Promise<Settings> {
  const settings = opts.settings ?? (await loadSettings(em, actor.teamId));
  const decision = authorize(actor, action, target, settings);
  if (!decision.allowed) {
    const { allowed: _, ...denial } = decision;
    await recordDenial(deps, em, caller, actor, {
      attempted: opts.attempted ?? action,
      why: denial.rule,
      target: opts.targetUser,
      ...(opts.requestRef ? { requestRef: opts.requestRef } : {}),
      params: {
        ...(denial.setting ? { setting: denial.setting } : {}),
        ...(denial.duoSetting ? { duoSetting: denial.duoSetting, duoValue: denial.duoValue ?? null } : {}),
        ...(opts.guard ? { guard: opts.guard } : {}),
      },
    });
    throw fail('PERMISSION_DENIED', 'access.denied', {
      ...denial,
      action,
      role: actor.role,
      ...(target.kind === 'status' ? { toStatus: target.toStatus } : {}),
    });
  }
  return settings;
}

/** The entry check before opening a form: the same decision the use case makes again on submit. */
export async function ensureAllowed(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  action: Action,
  target: Target = { kind: 'none' },
) {
  const actor = await requireActor(deps, em, caller);
  const settings = await authorizeOrThrow(deps, em, caller, actor, action, target);
  return { actor, settings };
}
