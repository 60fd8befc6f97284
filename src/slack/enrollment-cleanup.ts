import { z } from 'zod';
import { mfaEnrollmentEndedModal } from '../../views/mfa.js';
import type { JobHandler } from '../jobs/queue.js';
import type { Deps } from '../usecases/deps.js';
import { markQrDeleted, settleEnrollment } from '../usecases/step-up.js';
import type { Notifier } from './notifier.js';

const payloadSchema = z.object({ enrollmentId: z.uuid() });

/**
 * Job 'stepup.enrollment.cleanup': runs when a step-up enrollment attempt ends (confirmed, refused,
 * abandoned, replaced) and at the latest when it expires. Deletes the QR file and, when the attempt ended
 * without the modal being replaced by its own answer, takes the key out of the modal. A Slack failure
 * other than "already gone" throws, so the job retries.
 */
export function createEnrollmentCleanup(env: { deps: Deps; notifier: Notifier }): JobHandler {
  return async (payload, ctx) => {
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) {
      ctx.logger.warn('stepup.enrollment.cleanup: bad payload; dropped');
      return undefined;
    }
    const { enrollmentId } = parsed.data;
    const d = await settleEnrollment(env.deps, ctx.em, enrollmentId);
    if (!d) return undefined;
    if (d.status === 'pending') return { runAgainAt: d.expiresAt };
    if (d.qrFileId && !d.qrDeleted) {
      await env.notifier.deleteFile(d.qrFileId);
      await markQrDeleted(env.deps, ctx.em, enrollmentId);
    }
    if (d.viewId && (d.status === 'expired' || d.status === 'replaced'))
      // A modal the responder already closed cannot be updated, and then shows nothing anyway.
      await env.notifier
        .updateView(d.viewId, mfaEnrollmentEndedModal(d.status))
        .catch((e) => ctx.logger.info('enrollment modal already closed', { err: e }));
    return undefined;
  };
}
