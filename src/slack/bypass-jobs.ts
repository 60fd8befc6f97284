import { codesDeliveryMessage, requesterMessage } from '../../views/bypass.js';
import { approvalCardMessage } from '../../views/bypass-approval.js';
import type { JobHandler } from '../jobs/queue.js';
import { expireBypassRequest } from '../usecases/bypass-approval.js';
import type { BypassNotices } from '../usecases/bypass-issue.js';
import type { Deps } from '../usecases/deps.js';
import type { Notifier } from './notifier.js';

/**
 * The Slack side of bypass requests outside a request's own reply: the approval card, the
 * requester's notices, the delivery of the codes, and the expiry job. Nothing here logs a payload.
 */
export function slackBypassNotices(notifier: Notifier, approvalChannel: string | undefined): BypassNotices {
  return {
    async publishCard(card) {
      const msg = approvalCardMessage(card);
      const r = card.request;
      if (r.approvalChannel && r.approvalTs) {
        await notifier.update(r.approvalChannel, r.approvalTs, msg);
        return { channel: r.approvalChannel, ts: r.approvalTs };
      }
      if (!approvalChannel) throw new Error('no approval channel configured');
      return notifier.post(approvalChannel, msg);
    },
    async tellRequester(request, notice) {
      await notifier.tellPrivately(request.requesterUserId, request.requestChannel, requesterMessage(request, notice));
    },
    deliverCodes(request, codes, validUntil) {
      return notifier.tellPrivately(
        request.requesterUserId,
        request.requestChannel,
        codesDeliveryMessage(request, codes, validUntil),
      );
    },
  };
}

/** 'bypass.expire': runs at the request's expires_at; a decision that came first makes it a no-op. */
export function createBypassExpiry(env: { deps: Deps; notifier: Notifier; teamId: string }): JobHandler {
  const notices = slackBypassNotices(env.notifier, env.deps.config.approvalChannel);
  return async (payload, ctx) => {
    const teamId = typeof payload.teamId === 'string' ? payload.teamId : env.teamId;
    const requestId = typeof payload.requestId === 'string' ? payload.requestId : '';
    return expireBypassRequest(env.deps, ctx.em, notices, { teamId, requestId });
  };
}
