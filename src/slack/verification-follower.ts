import { z } from 'zod';
import { verificationMessage } from '../../views/verify.js';
import type { JobHandler } from '../jobs/queue.js';
import type { Deps, EntityManager } from '../usecases/deps.js';
import {
  attachVerificationMessage,
  followVerification,
  nextVerificationPoll,
  type SentVerification,
} from '../usecases/verify.js';
import type { Notifier } from './notifier.js';

/**
 * Where the verification status lives in Slack, and the durable job that keeps it current.
 *
 * The status message (with the confirmation code) goes to the responder's DM with the bot, and only
 * there: a DM message has a channel and ts we can store on the Verification and chat.update from a
 * job on any instance, after a restart too; an ephemeral or response_url message cannot be updated
 * after 30 minutes or 5 uses, nor from a job. The flow's modal says "it's in your DM", so the code is
 * shown in one place only.
 */
export interface VerifyEnv {
  deps: Deps;
  notifier: Notifier;
}

/** Posts the status message with the code (once) and records where it is. */
export async function publishVerification(env: VerifyEnv, em: EntityManager, sent: SentVerification): Promise<void> {
  const v = sent.verification;
  const posted = await env.notifier.dm(v.responderUserId, verificationMessage(v, sent.confirmationCode));
  const now = await attachVerificationMessage(em, v.id, posted);
  // The follower may have finished before the message existed: it rendered nothing, so we do it.
  if (now && now.status !== 'waiting') await env.notifier.update(posted.channel, posted.ts, verificationMessage(now));
}

const payloadSchema = z.object({ verificationId: z.uuid(), rateLimited: z.number().int().min(0).optional() });

/** Job 'verification.follow': polls Duo, then updates the status message once the answer is in. */
export function createVerificationFollower(env: VerifyEnv): JobHandler {
  return async (payload, ctx) => {
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) {
      ctx.logger.warn('verification.follow: bad payload; dropped');
      return undefined;
    }
    const { verificationId, rateLimited = 0 } = parsed.data;
    const r = await followVerification(env.deps, ctx.em, verificationId);
    if (!r.done && r.verification) {
      const times = r.rateLimited ? rateLimited + 1 : 0;
      const runAgainAt = nextVerificationPoll(env.deps.tuning, r.verification.sentAt, env.deps.clock.now(), times);
      return { runAgainAt, payload: { verificationId, rateLimited: times } };
    }
    const v = r.verification;
    // Idempotent: re-rendering the final state is harmless, and a Slack failure throws so the job retries.
    if (v?.message) await env.notifier.update(v.message.channel, v.message.ts, verificationMessage(v));
    return undefined;
  };
}
