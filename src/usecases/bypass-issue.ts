import type { AuditActor } from '../audit/trail.js';
import { type IBypassRequest, Verification } from '../db/entities.js';
import type { BypassStatus } from '../domain/bypass-policy.js';
import { isDuoError } from '../duo/errors.js';
import type { User } from '../duo/types.js';
import { type AppError, fail, isAppError } from '../errors.js';
import { transition } from './bypass-store.js';
import type { Deps, EntityManager } from './deps.js';
import { safely } from './kit.js';
import { countActiveCodes } from './lookup.js';
import { toVerificationView, type VerificationView } from './verification-policy.js';

/**
 * Creating the codes in Duo and handing them over. The codes live in one local variable between
 * Duo's answer and the delivery to the requester: never in the database, the audit trail, a log
 * line, the approval card or the audit channel.
 */

/** What the approval card shows, read from the request row and a fresh Duo read (never from a payload). */
export interface ApprovalCardModel {
  request: IBypassRequest;
  /** null when Duo could not be read just now. */
  user: User | null;
  existingCodes: number | null;
  verification: VerificationView | null;
}

export type RequesterNotice =
  | { kind: 'submitted' }
  | { kind: 'denied' }
  | { kind: 'expired' }
  | { kind: 'cancelled' }
  | { kind: 'failed' }
  | { kind: 'unknown'; codesNow: number | null };

/** The Slack side of the flow, as a port (src/slack/bypass-jobs.ts implements it). */
export interface BypassNotices {
  /** Posts the card to the approval channel, or updates it in place once posted. */
  publishCard(card: ApprovalCardModel): Promise<{ channel: string; ts: string }>;
  /** Tells the requester privately: ephemeral where they asked, else a DM. */
  tellRequester(request: IBypassRequest, notice: RequesterNotice): Promise<void>;
  /** Hands the codes to the requester only, once. `validUntil` is the earliest they can expire (null: never). */
  deliverCodes(request: IBypassRequest, codes: readonly string[], validUntil: Date | null): Promise<'ephemeral' | 'dm'>;
}

export type IssueOutcome =
  | { outcome: 'issued'; deliveredVia: 'ephemeral' | 'dm' | null }
  | { outcome: 'failed'; errorCode: string }
  | { outcome: 'unknown'; errorCode: string; codesNow: number | null };

export async function approvalCard(deps: Deps, em: EntityManager, request: IBypassRequest): Promise<ApprovalCardModel> {
  let user: User | null = null;
  let existingCodes: number | null = null;
  try {
    user = await deps.duo.getUserById(request.duoUserId);
    existingCodes = countActiveCodes(await deps.duo.getUserBypassCodes(request.duoUserId), deps.clock.now());
  } catch (e) {
    deps.logger.warn('approval card: Duo read failed', { requestId: request.id, code: (e as { code?: string }).code });
  }
  const row = request.verificationId
    ? await em.findOne(Verification, { id: request.verificationId, teamId: request.teamId }, { refresh: true })
    : null;
  const verification = row ? toVerificationView(row) : null;
  return { request, user, existingCodes, verification };
}

/** Re-renders the approval card from the current row (when there is one). */
export async function refreshCard(deps: Deps, em: EntityManager, notices: BypassNotices, request: IBypassRequest) {
  if (!request.approvalTs) return;
  const card = await approvalCard(deps, em, request);
  await safely(deps, 'update the approval card', () => notices.publishCard(card));
}

const reload = async (em: EntityManager, r: IBypassRequest) => {
  await em.refresh(r);
  return r;
};

const codeIds = async (deps: Deps, duoUserId: string): Promise<Set<string> | null> =>
  deps.duo.getUserBypassCodes(duoUserId).then(
    (list) => new Set(list.map((c) => c.bypass_code_id)),
    () => null,
  );

/**
 * Creates exactly the approved parameters (from the row) for an 'approved' request, with intent and
 * outcome audit rows around the Duo call, then delivers the codes to the requester. Nothing is ever
 * retried. When Duo's answer is lost, the user's code list is read again: no new code id means
 * nothing was created (failed); otherwise, or when Duo cannot be read, the outcome is unknown.
 */
export async function issueCodes(
  deps: Deps,
  em: EntityManager,
  notices: BypassNotices,
  request: IBypassRequest,
  issuer: AuditActor,
  correlationId: string,
): Promise<IssueOutcome> {
  const base = { id: request.id, teamId: request.teamId, from: 'approved' as const };
  const settle = async (to: 'failed' | 'unknown', failureReason: string, notice: RequesterNotice) => {
    await transition(em, { ...base, to, set: { failureReason } });
    await reload(em, request);
    await safely(deps, 'tell the requester', () => notices.tellRequester(request, notice));
    await refreshCard(deps, em, notices, request);
  };
  const before = await codeIds(deps, request.duoUserId);
  if (!before) {
    // Duo cannot even be read: do not attempt the creation.
    await deps.audit.record(em, {
      teamId: request.teamId,
      actor: issuer,
      action: 'bypass.failed',
      outcome: 'failed',
      target: { duoUserId: request.duoUserId, username: request.username },
      requestRef: request.id,
      correlationId,
      params: { why: 'Duo unreachable before creating the codes' },
    });
    await settle('failed', 'DUO_UNAVAILABLE', { kind: 'failed' });
    return { outcome: 'failed', errorCode: 'DUO_UNAVAILABLE' };
  }
  const params = { count: request.count, validSecs: request.validSecs, reuseCount: request.reuseCount };
  const intent = await deps.audit.intent(em, {
    teamId: request.teamId,
    actor: issuer,
    action: 'bypass.issued',
    target: { duoUserId: request.duoUserId, username: request.username },
    requestRef: request.id,
    correlationId,
    params,
  });
  // Taken before the call: Duo's clock starts a little later, so this is never later than the real expiry.
  const validUntil = request.validSecs ? new Date(deps.clock.now().getTime() + request.validSecs * 1000) : null;
  let codes: string[];
  try {
    codes = await deps.duo.createBypassCodes(request.duoUserId, params);
  } catch (e) {
    const errorCode = isAppError(e) ? e.code : 'UNKNOWN';
    if (!isAppError(e)) deps.logger.error('bypass: code creation failed', { err: e, requestId: request.id });
    if (isDuoError(e) && e.outcomeUnknown) {
      const after = await codeIds(deps, request.duoUserId);
      const created = after ? [...after].filter((id) => !before.has(id)).length : null;
      if (created === 0) {
        await deps.audit.complete(em, intent, { outcome: 'failed', duoRef: errorCode, params: { recheckedNew: 0 } });
        await settle('failed', errorCode, { kind: 'failed' });
        return { outcome: 'failed', errorCode };
      }
      const codesNow = after ? after.size : null;
      await deps.audit.complete(em, intent, {
        outcome: 'unknown',
        duoRef: errorCode,
        params: { recheckedNew: created, codesNow },
      });
      const note = `${errorCode}: Duo's answer was lost; the user has ${codesNow ?? 'an unknown number of'} codes now${created ? ` (${created} new)` : ''}`;
      await settle('unknown', note, { kind: 'unknown', codesNow });
      return { outcome: 'unknown', errorCode, codesNow };
    }
    await deps.audit.complete(em, intent, { outcome: 'failed', duoRef: errorCode });
    await settle('failed', errorCode, { kind: 'failed' });
    return { outcome: 'failed', errorCode };
  }
  await deps.audit.complete(em, intent, { outcome: 'success' });
  await transition(em, { ...base, to: 'issued' });
  await reload(em, request);
  let deliveredVia: 'ephemeral' | 'dm' | null = null;
  try {
    deliveredVia = await notices.deliverCodes(request, codes, validUntil);
  } catch (e) {
    deps.logger.error('bypass: codes created but not delivered', {
      requestId: request.id,
      code: (e as { code?: string }).code ?? 'unknown',
    });
    const failureReason = 'delivery to the requester failed';
    await transition(em, { ...base, from: 'issued', to: 'issued', set: { failureReason } });
    await reload(em, request);
  } finally {
    codes.fill('');
    codes = [];
  }
  await refreshCard(deps, em, notices, request);
  return { outcome: 'issued', deliveredVia };
}

declare module '../errors.js' {
  interface Problems {
    /** A decision came too late: someone decided first, the requester cancelled, or it expired. */
    'bypass.not_pending': { status: BypassStatus; decidedBy: string | null; decidedAt: Date | null };
    'bypass.expired': NoFacts;
  }
}

/** Why a request can no longer be decided. */
export function notPendingError(request: IBypassRequest, now: Date): AppError | null {
  if (request.status !== 'pending')
    return fail('INVALID_STATE', 'bypass.not_pending', {
      status: request.status,
      decidedBy: request.decidedBy ?? null,
      decidedAt: request.decidedAt ?? null,
    });
  if (request.expiresAt.getTime() <= now.getTime()) return fail('INVALID_STATE', 'bypass.expired', {});
  return null;
}
