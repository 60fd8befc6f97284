import { Responder } from '../db/entities.js';
import { fail } from '../errors.js';
import { recordDenial, requireActor } from './access.js';
import { stepUpResetKind } from './approval-control-changes.js';
import type { Submitted } from './approval-engine.js';
import type { ApprovalNotices } from './approval-model.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { submitGuarded } from './guards.js';

/**
 * Owners only: resetting another responder's step-up (a lost phone) clears their enrollment, replay
 * floor, lock and recent failures. It removes a guard from someone, so it is itself guarded: the
 * owner's own step-up, and a second owner's approval or an announced delay. Owners cannot reset their
 * own: that would let a hijacked owner session drop its own step-up; another owner (or the command
 * line, `duo-desk mfa reset`, for a one-owner install) does it.
 */
declare module '../errors.js' {
  interface Problems {
    'stepup.reset_needs_owner': NoFacts;
    'stepup.reset_self': NoFacts;
  }
}

/** The checks before the form opens, and again on submit: an Owner, not themself, a responder. */
export async function prepareStepUpReset(deps: Deps, em: EntityManager, caller: Caller, targetUserId: string) {
  const actor = await requireActor(deps, em, caller);
  if (actor.role !== 'owner' || targetUserId === actor.userId) {
    const why =
      actor.role !== 'owner'
        ? 'only an Owner can reset step-up enrollments'
        : 'an Owner cannot reset their own step-up enrollment';
    await recordDenial(deps, em, caller, actor, { attempted: 'stepup.reset', why, params: { targetUserId } });
    throw fail('PERMISSION_DENIED', actor.role !== 'owner' ? 'stepup.reset_needs_owner' : 'stepup.reset_self', {});
  }
  const target = await em.findOne(Responder, { teamId: actor.teamId, userId: targetUserId }, { refresh: true });
  if (!target) throw fail('NOT_FOUND', 'responders.not_a_responder', { userId: targetUserId });
  return { actor, target };
}

export async function requestStepUpReset(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: ApprovalNotices,
  input: { targetUserId: string; totp?: string | null; reason?: string | null; requestChannel?: string | null },
): Promise<Submitted> {
  const { target } = await prepareStepUpReset(deps, em, caller, input.targetUserId);
  return submitGuarded(deps, em, caller, notices, {
    action: 'stepup_reset',
    authorize: {
      action: 'responders.manage',
      target: { kind: 'responder', currentRole: target.role, newRole: target.role },
      attempted: 'stepup.reset',
    },
    totp: input.totp,
    reason: input.reason,
    kind: stepUpResetKind,
    params: { userId: input.targetUserId },
    requestChannel: input.requestChannel ?? null,
  });
}
