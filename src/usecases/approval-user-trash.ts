import { z } from 'zod';
import type { User } from '../domain/duo-objects.js';
import { isDirectorySynced } from '../domain/duo-user.js';
import type { ApprovalKind, ExecuteOutcome } from './approval-model.js';
import { requesterStillMay } from './approval-recheck.js';
import { auditedDuoCall } from './kit.js';

/**
 * Sending a user to the Trash (POST /admin/v1/users/bulk_send_to_trash): the user is effectively
 * disabled at once and Duo deletes them permanently after its Trash duration (7 days by default).
 * Never for a sync-managed user (only a sync trashes them).
 */
export const UserTrashParams = z.object({}).strict();
export type UserTrashParams = z.infer<typeof UserTrashParams>;

export interface UserTrashCard {
  user: User | null;
}

export const userTrashKind: ApprovalKind<UserTrashParams, UserTrashCard> = {
  name: 'user_trash',
  audit: 'user_trash',
  params: UserTrashParams,

  stillAllowed: (ctx, r) =>
    requesterStillMay(ctx, r, 'user.trash', (user) => ({ kind: 'account', directorySynced: isDirectorySynced(user) })),

  async cardFacts({ deps }, r) {
    return { user: await deps.duo.getUserById(r.target!.duoUserId).catch(() => null) };
  },

  async execute(ctx, r): Promise<ExecuteOutcome> {
    const { deps, em } = ctx;
    const user = await deps.duo.getUserById(r.target!.duoUserId);
    if (user.status === 'pending deletion') return { state: 'done', result: { alreadyInTrash: true } };
    const intent = await deps.audit.intent(em, {
      teamId: r.teamId,
      actor: ctx.actor,
      action: 'user.trashed',
      target: { duoUserId: user.user_id, username: user.username },
      requestRef: r.id,
      reason: r.reason,
      ticket: r.ticket,
      correlationId: ctx.correlationId,
      params: { from: user.status },
    });
    await auditedDuoCall(deps, em, intent, () => deps.duo.sendUsersToTrash([user.user_id]));
    return { state: 'done', result: { markedAt: deps.clock.now().toISOString(), previousStatus: user.status } };
  },
};
