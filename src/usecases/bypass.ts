import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import { BypassRequest, type IBypassRequest, Responder } from '../db/entities.js';
import { approvalRequired } from '../domain/authorize.js';
import { type BypassParams, DEFAULT_BYPASS_PARAMS, MAX_CODES_PER_REQUEST } from '../domain/bypass-policy.js';
import type { User } from '../duo/types.js';
import { fail } from '../errors.js';
import { authorizeOrThrow, requireActor } from './access.js';
import {
  assertDailyLimit,
  assertEligible,
  assertOffered,
  type BypassChoices,
  bypassChoices,
  roomFor,
  verificationOf,
} from './bypass-checks.js';
import { approvalCard, type BypassNotices, type IssueOutcome, issueCodes } from './bypass-issue.js';
import { EXPIRE_JOB, expireJobKey, setCardLocation, transition } from './bypass-store.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { cleanFreeText, type Progress, safely } from './kit.js';
import { findDuoUser } from './lookup.js';
import { checkStepUp } from './step-up.js';
import type { VerificationState } from './verification-policy.js';

export { type BypassChoices, bypassChoices } from './bypass-checks.js';

declare module '../errors.js' {
  interface Problems {
    'bypass.verification_required': { minutes: number };
    'bypass.step_up_required': NoFacts;
    'bypass.no_approval_channel': NoFacts;
    'bypass.card_not_posted': { channel: string | null };
  }
}

/**
 * The requester's side of bypass codes: what the form may offer, and the request itself. The form's
 * choices follow the role and settings; the submission is checked against the same choices, so a
 * forged view_submission gets nothing the form did not offer.
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
}

export interface BypassRequestResult {
  request: IBypassRequest;
  /** 'pending' while a second person decides; otherwise the issue outcome (approval not required). */
  outcome: 'pending' | IssueOutcome['outcome'];
  issue: IssueOutcome | null;
}

/**
 * Records a request (pending a second person's decision, or approved at once when the settings
 * exempt the requester's role), then posts the card or issues the codes.
 */
export async function submitBypassRequest(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: BypassNotices,
  input: BypassRequestInput,
  progress: Progress = {},
): Promise<BypassRequestResult> {
  const actor = await requireActor(deps, em, caller);
  const params: BypassParams = { count: input.count, reuseCount: input.reuseCount, validSecs: input.validSecs };
  const target = { duoUserId: input.duoUserId };
  const settings = await authorizeOrThrow(
    deps,
    em,
    caller,
    actor,
    'bypass.request',
    { kind: 'bypass', params },
    { targetUser: target },
  );
  await assertOffered(deps, em, caller, actor, params, bypassChoices(actor, settings, MAX_CODES_PER_REQUEST), target);
  const reason = cleanFreeText(input.reason, { field: 'reason', purpose: 'bypass_reason', max: 500, required: true })!;
  const ticket = cleanFreeText(input.ticket, { field: 'ticket', purpose: 'ticket', max: 100, required: false });
  await assertDailyLimit(deps, em, actor, settings);
  // Checks that need no Duo call come first, so their errors land on the form before the ack.
  const verification = await verificationOf(deps, em, actor, settings, input.duoUserId);
  if (verification.required && !verification.satisfied) {
    await deps.audit.record(em, {
      teamId: actor.teamId,
      actor: { userId: actor.userId, role: actor.role },
      action: 'bypass.requested',
      outcome: 'denied',
      target,
      correlationId: caller.correlationId,
      params: { why: 'no recent verification', minutes: settings.verification_valid_minutes_bypass },
    });
    throw fail(
      'VERIFICATION_REQUIRED',
      'bypass.verification_required',
      { minutes: settings.verification_valid_minutes_bypass },
      { field: 'reason' },
    );
  }
  if (settings.step_up_for_bypass_request) {
    if (!input.totpCode) throw fail('STEP_UP_REQUIRED', 'bypass.step_up_required', {}, { field: 'totp' });
    await checkStepUp(deps, em, caller, input.totpCode, 'bypass_request');
  }
  await progress.accepted?.();
  const user = await findDuoUser(deps, input.duoUserId);
  assertEligible(user);
  const { room } = await roomFor(deps, user);
  if (params.count > room) throw fail('LIMIT_REACHED', 'bypass.not_enough_room', { username: user.username, room });
  const named = { duoUserId: user.user_id, username: user.username };
  const needsApproval = approvalRequired(actor.role, settings);
  if (needsApproval && !deps.config.approvalChannel) throw fail('CONFIG_INVALID', 'bypass.no_approval_channel', {});
  const now = deps.clock.now();
  const id = randomUUID();
  const request = await em.transactional(async (tem) => {
    // One requester's requests are serialised, so the daily limit holds under concurrent submits.
    await tem.findOne(
      Responder,
      { teamId: actor.teamId, userId: actor.userId },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    );
    await assertDailyLimit(deps, tem, actor, settings);
    const row = tem.create(BypassRequest, {
      id,
      teamId: actor.teamId,
      requesterUserId: actor.userId,
      requesterRole: actor.role,
      duoUserId: user.user_id,
      username: user.username,
      ...params,
      reason,
      ticket,
      status: needsApproval ? 'pending' : 'approved',
      requestChannel: input.requestChannel,
      decidedBy: needsApproval ? null : actor.userId,
      decidedAt: needsApproval ? null : now,
      decisionNote: needsApproval ? null : 'approval not required for this role by the settings',
      verificationId: verification.required && verification.satisfied ? verification.verification.id : null,
      expiresAt: new Date(now.getTime() + settings.approval_timeout_minutes * 60_000),
      createdAt: now,
    });
    await tem.flush();
    await deps.audit.record(tem, {
      teamId: actor.teamId,
      actor: { userId: actor.userId, role: actor.role },
      action: 'bypass.requested',
      outcome: 'success',
      target: named,
      reason,
      ticket,
      requestRef: id,
      correlationId: caller.correlationId,
      params: { ...params, approvalRequired: needsApproval, verified: verification.required },
    });
    if (needsApproval)
      await deps.jobs.enqueue(tem, {
        kind: EXPIRE_JOB,
        payload: { teamId: actor.teamId, requestId: id },
        runAt: row.expiresAt,
        dedupeKey: expireJobKey(id),
      });
    return row;
  });
  if (!needsApproval) {
    const issue = await issueCodes(
      deps,
      em,
      notices,
      request,
      { userId: actor.userId, role: actor.role },
      caller.correlationId,
    );
    return { request, outcome: issue.outcome, issue };
  }
  await postCard(deps, em, notices, request, caller.correlationId);
  await safely(deps, 'tell the requester', () => notices.tellRequester(request, { kind: 'submitted' }));
  return { request, outcome: 'pending', issue: null };
}

/** Posts the approval card; a request nobody can see is withdrawn at once (failed), never left pending. */
async function postCard(
  deps: Deps,
  em: EntityManager,
  notices: BypassNotices,
  request: IBypassRequest,
  correlationId: string,
): Promise<void> {
  try {
    const at = await notices.publishCard(await approvalCard(deps, em, request));
    await setCardLocation(em, request.id, at.channel, at.ts);
    await em.refresh(request);
  } catch (e) {
    const why = 'the approval card could not be posted';
    await em.transactional(async (tem) => {
      if (
        await transition(tem, {
          id: request.id,
          teamId: request.teamId,
          from: 'pending',
          to: 'failed',
          set: { failureReason: why },
        })
      )
        await deps.audit.record(tem, {
          teamId: request.teamId,
          actor: { system: 'duo-desk' },
          action: 'bypass.failed',
          outcome: 'failed',
          target: { duoUserId: request.duoUserId, username: request.username },
          requestRef: request.id,
          correlationId,
          params: { why, slackError: String((e as { code?: string }).code ?? 'unknown').slice(0, 60) },
        });
    });
    throw fail(
      'INVALID_STATE',
      'bypass.card_not_posted',
      { channel: deps.config.approvalChannel ?? null },
      { cause: e },
    );
  }
}
