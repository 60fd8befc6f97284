import type { AuditParams } from '../audit/secrets-guard.js';
import type { AuditEntry } from '../audit/trail.js';
import type { IBypassRequest } from '../db/entities.js';
import { authorize } from '../domain/authorize.js';
import type { Actor } from '../domain/roles.js';
import { AppError, fail } from '../errors.js';
import { authorizeOrThrow, findActor, recordDenial, requireActor } from './access.js';
import { type BypassNotices, type IssueOutcome, issueCodes, notPendingError, refreshCard } from './bypass-issue.js';
import { loadRequest, type Transition, transition } from './bypass-store.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { cleanFreeText, type Progress } from './kit.js';
import { loadSettings } from './settings.js';
import { checkStepUp, totpStatus } from './step-up.js';

/**
 * The second person's side: approve (after TOTP step-up) or deny a pending request, the requester's
 * cancel, and expiry. Every path re-loads the request and the responder and authorizes again; the
 * request id that came back from Slack is only a reference.
 */
declare module '../errors.js' {
  interface Problems {
    'bypass.approver_not_enrolled': NoFacts;
    'bypass.requester_no_longer_allowed': { requesterUserId: string };
    'bypass.cancel_not_requester': NoFacts;
  }
}

const targetOf = (r: IBypassRequest) => ({ duoUserId: r.duoUserId, username: r.username });
const paramsOf = (r: IBypassRequest) => ({ count: r.count, validSecs: r.validSecs, reuseCount: r.reuseCount });

async function authorizeDecision(deps: Deps, em: EntityManager, caller: Caller, requestId: string) {
  const actor = await requireActor(deps, em, caller);
  const request = await loadRequest(em, actor.teamId, requestId);
  await authorizeOrThrow(
    deps,
    em,
    caller,
    actor,
    'bypass.approve',
    { kind: 'approval', requesterUserId: request.requesterUserId },
    { targetUser: targetOf(request) },
  );
  const stale = notPendingError(request, deps.clock.now());
  if (stale) throw stale;
  return { actor, request };
}

/** The check behind the Approve and Deny buttons, before their modal opens. */
export async function prepareDecision(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  requestId: string,
  decision: 'approve' | 'deny',
): Promise<IBypassRequest> {
  const { actor, request } = await authorizeDecision(deps, em, caller, requestId);
  if (decision === 'approve' && (await totpStatus(em, actor.teamId, actor.userId)).status !== 'active')
    throw fail('STEP_UP_NOT_ENROLLED', 'bypass.approver_not_enrolled', {});
  return request;
}

/** The requester must still be allowed to receive exactly these codes when they are issued. */
async function assertRequesterStillAllowed(em: EntityManager, request: IBypassRequest) {
  const requester = await findActor(em, request.teamId, request.requesterUserId);
  const settings = await loadSettings(em, request.teamId);
  const ok =
    requester &&
    authorize(requester, 'bypass.request', { kind: 'bypass', params: paramsOf(request) }, settings).allowed;
  if (!ok)
    throw fail('INVALID_STATE', 'bypass.requester_no_longer_allowed', { requesterUserId: request.requesterUserId });
}

export interface ApproveResult {
  request: IBypassRequest;
  issue: IssueOutcome;
}

/**
 * Step-up first (outside any transaction, so a refused code is recorded), then the decision as one
 * conditional UPDATE (the first decision wins), then the Duo call outside the transaction.
 */
export async function approveBypassRequest(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: BypassNotices,
  input: { requestId: string; totpCode: string },
): Promise<ApproveResult> {
  const { actor, request } = await authorizeDecision(deps, em, caller, input.requestId);
  await assertRequesterStillAllowed(em, request);
  await checkStepUp(deps, em, caller, input.totpCode, 'approve');
  const now = deps.clock.now();
  const won = await transitionAudited(
    deps,
    em,
    {
      id: request.id,
      teamId: request.teamId,
      from: 'pending',
      to: 'approved',
      set: { decidedBy: actor.userId, decidedAt: now },
      notExpiredAt: now,
    },
    event(request, actor, 'bypass.approved', 'success', caller.correlationId, { stepUp: true }),
  );
  await em.refresh(request);
  if (!won) throw notPendingError(request, now) ?? new AppError('CONFLICT', 'decision lost');
  const issue = await issueCodes(
    deps,
    em,
    notices,
    request,
    { userId: actor.userId, role: actor.role },
    caller.correlationId,
  );
  return { request, issue };
}

const DENY_FIELD = 'deny_reason'; // BLOCKS.denyReason

export async function denyBypassRequest(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: BypassNotices,
  input: { requestId: string; reason: string },
  progress: Progress = {},
): Promise<IBypassRequest> {
  const reason = cleanFreeText(input.reason, { field: DENY_FIELD, purpose: 'deny_reason', max: 500, required: true })!;
  const { actor, request } = await authorizeDecision(deps, em, caller, input.requestId);
  const now = deps.clock.now();
  const won = await transitionAudited(
    deps,
    em,
    {
      id: request.id,
      teamId: request.teamId,
      from: 'pending',
      to: 'denied',
      set: { decidedBy: actor.userId, decidedAt: now, decisionNote: reason },
      notExpiredAt: now,
    },
    { ...event(request, actor, 'bypass.denied', 'success', caller.correlationId), reason },
  );
  await em.refresh(request);
  if (!won) throw notPendingError(request, now) ?? new AppError('CONFLICT', 'decision lost');
  await progress.accepted?.();
  await refreshCard(deps, em, notices, request);
  await notices.tellRequester(request, { kind: 'denied' }).catch((e) => warn(deps, 'tell the requester', e));
  return request;
}

/** Only the requester cancels, and only while the request is pending. */
export async function cancelBypassRequest(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: BypassNotices,
  requestId: string,
): Promise<IBypassRequest> {
  const actor = await requireActor(deps, em, caller);
  const request = await loadRequest(em, actor.teamId, requestId);
  if (request.requesterUserId !== actor.userId) {
    await recordDenial(deps, em, caller, actor, {
      attempted: 'bypass.cancel',
      why: 'not the requester',
      target: targetOf(request),
      requestRef: request.id,
    });
    throw fail('PERMISSION_DENIED', 'bypass.cancel_not_requester', {});
  }
  const now = deps.clock.now();
  const won = await transitionAudited(
    deps,
    em,
    {
      id: request.id,
      teamId: request.teamId,
      from: 'pending',
      to: 'cancelled',
      set: { decidedBy: actor.userId, decidedAt: now },
    },
    event(request, actor, 'bypass.cancelled', 'success', caller.correlationId),
  );
  await em.refresh(request);
  if (!won) throw notPendingError(request, now) ?? new AppError('CONFLICT', 'cancel lost');
  await refreshCard(deps, em, notices, request);
  return request;
}

/**
 * The 'bypass.expire' job: pending → expired once expires_at has passed (a decision that came first
 * wins), then the card and the requester are told. Returns when to look again if run early.
 */
/**
 * Issuing follows the approval within seconds (Duo's client gives up within about two minutes). A request
 * still 'approved' long after its decision means duo-desk stopped in between: nobody knows whether Duo
 * created codes, so it is closed as unknown, audited, and the requester told to check the user's codes.
 * Nothing is created again automatically.
 */
export const STUCK_APPROVAL_MS = 5 * 60_000;

async function settleStuckApproval(
  deps: Deps,
  em: EntityManager,
  notices: BypassNotices,
  request: IBypassRequest,
  now: Date,
): Promise<{ runAgainAt: Date } | undefined> {
  const stuckAt = new Date((request.decidedAt ?? now).getTime() + STUCK_APPROVAL_MS);
  if (stuckAt.getTime() > now.getTime()) return { runAgainAt: stuckAt };
  const failureReason = 'duo-desk stopped between the approval and Duo’s answer: check the user’s codes';
  const won = await transitionAudited(
    deps,
    em,
    { id: request.id, teamId: request.teamId, from: 'approved', to: 'unknown', set: { failureReason } },
    event(request, null, 'bypass.failed', 'unknown', null, { why: 'issuing never finished' }),
  );
  if (!won) return undefined;
  await em.refresh(request);
  await refreshCard(deps, em, notices, request);
  await notices
    .tellRequester(request, { kind: 'unknown', codesNow: null })
    .catch((e) => warn(deps, 'tell the requester', e));
  return undefined;
}

export async function expireBypassRequest(
  deps: Deps,
  em: EntityManager,
  notices: BypassNotices,
  q: { teamId: string; requestId: string },
): Promise<{ runAgainAt: Date } | undefined> {
  let request: IBypassRequest;
  try {
    request = await loadRequest(em, q.teamId, q.requestId);
  } catch {
    return undefined;
  }
  const now = deps.clock.now();
  if (request.status === 'approved') return settleStuckApproval(deps, em, notices, request, now);
  if (request.status !== 'pending') return undefined;
  if (request.expiresAt.getTime() > now.getTime()) return { runAgainAt: request.expiresAt };
  const won = await transitionAudited(
    deps,
    em,
    { id: request.id, teamId: request.teamId, from: 'pending', to: 'expired', expiredAt: now },
    event(request, null, 'bypass.expired', 'success', null),
  );
  if (!won) return undefined;
  await em.refresh(request);
  await refreshCard(deps, em, notices, request);
  await notices.tellRequester(request, { kind: 'expired' }).catch((e) => warn(deps, 'tell the requester', e));
  return undefined;
}

/** A state change of the request and its audit event commit together, or neither (the first decision wins). */
function transitionAudited(deps: Deps, em: EntityManager, t: Transition, entry: AuditEntry): Promise<boolean> {
  return em.transactional(async (tem) => {
    const ok = await transition(tem, t);
    if (ok) await deps.audit.record(tem, entry);
    return ok;
  });
}

/** The audit event of a decision on a request; `by` null means duo-desk itself (expiry, recovery). */
function event(
  request: IBypassRequest,
  by: Actor | null,
  action: 'bypass.approved' | 'bypass.denied' | 'bypass.cancelled' | 'bypass.expired' | 'bypass.failed',
  outcome: 'success' | 'unknown',
  correlationId: string | null,
  extra: AuditParams = {},
): AuditEntry {
  return {
    teamId: request.teamId,
    actor: by ? { userId: by.userId, role: by.role } : { system: 'duo-desk' },
    action,
    outcome,
    target: targetOf(request),
    requestRef: request.id,
    correlationId,
    params: { ...paramsOf(request), requester: request.requesterUserId, ...extra },
  };
}

const warn = (deps: Deps, what: string, e: unknown) =>
  deps.logger.warn(`bypass: could not ${what}`, { code: (e as { code?: string }).code ?? 'unknown' });
