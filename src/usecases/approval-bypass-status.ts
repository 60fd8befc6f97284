import { z } from 'zod';
import { Verification } from '../db/entities.js';
import { authorize } from '../domain/authorize.js';
import type { User } from '../domain/duo-objects.js';
import { isDirectorySynced } from '../domain/duo-user.js';
import { findActor } from './access.js';
import type { ApprovalKind } from './approval-model.js';
import { auditedDuoCall } from './kit.js';
import { loadSettings } from './settings.js';
import { toVerificationView, type VerificationView } from './verification-policy.js';

/**
 * Bypass status turns off the second factor for a user everywhere, so it is time-boxed: set when the
 * request is approved (or at once, for a role the settings exempt), and returned to the previous
 * status by a durable job when the time is up, or earlier on request. Starting it is an alert in
 * the audit channel. A user whose status someone else changed in the meantime is left as they are.
 */
export const BypassStatusParams = z.object({ minutes: z.number().int().min(1).max(1440) }).strict();
export type BypassStatusParams = z.infer<typeof BypassStatusParams>;

export interface BypassStatusCard {
  user: User | null;
  verification: VerificationView | null;
}

export const bypassStatusKind: ApprovalKind<BypassStatusParams, BypassStatusCard> = {
  name: 'bypass_status',
  audit: 'bypass_status',
  params: BypassStatusParams,

  async stillAllowed({ em }, r) {
    const requester = await findActor(em, r.teamId, r.requesterUserId);
    const settings = await loadSettings(em, r.teamId);
    const target = { kind: 'status', toStatus: 'bypass', directorySynced: false } as const;
    return Boolean(
      requester &&
        authorize(requester, 'user.set_status', target, settings).allowed &&
        r.params.minutes <= settings.bypass_status_max_minutes,
    );
  },

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
    const target = { duoUserId: user.user_id, username: user.username };
    // Only an active user goes into bypass: a locked-out or disabled one is unlocked first (its own guards).
    if (user.status !== 'active') return { state: 'failed', reason: `the user is ${user.status} now, not active` };
    const until = new Date(deps.clock.now().getTime() + r.params.minutes * 60_000);
    const intent = await deps.audit.intent(em, {
      teamId: r.teamId,
      actor: ctx.actor,
      action: 'user.status_changed',
      target,
      requestRef: r.id,
      reason: r.reason,
      ticket: r.ticket,
      correlationId: ctx.correlationId,
      params: {
        from: user.status,
        to: 'bypass',
        change: 'bypass_start',
        until: until.toISOString(),
        verification: r.verificationId,
        directorySynced: isDirectorySynced(user),
        alert: true,
      },
    });
    await auditedDuoCall(
      deps,
      em,
      intent,
      () => deps.duo.updateUser(user.user_id, { status: 'bypass' }),
      (u) => ({
        duoStatus: u.status,
      }),
    );
    return { state: 'active', activeUntil: until, result: { previousStatus: user.status } };
  },

  async end(ctx, r) {
    const { deps, em } = ctx;
    const user = await deps.duo.getUserById(r.target!.duoUserId);
    const previous = String(r.result.previousStatus ?? 'active');
    if (user.status !== 'bypass') return { statusNow: user.status, alreadyChanged: true };
    const intent = await deps.audit.intent(em, {
      teamId: r.teamId,
      actor: ctx.actor,
      action: 'user.status_changed',
      target: { duoUserId: user.user_id, username: user.username },
      requestRef: r.id,
      correlationId: ctx.correlationId,
      params: { from: 'bypass', to: previous, change: 'bypass_end' },
    });
    await auditedDuoCall(deps, em, intent, () =>
      deps.duo.updateUser(user.user_id, { status: previous === 'disabled' ? 'disabled' : 'active' }),
    );
    return { statusNow: previous, alreadyChanged: false };
  },
};
