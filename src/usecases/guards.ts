import { Responder } from '../db/entities.js';
import type { Action, Target } from '../domain/authorize.js';
import { type GuardedAction, type Guards, guardsFor } from '../domain/guards.js';
import type { Actor } from '../domain/roles.js';
import type { Settings } from '../domain/settings.js';
import { fail, isAppError } from '../errors.js';
import { authorizeOrThrow, requireActor } from './access.js';
import { type Submitted, submitRequest } from './approval-engine.js';
import type { AnyKind, ApprovalNotices } from './approval-model.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { cleanFreeText } from './kit.js';
import { checkStepUp, type StepUpPurpose } from './step-up.js';
import { toVerificationView, type VerificationView, validVerification } from './verification-policy.js';

/**
 * The guard pipeline every dangerous change passes, in this order: actor → authorize → caller
 * verification → actor step-up. What follows is the approval engine's (approval, or the announced
 * delay, then execute): src/usecases/approvals/engine.ts submitRequest. Each refusal is audited as
 * `guard.refused`, naming the guard and the action that was attempted.
 */
declare module '../errors.js' {
  interface Problems {
    'guard.verification_required': { action: GuardedAction; minutes: number };
    'guard.step_up_required': { action: GuardedAction };
  }
}

export interface GuardInput {
  action: GuardedAction;
  /** The permission of the change itself, decided on the responder and settings loaded now. */
  authorize: { action: Action; target: Target; attempted?: string };
  /** The Duo user the change is about: a verification counts only for this user. */
  duoUser: { duoUserId: string; username?: string | null } | null;
  totp: string | null | undefined;
  /** The form inputs a refusal is shown on. */
  fields: { verification: string; totp: string };
  /**
   * Another way to verify the caller when no push verification counts (device help: the employee's
   * confirmation in their own Slack). 'unverifiable': no such way exists (no Slack account matches), so
   * the change goes ahead only with a second person's approval.
   */
  alternative?: (minutes: number) => Promise<AlternativeVerification | null>;
}

export type AlternativeVerification = { via: 'slack_dm'; id: string } | { via: 'unverifiable' };

export interface Passed {
  actor: Actor;
  settings: Settings;
  guards: Guards;
  verification: VerificationView | null;
  /** Set when the caller was verified (or found unverifiable) another way than a push. */
  alternative: AlternativeVerification | null;
}

export type GuardName = 'verification' | 'step_up';

/** Owners other than this one who can approve now (their step-up is enrolled). */
async function approvingOwners(em: EntityManager, actor: Actor): Promise<number> {
  return em.count(Responder, {
    teamId: actor.teamId,
    role: 'owner',
    totpStatus: 'active',
    userId: { $ne: actor.userId },
  });
}

const PURPOSE: Record<GuardedAction, StepUpPurpose> = {
  unlock: 'unlock',
  bypass_codes: 'bypass_request',
  bypass_status: 'bypass_request',
  weakening_setting: 'weaken',
  powerful_role: 'weaken',
  approver_flag: 'weaken',
  stepup_reset: 'weaken',
  device_reactivate: 'unlock',
  device_remove: 'unlock',
  device_sms_passcodes: 'unlock',
  bulk_status: 'unlock',
  weak_codes_delete: 'bypass_request',
  email_change: 'unlock',
  user_trash: 'unlock',
  user_delete: 'unlock',
  user_delete_bulk: 'unlock',
};

export async function passGuards(deps: Deps, em: EntityManager, caller: Caller, input: GuardInput): Promise<Passed> {
  const actor = await requireActor(deps, em, caller);
  const settings = await authorizeOrThrow(deps, em, caller, actor, input.authorize.action, input.authorize.target, {
    targetUser: input.duoUser ?? undefined,
    ...(input.authorize.attempted ? { attempted: input.authorize.attempted } : {}),
  });
  const guards = guardsFor(input.action, {
    role: actor.role,
    settings,
    otherOwners: await approvingOwners(em, actor),
  });
  const refuse = (guard: GuardName, why: string) =>
    deps.audit.record(em, {
      teamId: actor.teamId,
      actor: { userId: actor.userId, role: actor.role },
      action: 'guard.refused',
      outcome: 'denied',
      target: input.duoUser ?? undefined,
      correlationId: caller.correlationId,
      params: { guard, why, attempted: input.authorize.attempted ?? input.action },
    });

  let verification: VerificationView | null = null;
  let alternative: AlternativeVerification | null = null;
  if (guards.verificationMinutes !== null) {
    if (!input.duoUser) throw new Error(`guard ${input.action}: a verification needs the Duo user it is about`);
    const v = await validVerification(em, deps.clock, {
      teamId: actor.teamId,
      duoUserId: input.duoUser.duoUserId,
      responderUserId: actor.userId,
      minutes: guards.verificationMinutes,
    });
    if (!v && input.alternative) alternative = await input.alternative(guards.verificationMinutes);
    // Nobody verified the caller: a second person must approve, whatever the requester's role.
    if (!v && alternative?.via === 'unverifiable') guards.approval = 'second_person';
    if (!v && !alternative) {
      await refuse('verification', 'no recent verification by this responder');
      throw fail(
        'VERIFICATION_REQUIRED',
        'guard.verification_required',
        { action: input.action, minutes: guards.verificationMinutes },
        { field: input.fields.verification },
      );
    }
    if (v) verification = toVerificationView(v);
  }

  if (guards.stepUp) {
    if (!input.totp?.trim()) {
      await refuse('step_up', 'no code given');
      throw fail('STEP_UP_REQUIRED', 'guard.step_up_required', { action: input.action }, { field: input.fields.totp });
    }
    try {
      await checkStepUp(deps, em, caller, input.totp, PURPOSE[input.action]);
    } catch (e) {
      if (isAppError(e) && e.code.startsWith('STEP_UP_'))
        await refuse('step_up', e.problem?.name ?? e.code.toLowerCase());
      throw e;
    }
  }
  return { actor, settings, guards, verification, alternative };
}

/**
 * The whole pipeline for a change that is not about a Duo user (settings, roles, step-up resets):
 * the guards, then the approval engine with the policy they chose (a second owner, or the delay).
 */
export async function submitGuarded<P>(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: ApprovalNotices,
  spec: {
    action: GuardedAction;
    authorize: GuardInput['authorize'];
    totp: string | null | undefined;
    reason: string | null | undefined;
    kind: AnyKind;
    params: P;
    requestChannel?: string | null;
  },
): Promise<Submitted> {
  const reason =
    cleanFreeText(spec.reason, { field: 'reason', purpose: 'change_reason', max: 500, required: false }) ??
    'no reason given';
  const { actor, guards } = await passGuards(deps, em, caller, {
    action: spec.action,
    authorize: spec.authorize,
    duoUser: null,
    totp: spec.totp,
    fields: { verification: 'reason', totp: 'totp' },
  });
  return submitRequest(deps, em, caller, actor, notices, {
    kind: spec.kind,
    params: spec.params,
    policy: guards.approval,
    target: null,
    reason,
    ticket: null,
    requestChannel: spec.requestChannel ?? null,
    verificationId: null,
    delayHours: guards.delayHours,
    audit: { guarded: spec.action },
    alert: true,
  });
}
