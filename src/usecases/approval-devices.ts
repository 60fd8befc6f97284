import { z } from 'zod';
import { authorize } from '../domain/authorize.js';
import { deviceFacts } from '../domain/devices.js';
import type { Phone, User } from '../domain/duo-objects.js';
import { phoneLabel } from '../domain/duo-user.js';
import { findActor } from './access.js';
import type { ApprovalKind, ApprovalView, KindContext } from './approval-model.js';
import { auditedDuoCall } from './kit.js';
import { loadSettings } from './settings.js';

/**
 * Device help that a second person approves (src/usecases/devices.ts submits them):
 * - reactivating Duo Mobile: a new activation code ends the device's old credentials; the link goes by SMS
 *   to the number already on the phone or, for a tablet, the code is made and Duo's enrollment email goes
 *   to the address Duo already has. duo-desk never sees the link: the client drops it (src/duo/client.ts);
 * - removing a lost device from the user: exactly one DELETE, never retried; an enrollment email follows
 *   when the form asked for it (required when it was the user's last device).
 */
const PHONE_ID = z.string().regex(/^DP[A-Z0-9]{18}$/);
const VERIFIED_BY = z.enum(['push', 'slack_dm', 'none']);

export const DeviceReactivationParams = z
  .object({
    phoneId: PHONE_ID,
    validSecs: z.number().int().min(3600).max(86_400),
    channel: z.enum(['sms', 'email']),
    verifiedBy: VERIFIED_BY,
    confirmationId: z.string().uuid().nullable(),
  })
  .strict();
export type DeviceReactivationParams = z.infer<typeof DeviceReactivationParams>;

export const DeviceRemovalParams = z
  .object({
    phoneId: PHONE_ID,
    enrollmentEmail: z.boolean(),
    verifiedBy: VERIFIED_BY,
    confirmationId: z.string().uuid().nullable(),
  })
  .strict();
export type DeviceRemovalParams = z.infer<typeof DeviceRemovalParams>;

export interface DeviceCard {
  user: User | null;
  phone: Phone | null;
}

async function fresh(ctx: KindContext, r: ApprovalView<{ phoneId: string }>) {
  const user = await ctx.deps.duo.getUserById(r.target!.duoUserId);
  return { user, phone: (user.phones ?? []).find((p) => p.phone_id === r.params.phoneId) ?? null };
}

async function stillAllowedFor(
  ctx: KindContext,
  r: ApprovalView<{ phoneId: string }>,
  action: 'device.reactivate' | 'device.remove',
) {
  const requester = await findActor(ctx.em, r.teamId, r.requesterUserId);
  if (!requester) return false;
  const settings = await loadSettings(ctx.em, r.teamId);
  const { user, phone } = await fresh(ctx, r);
  return Boolean(
    phone && authorize(requester, action, { kind: 'device', facts: deviceFacts(user, phone) }, settings).allowed,
  );
}

const cardFacts = async (ctx: KindContext, r: ApprovalView<{ phoneId: string }>): Promise<DeviceCard> =>
  fresh(ctx, r).catch(() => ({ user: null, phone: null }));

export const deviceReactivationKind: ApprovalKind<DeviceReactivationParams, DeviceCard> = {
  name: 'device_reactivation',
  audit: 'device_reactivation',
  params: DeviceReactivationParams,
  stillAllowed: (ctx, r) => stillAllowedFor(ctx, r, 'device.reactivate'),
  cardFacts,

  async execute(ctx, r) {
    const { deps, em } = ctx;
    const { user, phone } = await fresh(ctx, r);
    if (!phone) return { state: 'failed', reason: 'the device is no longer on this user' };
    const target = { duoUserId: user.user_id, username: user.username };
    const facts = deviceFacts(user, phone);
    const intent = await deps.audit.intent(em, {
      teamId: r.teamId,
      actor: ctx.actor,
      action: 'device.reactivation_sent',
      target,
      requestRef: r.id,
      reason: r.reason,
      ticket: r.ticket,
      correlationId: ctx.correlationId,
      params: {
        phoneId: phone.phone_id,
        phone: phoneLabel(phone),
        channel: r.params.channel,
        validSecs: r.params.validSecs,
        verifiedBy: r.params.verifiedBy,
        oldCredentialsInvalidated: true,
      },
    });
    if (r.params.channel === 'sms' && facts.hasNumber) {
      const sent = await auditedDuoCall(
        deps,
        em,
        intent,
        () => deps.duo.sendSmsActivation(phone.phone_id, { validSecs: r.params.validSecs, install: true }),
        (s) => ({ validSecs: s.validSecs, sentTo: 'number on file' }),
      );
      return { state: 'done', result: { channel: 'sms', validSecs: sent.validSecs } };
    }
    // A tablet: the new code ends the old credentials; Duo's enrollment email goes to the address on file.
    await auditedDuoCall(
      deps,
      em,
      intent,
      () => deps.duo.createActivationCode(phone.phone_id, { validSecs: r.params.validSecs }),
      (s) => ({ validSecs: s.validSecs }),
    );
    const mail = await deps.audit.intent(em, {
      teamId: r.teamId,
      actor: ctx.actor,
      action: 'enrollment.sent',
      target,
      requestRef: r.id,
      correlationId: ctx.correlationId,
      params: { email: user.email ?? null, why: 'tablet reactivation' },
    });
    await auditedDuoCall(deps, em, mail, () =>
      deps.duo.enrollUser({ username: user.username, email: user.email!, validSecs: r.params.validSecs }),
    );
    return { state: 'done', result: { channel: 'email', validSecs: r.params.validSecs } };
  },
};

export const deviceRemovalKind: ApprovalKind<DeviceRemovalParams, DeviceCard> = {
  name: 'device_removal',
  audit: 'device_removal',
  params: DeviceRemovalParams,
  stillAllowed: (ctx, r) => stillAllowedFor(ctx, r, 'device.remove'),
  cardFacts,

  async execute(ctx, r) {
    const { deps, em } = ctx;
    const { user, phone } = await fresh(ctx, r);
    if (!phone) return { state: 'failed', reason: 'the device is no longer on this user (nothing removed)' };
    const target = { duoUserId: user.user_id, username: user.username };
    if (deviceFacts(user, phone).otherDevices === 0 && !(r.params.enrollmentEmail && user.email))
      return { state: 'failed', reason: 'it is now the last device and no enrollment email follows' };
    const intent = await deps.audit.intent(em, {
      teamId: r.teamId,
      actor: ctx.actor,
      action: 'device.removed',
      target,
      requestRef: r.id,
      reason: r.reason,
      ticket: r.ticket,
      correlationId: ctx.correlationId,
      params: { phoneId: phone.phone_id, phone: phoneLabel(phone), verifiedBy: r.params.verifiedBy },
    });
    await auditedDuoCall(deps, em, intent, () => deps.duo.removeUserPhone(user.user_id, phone.phone_id));
    if (r.params.enrollmentEmail && user.email) {
      const mail = await deps.audit.intent(em, {
        teamId: r.teamId,
        actor: ctx.actor,
        action: 'enrollment.sent',
        target,
        requestRef: r.id,
        correlationId: ctx.correlationId,
        params: { email: user.email, why: 'device removed' },
      });
      await auditedDuoCall(deps, em, mail, () => deps.duo.enrollUser({ username: user.username, email: user.email! }));
    }
    return { state: 'done', result: { enrollmentEmail: r.params.enrollmentEmail } };
  },
};
