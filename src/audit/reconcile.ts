import type { Clock } from '../clock.js';
import type { JobHandler } from '../jobs/queue.js';
import { auditRowById } from './store.js';
import type { AuditTrail } from './trail.js';

/**
 * Intents left without an outcome (the process died between "about to call Duo" and the answer)
 * are closed as "outcome unknown" once they are older than any request could take, and so reach the
 * audit channel: nothing is silently lost. Runs at start-up and then every minute.
 */
export const RECONCILE_JOB = 'audit.reconcile';

export function createIntentReconciler(
  audit: AuditTrail,
  clock: Clock,
  opts: { olderThanMs?: number } = {},
): JobHandler {
  const olderThanMs = opts.olderThanMs ?? 120_000;
  return async (_payload, { em, logger }) => {
    const cutoff = new Date(clock.now().getTime() - olderThanMs);
    const orphans = await em.getConnection().execute<Array<{ id: string }>>(
      `select i.id from audit_event i
       where i.phase = 'intent' and i.occurred_at < ?
         and not exists (select 1 from audit_event o where o.intent_id = i.id)
       order by i.id limit 100`,
      [cutoff],
    );
    for (const { id } of orphans) {
      const intent = await auditRowById(em, Number(id));
      if (!intent) continue;
      logger.warn('closing an intent whose outcome is unknown', { eventId: intent.id, action: intent.action });
      await audit.complete(
        em,
        {
          id: intent.id,
          seq: intent.seq,
          phase: 'intent',
          occurredAt: intent.occurredAt,
          intentId: null,
          hash: intent.hash,
          teamId: intent.teamId,
          actor: { userId: intent.actorUserId ?? 'duo-desk', role: intent.actorRole },
          action: intent.action as never,
          outcome: 'pending',
          target: { duoUserId: intent.targetDuoUserId, username: intent.targetUsername },
          reason: intent.reason,
          ticket: intent.ticket,
          correlationId: intent.correlationId,
          requestRef: intent.requestRef,
          duoRef: intent.duoRef,
          params: intent.params as never,
        },
        { outcome: 'unknown', params: { note: 'duo-desk stopped before Duo answered; check the user in Duo' } },
      );
    }
    return { runAgainAt: new Date(clock.now().getTime() + 60_000) };
  };
}
