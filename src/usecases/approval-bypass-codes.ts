import { z } from 'zod';
import { Verification } from '../db/entities.js';
import { authorize } from '../domain/authorize.js';
import { type BypassParams, MAX_CODES_PER_REQUEST } from '../domain/bypass-policy.js';
import type { User } from '../domain/duo-objects.js';
import { isDuoError } from '../duo/errors.js';
import { isAppError } from '../errors.js';
import { findActor } from './access.js';
import type { ApprovalKind, ExecuteOutcome } from './approval-model.js';
import { countActiveCodes } from './lookup.js';
import { loadSettings } from './settings.js';
import { toVerificationView, type VerificationView } from './verification-policy.js';

/**
 * Bypass codes: created in Duo with exactly the approved parameters, delivered once to the requester
 * only. The codes live in one local variable between Duo's answer and the delivery: never in the
 * database, the audit trail, a log line, the card or the audit channel. Nothing is ever retried;
 * when Duo's answer is lost, the user's code list is read again: no new code id means nothing was
 * created (failed), otherwise, or when Duo cannot be read, the outcome is unknown.
 */
export const BypassCodesParams = z
  .object({
    count: z.number().int().min(1).max(MAX_CODES_PER_REQUEST),
    reuseCount: z.number().int().min(0),
    validSecs: z.number().int().min(0),
  })
  .strict();

export interface BypassCodesCard {
  user: User | null;
  existingCodes: number | null;
  verification: VerificationView | null;
}

const codeIds = async (
  duo: { getUserBypassCodes(id: string): Promise<Array<{ bypass_code_id: string }>> },
  id: string,
) =>
  duo.getUserBypassCodes(id).then(
    (list) => new Set(list.map((c) => c.bypass_code_id)),
    () => null,
  );

export const bypassCodesKind: ApprovalKind<BypassParams, BypassCodesCard> = {
  name: 'bypass_codes',
  audit: 'bypass',
  params: BypassCodesParams,

  async stillAllowed({ em }, r) {
    const requester = await findActor(em, r.teamId, r.requesterUserId);
    const settings = await loadSettings(em, r.teamId);
    return Boolean(
      requester && authorize(requester, 'bypass.request', { kind: 'bypass', params: r.params }, settings).allowed,
    );
  },

  async cardFacts({ deps, em }, r) {
    const duoUserId = r.target!.duoUserId;
    const user = await deps.duo.getUserById(duoUserId).catch(() => null);
    const existingCodes = user
      ? await deps.duo.getUserBypassCodes(duoUserId).then(
          (c) => countActiveCodes(c, deps.clock.now()),
          () => null,
        )
      : null;
    const row = r.verificationId
      ? await em.findOne(Verification, { id: r.verificationId, teamId: r.teamId }, { refresh: true })
      : null;
    return { user, existingCodes, verification: row ? toVerificationView(row) : null };
  },

  async execute(ctx, r): Promise<ExecuteOutcome> {
    const { deps, em } = ctx;
    const target = r.target!;
    const before = await codeIds(deps.duo, target.duoUserId);
    if (!before) {
      // Duo cannot even be read: the creation is not attempted.
      await deps.audit.record(em, {
        teamId: r.teamId,
        actor: ctx.actor,
        action: 'bypass.failed',
        outcome: 'failed',
        target,
        requestRef: r.id,
        correlationId: ctx.correlationId,
        params: { why: 'Duo unreachable before creating the codes' },
      });
      return { state: 'failed', reason: 'DUO_UNAVAILABLE' };
    }
    const params = { count: r.params.count, validSecs: r.params.validSecs, reuseCount: r.params.reuseCount };
    const intent = await deps.audit.intent(em, {
      teamId: r.teamId,
      actor: ctx.actor,
      action: 'bypass.issued',
      target,
      requestRef: r.id,
      correlationId: ctx.correlationId,
      params,
    });
    // Taken before the call: Duo's clock starts a little later, so this is never later than the real expiry.
    const validUntil = params.validSecs ? new Date(deps.clock.now().getTime() + params.validSecs * 1000) : null;
    let codes: string[];
    try {
      codes = await deps.duo.createBypassCodes(target.duoUserId, params);
    } catch (e) {
      const errorCode = isAppError(e) ? e.code : 'UNKNOWN';
      if (!isAppError(e)) deps.logger.error('bypass: code creation failed', { err: e, requestId: r.id });
      if (isDuoError(e) && e.outcomeUnknown) {
        const after = await codeIds(deps.duo, target.duoUserId);
        const created = after ? [...after].filter((id) => !before.has(id)).length : null;
        if (created === 0) {
          await deps.audit.complete(em, intent, { outcome: 'failed', duoRef: errorCode, params: { recheckedNew: 0 } });
          return { state: 'failed', reason: errorCode };
        }
        const codesNow = after ? after.size : null;
        await deps.audit.complete(em, intent, {
          outcome: 'unknown',
          duoRef: errorCode,
          params: { recheckedNew: created, codesNow },
        });
        return {
          state: 'unknown',
          reason: `${errorCode}: Duo's answer was lost; the user has ${codesNow ?? 'an unknown number of'} codes now${created ? ` (${created} new)` : ''}`,
          result: { codesNow },
        };
      }
      await deps.audit.complete(em, intent, { outcome: 'failed', duoRef: errorCode });
      return { state: 'failed', reason: errorCode };
    }
    await deps.audit.complete(em, intent, { outcome: 'success' });
    let deliveredVia: string | null = null;
    try {
      deliveredVia = await ctx.notices.deliverPrivately(
        r,
        { secrets: codes, facts: { validUntil: validUntil?.toISOString() ?? null, reuseCount: params.reuseCount } },
        ctx.deliverTo,
      );
    } catch (e) {
      deps.logger.error('bypass: codes created but not delivered', {
        requestId: r.id,
        code: (e as { code?: string }).code ?? 'unknown',
      });
    } finally {
      codes.fill('');
      codes = [];
    }
    return { state: 'done', result: { deliveredVia, ...(deliveredVia ? {} : { deliveryFailed: true }) } };
  },
};
