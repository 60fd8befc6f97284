import { z } from 'zod';
import { nobodyAvailableMessage, reminderMessage } from '../../views/reminders.js';
import type { JobHandler } from '../jobs/queue.js';
import { loadRequest } from '../usecases/approval-engine.js';
import { approvalAvailability } from '../usecases/approval-reminders.js';
import type { Deps } from '../usecases/deps.js';
import type { Notifier } from './notifier.js';

const payloadSchema = z.object({
  teamId: z.string().min(1),
  requestId: z.string().min(1),
  phase: z.enum(['check', 'remind']),
});

/** The approval.remind job: a check when a request starts waiting, the reminder at half its timeout. */
export function createApprovalReminder(deps: Deps, notifier: Notifier): JobHandler {
  return async (payload, ctx) => {
    const p = payloadSchema.safeParse(payload);
    if (!p.success) {
      ctx.logger.warn('approval reminder: bad payload; dropped');
      return undefined;
    }
    const r = await loadRequest(deps, ctx.em, p.data.teamId, p.data.requestId).catch(() => null);
    // Decided, cancelled or expired meanwhile: nothing to remind of.
    if (r?.state !== 'requested' || r.expiresAt <= deps.clock.now()) return undefined;
    const availability = await approvalAvailability(ctx.em, r);
    if (availability.problem) {
      await notifier.tellPrivately(r.requesterUserId, r.requestChannel, nobodyAvailableMessage(r, availability));
      return undefined;
    }
    if (p.data.phase === 'remind' && r.card)
      await notifier.postInThread(r.card.channel, r.card.ts, reminderMessage(r, availability));
    return undefined;
  };
}
