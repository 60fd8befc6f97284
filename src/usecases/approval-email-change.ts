import { z } from 'zod';
import { Verification } from '../db/entities.js';
import type { User } from '../domain/duo-objects.js';
import { isDirectorySynced } from '../domain/duo-user.js';
import type { ApprovalKind } from './approval-model.js';
import { requesterStillMay } from './approval-recheck.js';
import { auditedDuoCall } from './kit.js';
import { toVerificationView, type VerificationView } from './verification-policy.js';

/**
 * A new email for an enrolled user redirects Duo's enrollment and activation mail (whoever reads the
 * new mailbox can enroll a device for them): a guarded change, approved by a second person unless the
 * requester's role is exempt, with the caller verified first (src/domain/guards.ts email_change).
 */
export const EmailChangeParams = z.object({ email: z.email().max(200) }).strict();
export type EmailChangeParams = z.infer<typeof EmailChangeParams>;

export interface EmailChangeCard {
  user: User | null;
  verification: VerificationView | null;
}

export const emailChangeKind: ApprovalKind<EmailChangeParams, EmailChangeCard> = {
  name: 'email_change',
  audit: 'email_change',
  params: EmailChangeParams,

  stillAllowed: (ctx, r) =>
    requesterStillMay(ctx, r, 'user.edit', (user) => ({
      kind: 'edit',
      fields: ['email'],
      directorySynced: isDirectorySynced(user),
    })),

  async cardFacts({ deps, em }, r) {
    const user = await deps.duo.getUserById(r.target!.duoUserId).catch(() => null);
    const row = r.verificationId
      ? await em.findOne(Verification, { id: r.verificationId, teamId: r.teamId }, { refresh: true })
      : null;
    return { user, verification: row ? toVerificationView(row) : null };
  },

  async execute(ctx, r) {
    const { deps, em } = ctx;
    const user = await deps.duo.getUserById(r.target!.duoUserId);
    const intent = await deps.audit.intent(em, {
      teamId: r.teamId,
      actor: ctx.actor,
      action: 'user.edited',
      target: { duoUserId: user.user_id, username: user.username },
      requestRef: r.id,
      reason: r.reason,
      ticket: r.ticket,
      correlationId: ctx.correlationId,
      params: { fields: 'email', guarded: true, verification: r.verificationId },
    });
    await auditedDuoCall(deps, em, intent, () => deps.duo.updateUser(user.user_id, { email: r.params.email }));
    return { state: 'done', result: { previousEmail: user.email ?? null } };
  },
};
