import { z } from 'zod';
import { isDirectorySynced } from '../domain/duo-user.js';
import { isDuoError } from '../duo/errors.js';
import { isAppError } from '../errors.js';
import type { ApprovalKind } from './approval-model.js';
import { requesterStillMay } from './approval-recheck.js';
import { refreshDirectoryUser } from './directory-index.js';
import { auditedDuoCall } from './kit.js';

/**
 * A status change for up to 100 users at once, from the users overview (Duo's Users page offers the same).
 * Only Active and Disabled: bypass status is time-boxed and verified per user (its own guarded action), so it is
 * never applied in bulk. Sync-managed users are never set to Disabled (their directory owns that status, as in
 * Duo): they are left out when the request is made, and again when it runs, on what Duo says then.
 * Each user's change has its own intent and outcome in the audit trail; the card lists each user's outcome.
 */
export const BULK_STATUS_MAX = 100;
export const BULK_STATUSES = ['active', 'disabled'] as const;
export type BulkStatus = (typeof BULK_STATUSES)[number];

const BulkUser = z.object({ id: z.string().min(1).max(255), username: z.string().min(1).max(255) }).strict();
export const BulkStatusParams = z
  .object({
    toStatus: z.enum(BULK_STATUSES),
    users: z.array(BulkUser).min(1).max(BULK_STATUS_MAX),
    /** Left out when the request was made (not in the index, sync-managed for Disabled). */
    excluded: z
      .array(z.object({ username: z.string().max(255), why: z.enum(['unknown', 'directory_synced']) }).strict())
      .max(BULK_STATUS_MAX),
  })
  .strict();
export type BulkStatusParams = z.infer<typeof BulkStatusParams>;

export type BulkOutcome = 'changed' | 'unchanged' | 'excluded_synced' | 'in_trash' | 'gone' | 'failed' | 'unknown';

const MAX_OUTCOMES_TEXT = 2_000;

export const bulkStatusKind: ApprovalKind<BulkStatusParams, { count: number }> = {
  name: 'bulk_status',
  audit: 'bulk_status',
  params: BulkStatusParams,

  stillAllowed: (ctx, r) =>
    requesterStillMay(ctx, r, 'user.set_status', {
      kind: 'status',
      toStatus: r.params.toStatus,
      directorySynced: false,
    }),

  async cardFacts(_ctx, r) {
    return { count: r.params.users.length };
  },

  async execute(ctx, r) {
    const { deps, em } = ctx;
    const to = r.params.toStatus;
    const outcomes: Array<[string, BulkOutcome]> = [];
    for (const sel of r.params.users) {
      let user: Awaited<ReturnType<typeof deps.duo.getUserById>>;
      try {
        user = await deps.duo.getUserById(sel.id);
      } catch (e) {
        outcomes.push([sel.username, isDuoError(e) && e.httpStatus === 404 ? 'gone' : 'failed']);
        continue;
      }
      if (user.status === 'pending deletion') {
        outcomes.push([user.username, 'in_trash']);
        continue;
      }
      if (to === 'disabled' && isDirectorySynced(user)) {
        outcomes.push([user.username, 'excluded_synced']);
        continue;
      }
      if (user.status === to) {
        outcomes.push([user.username, 'unchanged']);
        continue;
      }
      const intent = await deps.audit.intent(em, {
        teamId: r.teamId,
        actor: ctx.actor,
        action: 'user.status_changed',
        target: { duoUserId: user.user_id, username: user.username },
        requestRef: r.id,
        reason: r.reason,
        ticket: r.ticket,
        correlationId: ctx.correlationId,
        params: { from: user.status, to, change: 'bulk', directorySynced: isDirectorySynced(user) },
      });
      try {
        const updated = await auditedDuoCall(
          deps,
          em,
          intent,
          () => deps.duo.updateUser(user.user_id, { status: to }),
          (u) => ({ duoStatus: u.status }),
        );
        outcomes.push([user.username, 'changed']);
        await refreshDirectoryUser(em, updated, deps.clock.now()).catch((e) =>
          deps.logger.warn('could not re-index a user after a bulk status change', { err: e }),
        );
      } catch (e) {
        outcomes.push([user.username, isDuoError(e) && e.outcomeUnknown ? 'unknown' : 'failed']);
        if (!isAppError(e)) deps.logger.warn('bulk status change failed for one user', { err: e });
      }
    }
    const count = (o: BulkOutcome) => outcomes.filter(([, x]) => x === o).length;
    let text = '';
    for (const [name, o] of outcomes) {
      const next = `${text ? `${text}\n` : ''}${name}: ${o}`;
      if (next.length > MAX_OUTCOMES_TEXT) {
        text += `\n… and ${outcomes.length - text.split('\n').length} more (each in the audit trail)`;
        break;
      }
      text = next;
    }
    const result = {
      changed: count('changed'),
      unchanged: count('unchanged'),
      excludedSynced: count('excluded_synced'),
      inTrash: count('in_trash'),
      gone: count('gone'),
      failed: count('failed') + count('unknown'),
      outcomes: text,
    };
    return result.failed && !result.changed
      ? { state: 'failed', reason: 'no user could be changed', result }
      : { state: 'done', result };
  },
};
