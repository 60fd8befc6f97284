import { z } from 'zod';
import { isDuoError } from '../duo/errors.js';
import { isAppError } from '../errors.js';
import type { ApprovalKind } from './approval-model.js';
import { requesterStillMay } from './approval-recheck.js';
import { isWeak } from './bypass-report.js';
import { auditedDuoCall } from './kit.js';

/**
 * Deleting the organisation's weak bypass codes (no expiry) in bulk, from the bypass-code report. The request
 * names the code ids Duo listed when it was made (never the codes); when it runs, each code is read again
 * (GET /admin/v1/bypass_codes/[id]) and deleted (DELETE …/[id]) only if it still exists and is still weak. Each
 * deletion has its intent and outcome in the audit trail (`bypass_code.deleted`).
 */
export const WEAK_CODES_MAX = 500;

const Code = z.object({
  id: z.string().min(1).max(255),
  duoUserId: z.string().max(255),
  username: z.string().max(255),
});
export const WeakCodesParams = z.object({ targets: z.array(Code.strict()).min(1).max(WEAK_CODES_MAX) }).strict();
export type WeakCodesParams = z.infer<typeof WeakCodesParams>;

export const weakCodesKind: ApprovalKind<WeakCodesParams, null> = {
  name: 'weak_codes_delete',
  audit: 'weak_codes',
  params: WeakCodesParams,

  stillAllowed: (ctx, r) => requesterStillMay(ctx, r, 'bypass_codes.delete', { kind: 'none' }),

  async execute(ctx, r) {
    const { deps, em } = ctx;
    let deleted = 0;
    let gone = 0;
    let notWeak = 0;
    let failed = 0;
    for (const c of r.params.targets) {
      let meta: Awaited<ReturnType<typeof deps.duo.getBypassCode>>;
      try {
        meta = await deps.duo.getBypassCode(c.id);
      } catch (e) {
        if (isDuoError(e) && e.httpStatus === 404) gone++;
        else failed++;
        continue;
      }
      if (!isWeak(meta)) {
        notWeak++;
        continue;
      }
      const intent = await deps.audit.intent(em, {
        teamId: r.teamId,
        actor: ctx.actor,
        action: 'bypass_code.deleted',
        target: { duoUserId: meta.user?.user_id ?? c.duoUserId, username: meta.user?.username ?? c.username },
        requestRef: r.id,
        reason: r.reason,
        correlationId: ctx.correlationId,
        params: { bypassCodeId: c.id, weak: true, bulk: true },
      });
      try {
        await auditedDuoCall(deps, em, intent, () => deps.duo.deleteBypassCode(c.id));
        deleted++;
      } catch (e) {
        failed++;
        if (!isAppError(e)) deps.logger.warn('deleting a weak bypass code failed', { err: e });
      }
    }
    const result = { deleted, gone, notWeak, failed };
    return failed && !deleted
      ? { state: 'failed', reason: 'no code could be deleted', result }
      : { state: 'done', result };
  },
};
