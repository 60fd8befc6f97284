import { z } from 'zod';
import { approvalCardMessage, deliveryMessage, deliveryModal, requesterMessage } from '../../views/approvals.js';
import type { JobHandler, JobQueue } from '../jobs/queue.js';
import { endTimeBox, expireRequest, runScheduled } from '../usecases/approval-engine.js';
import type { ApprovalNotices } from '../usecases/approval-model.js';
import { scheduleReminders } from '../usecases/approval-reminders.js';
import type { Deps } from '../usecases/deps.js';
import { refreshHomes } from './home.js';
import type { Notifier } from './notifier.js';

/**
 * The Slack side of approvals: the card in the approvals channel, the requester's notices, and the
 * one-time private delivery (bypass codes): in the requester's own open form when there is one
 * (a modal does not persist), else an ephemeral where they asked, else a DM that a durable job
 * deletes after ten minutes (and that says so). Nothing here logs a payload.
 */
export const DELETE_MESSAGE_JOB = 'message.delete';
export const DM_LIFETIME_MS = 10 * 60_000;

export function slackApprovalNotices(deps: Deps, notifier: Notifier): ApprovalNotices {
  return {
    async publishCard(card) {
      const msg = approvalCardMessage(card);
      const at = card.request.card;
      // A request posted or changed shows on the requester's and the approvers' Home tabs.
      refreshHomes(deps, notifier, card.request.teamId, [card.request.requesterUserId]);
      if (at) {
        await notifier.update(at.channel, at.ts, msg);
        return at;
      }
      if (!deps.config.approvalChannel) throw new Error('no approval channel configured');
      const posted = await notifier.post(deps.config.approvalChannel, msg);
      // A new card waiting for a decision: check someone can decide it, remind at half its timeout.
      if (card.request.state === 'requested')
        await scheduleReminders(deps, deps.db.em.fork(), card.request).catch((e: unknown) =>
          deps.logger.warn('could not schedule approval reminders', { err: e }),
        );
      return posted;
    },
    async tellRequester(request, notice) {
      await notifier.tellPrivately(request.requesterUserId, request.requestChannel, requesterMessage(request, notice));
    },
    async deliverPrivately(request, delivery, deliverTo) {
      if (deliverTo) {
        try {
          await notifier.updateView(deliverTo.viewId, deliveryModal(request, delivery));
          return 'modal';
        } catch {
          // The form was closed meanwhile: deliver it another way.
        }
      }
      const channel = request.requestChannel;
      if (channel && !channel.startsWith('D')) {
        try {
          await notifier.ephemeral(channel, request.requesterUserId, deliveryMessage(request, delivery));
          return 'ephemeral';
        } catch {
          // Not in that channel (any more): a DM that deletes itself.
        }
      }
      const dm = await notifier.dm(
        request.requesterUserId,
        deliveryMessage(request, { ...delivery, facts: { ...delivery.facts, viaDm: true } }),
      );
      await deps.jobs.enqueue(deps.db.em.fork(), {
        kind: DELETE_MESSAGE_JOB,
        payload: { channel: dm.channel, ts: dm.ts },
        runAt: new Date(deps.clock.now().getTime() + DM_LIFETIME_MS),
        dedupeKey: `${DELETE_MESSAGE_JOB}:${dm.channel}:${dm.ts}`,
      });
      return 'dm';
    },
  };
}

const requestPayload = z.object({ teamId: z.string().min(1), requestId: z.string().min(1) });
const messagePayload = z.object({ channel: z.string().min(1), ts: z.string().min(1) });

/** The engine's durable jobs (expiry, delays, time boxes) and the deletion of DM'd secrets. */
export function registerApprovalJobs(jobs: JobQueue, deps: Deps, notifier: Notifier): void {
  const notices = slackApprovalNotices(deps, notifier);
  const onRequest =
    (run: typeof expireRequest): JobHandler =>
    async (payload, ctx) => {
      const q = requestPayload.safeParse(payload);
      if (!q.success) {
        ctx.logger.warn('approval job: bad payload; dropped');
        return undefined;
      }
      return run(deps, ctx.em, notices, q.data);
    };
  // Someone waits on each of these (a requester, an approver, a secret to delete): the interactive lane.
  jobs.register('approval.expire', onRequest(expireRequest), { lane: 'interactive' });
  jobs.register('approval.execute', onRequest(runScheduled), { lane: 'interactive' });
  jobs.register('approval.end', onRequest(endTimeBox), { lane: 'interactive' });
  jobs.register(
    DELETE_MESSAGE_JOB,
    async (payload, ctx) => {
      const m = messagePayload.safeParse(payload);
      if (!m.success) {
        ctx.logger.warn('message.delete: bad payload; dropped');
        return undefined;
      }
      await notifier.delete(m.data.channel, m.data.ts).catch((e: { data?: { error?: string } }) => {
        // Already gone (deleted by hand, or the channel closed): nothing more to do.
        if (e.data?.error !== 'message_not_found' && e.data?.error !== 'channel_not_found') throw e;
      });
      return undefined;
    },
    { lane: 'interactive' },
  );
}
