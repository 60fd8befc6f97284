import { LockMode } from '@mikro-orm/core';
import { Responder } from '../db/entities.js';
import { type BypassParams, DEFAULT_BYPASS_PARAMS, MAX_CODES_PER_REQUEST } from '../domain/bypass-policy.js';
import type { User } from '../domain/duo-objects.js';
import { approvalRequired } from '../domain/guards.js';
import { fail } from '../errors.js';
import { authorizeOrThrow, requireActor } from './access.js';
import { bypassCodesKind } from './approval-bypass-codes.js';
import { type Submitted, submitRequest } from './approval-engine.js';
import type { ApprovalNotices } from './approval-model.js';
import {
  assertDailyLimit,
  assertEligible,
  assertOffered,
  type BypassChoices,
  bypassChoices,
  roomFor,
  verificationOf,
} from './bypass-checks.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { passGuards } from './guards.js';
import { cleanFreeText, type Progress } from './kit.js';
import { findDuoUser } from './lookup.js';
import type { VerificationState } from './verification-policy.js';

export { type BypassChoices, bypassChoices } from './bypass-checks.js';

/**
 * The requester's side of bypass codes: what the form may offer, and the request itself, through
 * the guard pipeline (verification, step-up when the settings ask) and the approval engine. The
 * form's choices follow the role and settings; the submission is checked against the same choices,
 * so a forged view_submission gets nothing the form did not offer.
 */
export interface BypassFormModel {
  user: User;
  existingCodes: number;
  choices: BypassChoices;
  verification: VerificationState;
  stepUpRequired: boolean;
  approvalRequired: boolean;
  approvalTimeoutMinutes: number;
}

/** Everything the request form shows; refuses early what the submission would refuse anyway. */
export async function prepareBypassRequest(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  userQuery: string,
): Promise<BypassFormModel> {
  const actor = await requireActor(deps, em, caller);
  const settings = await authorizeOrThrow(deps, em, caller, actor, 'bypass.request', {
    kind: 'bypass',
    params: DEFAULT_BYPASS_PARAMS,
  });
  await assertDailyLimit(deps, em, actor, settings);
  const user = await findDuoUser(deps, userQuery);
  assertEligible(user);
  const { existing, room } = await roomFor(deps, user);
  return {
    user,
    existingCodes: existing,
    choices: bypassChoices(actor, settings, room),
    verification: await verificationOf(deps, em, actor, settings, user.user_id),
    stepUpRequired: settings.step_up_for_bypass_request,
    approvalRequired: approvalRequired(actor.role, settings),
    approvalTimeoutMinutes: settings.approval_timeout_minutes,
  };
}

export interface BypassRequestInput extends BypassParams {
  duoUserId: string;
  reason: string;
  ticket: string | null;
  totpCode: string | null;
  requestChannel: string | null;
  /** The requester's open form: codes that need no approval are shown there, once. */
  formViewId?: string;
}

export async function submitBypassRequest(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: ApprovalNotices,
  input: BypassRequestInput,
  progress: Progress = {},
): Promise<Submitted> {
  const params: BypassParams = { count: input.count, reuseCount: input.reuseCount, validSecs: input.validSecs };
  const reason = cleanFreeText(input.reason, { field: 'reason', purpose: 'bypass_reason', max: 500, required: true })!;
  const ticket = cleanFreeText(input.ticket, { field: 'ticket', purpose: 'ticket', max: 100, required: false });
  // Checks that need no Duo call come first, so their errors land on the form before the ack.
  const passed = await passGuards(deps, em, caller, {
    action: 'bypass_codes',
    authorize: { action: 'bypass.request', target: { kind: 'bypass', params } },
    duoUser: { duoUserId: input.duoUserId },
    totp: input.totpCode,
    fields: { verification: 'reason', totp: 'totp' },
  });
  const { actor, settings, guards } = passed;
  await assertOffered(deps, em, caller, actor, params, bypassChoices(actor, settings, MAX_CODES_PER_REQUEST), {
    duoUserId: input.duoUserId,
  });
  await assertDailyLimit(deps, em, actor, settings);
  await progress.accepted?.();
  const user = await findDuoUser(deps, input.duoUserId);
  assertEligible(user);
  const { room } = await roomFor(deps, user);
  if (params.count > room) throw fail('LIMIT_REACHED', 'bypass.not_enough_room', { username: user.username, room });
  return submitRequest(deps, em, caller, actor, notices, {
    kind: bypassCodesKind,
    params,
    policy: guards.approval,
    target: { duoUserId: user.user_id, username: user.username },
    reason,
    ticket,
    requestChannel: input.requestChannel,
    verificationId: passed.verification?.id ?? null,
    delayHours: guards.delayHours,
    audit: { ...params, verified: guards.verificationMinutes !== null },
    ...(input.formViewId ? { deliverTo: { viewId: input.formViewId } } : {}),
    // One requester's requests are serialised, so the daily limit holds under concurrent submits.
    beforeInsert: async (tem) => {
      await tem.findOne(
        Responder,
        { teamId: actor.teamId, userId: actor.userId },
        { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
      );
      await assertDailyLimit(deps, tem, actor, settings);
    },
  });
}
