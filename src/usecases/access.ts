import type { AuditParams } from '../audit/secrets-guard.js';
import { Responder } from '../db/entities.js';
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

/** Loads the responder behind a caller from the database (never from anything Slack sent back). */
export async function findActor(em: EntityManager, teamId: string, userId: string): Promise<Actor | null> {
  const r = await em.findOne(Responder, { teamId, userId }, { refresh: true });
  return r ? { teamId: r.teamId, userId: r.userId, role: r.role, approver: r.approver } : null;
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
  opts: { settings?: Settings; targetUser?: { duoUserId?: string | null; username?: string | null } } = {},
): Promise<Settings> {
  const settings = opts.settings ?? (await loadSettings(em, actor.teamId));
  const decision = authorize(actor, action, target, settings);
  if (!decision.allowed) {
    const { allowed: _, ...denial } = decision;
    await recordDenial(deps, em, caller, actor, {
      attempted: action,
      why: denial.rule,
      target: opts.targetUser,
      params: denial.setting ? { setting: denial.setting } : {},
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
