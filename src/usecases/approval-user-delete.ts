import { z } from 'zod';
import { DuoUserIdSchema } from '../domain/duo-objects.js';
import type { ApprovalKind, ExecuteOutcome } from './approval-model.js';
import { requesterStillMay } from './approval-recheck.js';
import { auditedDuoCall } from './kit.js';

/**
 * Permanent deletion (DELETE /admin/v1/users/[user_id], immediate: not the Trash) of users in the Trash.
 * Their phones and endpoints not shared with another user go too; added back, they must re-enroll.
 * A user no longer in the Trash when it runs (restored meanwhile) is left alone.
 */
export const UserDeleteParams = z
  .object({
    users: z
      .array(z.object({ duoUserId: DuoUserIdSchema, username: z.string().max(200) }).strict())
      .min(1)
      .max(100),
  })
  .strict();
export type UserDeleteParams = z.infer<typeof UserDeleteParams>;

export const userDeleteKind: ApprovalKind<UserDeleteParams, null> = {
  name: 'user_delete',
  audit: 'user_delete',
  params: UserDeleteParams,

  stillAllowed: (ctx, r) => requesterStillMay(ctx, r, 'user.delete', { kind: 'none' }),

  async execute(ctx, r): Promise<ExecuteOutcome> {
    const { deps, em } = ctx;
    let deleted = 0;
    let skipped = 0;
    for (const t of r.params.users) {
      const user = await deps.duo.getUserById(t.duoUserId).catch(() => null);
      if (user?.status !== 'pending deletion') {
        skipped++;
        continue;
      }
      const intent = await deps.audit.intent(em, {
        teamId: r.teamId,
        actor: ctx.actor,
        action: 'user.deleted',
        target: { duoUserId: user.user_id, username: user.username },
        requestRef: r.id,
        reason: r.reason,
        ticket: r.ticket,
        correlationId: ctx.correlationId,
        params: { phones: (user.phones ?? []).length, of: r.params.users.length },
      });
      await auditedDuoCall(deps, em, intent, () => deps.duo.deleteUser(user.user_id));
      deleted++;
    }
    return { state: 'done', result: { deleted, skipped } };
  },
};
