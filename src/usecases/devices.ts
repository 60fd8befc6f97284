import { authorize } from '../domain/authorize.js';
import { activationChannel, type DeviceAction, type DeviceFacts, deviceFacts } from '../domain/devices.js';
import type { Phone, User } from '../domain/duo-objects.js';
import { phoneLabel } from '../domain/duo-user.js';
import { type Guards, guardsFor } from '../domain/guards.js';
import type { Actor } from '../domain/roles.js';
import type { Settings } from '../domain/settings.js';
import { fail } from '../errors.js';
import { authorizeOrThrow, requireActor } from './access.js';
import { deviceReactivationKind, deviceRemovalKind } from './approval-devices.js';
import { type NewRequest, type Submitted, submitRequest } from './approval-engine.js';
import type { ApprovalNotices } from './approval-model.js';
import type { Caller, Deps, EntityManager, SlackMember } from './deps.js';
import { DEVICE_AUTHORIZE, DEVICE_GUARD, deviceTarget } from './device-buttons.js';
import {
  askEmployee,
  type ConfirmationView,
  confirmationAlternative,
  type DeviceNotices,
  employeeAccount,
  employeeSaidNotMe,
  latestConfirmation,
} from './device-confirmation.js';
import { passGuards } from './guards.js';
import { auditedDuoCall, cleanFreeText, type Progress } from './kit.js';
import { recordTampering } from './refusals.js';
import { loadSettings } from './settings.js';
import { type VerificationState, verificationState } from './verification-policy.js';

/**
 * Device help from the user card: reactivate Duo Mobile, send SMS passcodes, remove a lost device. Each
 * loads the responder, the settings, the Duo user and the phone again, authorizes on that state (the role,
 * and whether this device and user allow the action: src/domain/devices.ts), then goes through the guard
 * pipeline; reactivation and removal then through the approval engine. A button value or form metadata is
 * only a reference: a device the card would not have offered the action for is refused and audited as
 * tampering.
 */
declare module '../errors.js' {
  interface Problems {
    'device.not_found': { username: string };
    'device.last_device': { username: string };
    'device.bad_validity': { max: number };
  }
}

export interface DeviceFormModel {
  action: DeviceAction;
  user: User;
  phone: Phone;
  phoneLabel: string;
  facts: DeviceFacts;
  channel: 'sms' | 'email';
  guards: Guards;
  push: VerificationState;
  confirmation: ConfirmationView | null;
  employee: SlackMember;
  /** The longest activation validity the settings allow, in hours. */
  maxValidHours: number;
}

interface Loaded {
  actor: Actor;
  settings: Settings;
  user: User;
  phone: Phone;
}

async function load(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  action: DeviceAction,
  ref: { duoUserId: string; phoneId: string },
  surface: 'button' | 'form',
): Promise<Loaded> {
  const actor = await requireActor(deps, em, caller);
  await authorizeOrThrow(deps, em, caller, actor, DEVICE_AUTHORIZE[action], { kind: 'none' });
  const user = await deps.duo.getUserById(ref.duoUserId);
  const phone = (user.phones ?? []).find((p) => p.phone_id === ref.phoneId);
  if (!phone) throw fail('NOT_FOUND', 'device.not_found', { username: user.username });
  const target = deviceTarget(user, phone);
  const current = await loadSettings(em, actor.teamId);
  // The card offers only what the device allows: anything else came from an altered button or form.
  if (!authorize(actor, DEVICE_AUTHORIZE[action], target, current).allowed)
    await recordTampering(deps, em, caller, actor.role, { surface, where: `device ${action}` });
  const settings = await authorizeOrThrow(deps, em, caller, actor, DEVICE_AUTHORIZE[action], target, {
    settings: current,
    targetUser: { duoUserId: user.user_id, username: user.username },
  });
  const notMe = await employeeSaidNotMe(deps, em, actor.teamId, user.user_id);
  if (notMe) {
    await deps.audit.record(em, {
      teamId: actor.teamId,
      actor: { userId: actor.userId, role: actor.role },
      action: 'guard.refused',
      outcome: 'denied',
      target: { duoUserId: user.user_id, username: user.username },
      correlationId: caller.correlationId,
      params: { guard: 'verification', why: "the employee said this wasn't them", attempted: DEVICE_GUARD[action] },
    });
    throw fail('PERMISSION_DENIED', 'device.employee_said_not_me', { at: notMe });
  }
  return { actor, settings, user, phone };
}

export async function prepareDeviceAction(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  action: DeviceAction,
  ref: { duoUserId: string; phoneId: string },
): Promise<DeviceFormModel> {
  const { actor, settings, user, phone } = await load(deps, em, caller, action, ref, 'button');
  const guards = guardsFor(DEVICE_GUARD[action], { role: actor.role, settings, otherOwners: 0 });
  const facts = deviceFacts(user, phone);
  return {
    action,
    user,
    phone,
    phoneLabel: phoneLabel(phone),
    facts,
    channel: activationChannel(facts),
    guards,
    push: await verificationState(em, deps.clock, {
      teamId: actor.teamId,
      duoUserId: user.user_id,
      responderUserId: actor.userId,
      minutes: guards.verificationMinutes ?? 0,
    }),
    confirmation: asOfNow(
      await latestConfirmation(em, {
        teamId: actor.teamId,
        duoUserId: user.user_id,
        responderUserId: actor.userId,
        action,
      }),
      deps.clock.now(),
    ),
    employee: await employeeAccount(deps, actor.teamId, user),
    maxValidHours: settings.device_activation_valid_hours,
  };
}

/** A question nobody answered in time reads as expired (the row says 'sent' until someone clicks). */
const asOfNow = (c: ConfirmationView | null, now: Date): ConfirmationView | null =>
  c && c.state === 'sent' && c.expiresAt <= now ? { ...c, state: 'expired' } : c;

/** "Verify another way": the DM to the employee's own Slack, for this device action. */
export async function verifyAnotherWay(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: DeviceNotices,
  action: DeviceAction,
  ref: { duoUserId: string; phoneId: string; formViewId: string | null },
): Promise<ConfirmationView> {
  const { user } = await load(deps, em, caller, action, ref, 'form');
  return askEmployee(deps, em, caller, notices, { user, phoneId: ref.phoneId, action, formViewId: ref.formViewId });
}

export interface DeviceRequestInput {
  duoUserId: string;
  phoneId: string;
  reason: string;
  ticket: string | null;
  totpCode: string | null;
  requestChannel: string | null;
}

async function guarded(deps: Deps, em: EntityManager, caller: Caller, action: DeviceAction, input: DeviceRequestInput) {
  const reason = cleanFreeText(input.reason, { field: 'reason', purpose: 'change_reason', max: 500, required: true })!;
  const ticket = cleanFreeText(input.ticket, { field: 'ticket', purpose: 'ticket', max: 100, required: false });
  const loaded = await load(deps, em, caller, action, input, 'form');
  const passed = await passGuards(deps, em, caller, {
    action: DEVICE_GUARD[action],
    authorize: { action: DEVICE_AUTHORIZE[action], target: deviceTarget(loaded.user, loaded.phone) },
    duoUser: { duoUserId: loaded.user.user_id, username: loaded.user.username },
    totp: input.totpCode,
    fields: { verification: 'reason', totp: 'totp' },
    alternative: confirmationAlternative(deps, em, {
      teamId: loaded.actor.teamId,
      responderUserId: loaded.actor.userId,
      user: loaded.user,
      action,
    }),
  });
  const verifiedBy = passed.verification ? 'push' : passed.alternative?.via === 'slack_dm' ? 'slack_dm' : 'none';
  const confirmationId = passed.alternative?.via === 'slack_dm' ? passed.alternative.id : null;
  return { ...loaded, passed, reason, ticket, verifiedBy, confirmationId } as const;
}

/** A guarded device change goes to the approval engine with what its guards found (the same for every kind). */
function submitDeviceRequest<P>(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: ApprovalNotices,
  g: Awaited<ReturnType<typeof guarded>>,
  input: DeviceRequestInput,
  kind: NewRequest<P>['kind'],
  params: P,
): Promise<Submitted> {
  return submitRequest(deps, em, caller, g.passed.actor, notices, {
    kind,
    params,
    policy: g.passed.guards.approval,
    target: { duoUserId: g.user.user_id, username: g.user.username },
    reason: g.reason,
    ticket: g.ticket,
    requestChannel: input.requestChannel,
    verificationId: g.passed.verification?.id ?? null,
    delayHours: g.passed.guards.delayHours,
    audit: { phone: phoneLabel(g.phone), verifiedBy: g.verifiedBy },
  });
}

export async function submitReactivation(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: ApprovalNotices,
  input: DeviceRequestInput & { validHours: number },
  progress: Progress = {},
): Promise<Submitted> {
  const g = await guarded(deps, em, caller, 'reactivate', input);
  const max = g.settings.device_activation_valid_hours;
  if (!Number.isInteger(input.validHours) || input.validHours < 1 || input.validHours > max)
    throw fail('INVALID_INPUT', 'device.bad_validity', { max }, { field: 'validity' });
  await progress.accepted?.();
  const facts = deviceFacts(g.user, g.phone);
  return submitDeviceRequest(deps, em, caller, notices, g, input, deviceReactivationKind, {
    phoneId: g.phone.phone_id,
    validSecs: input.validHours * 3600,
    channel: activationChannel(facts),
    verifiedBy: g.verifiedBy,
    confirmationId: g.confirmationId,
  });
}

export async function submitRemoval(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: ApprovalNotices,
  input: DeviceRequestInput & { enrollmentEmail: boolean },
  progress: Progress = {},
): Promise<Submitted> {
  const g = await guarded(deps, em, caller, 'remove', input);
  const facts = deviceFacts(g.user, g.phone);
  if (facts.otherDevices === 0 && !(input.enrollmentEmail && g.user.email))
    throw fail('INVALID_STATE', 'device.last_device', { username: g.user.username }, { field: 'reason' });
  await progress.accepted?.();
  return submitDeviceRequest(deps, em, caller, notices, g, input, deviceRemovalKind, {
    phoneId: g.phone.phone_id,
    enrollmentEmail: input.enrollmentEmail && Boolean(g.user.email),
    verifiedBy: g.verifiedBy,
    confirmationId: g.confirmationId,
  });
}

/** SMS passcodes: verified and audited, no second person (they go only to the number on file). */
export async function sendSmsPasscodes(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  input: DeviceRequestInput,
  progress: Progress = {},
): Promise<{ username: string; phoneLabel: string }> {
  const g = await guarded(deps, em, caller, 'sms_passcodes', input);
  await progress.accepted?.();
  const intent = await deps.audit.intent(em, {
    teamId: g.actor.teamId,
    actor: { userId: g.actor.userId, role: g.actor.role },
    action: 'device.sms_passcodes_sent',
    target: { duoUserId: g.user.user_id, username: g.user.username },
    reason: g.reason,
    ticket: g.ticket,
    correlationId: caller.correlationId,
    params: {
      phoneId: g.phone.phone_id,
      phone: phoneLabel(g.phone),
      verifiedBy: g.verifiedBy,
      verification: g.passed.verification?.id ?? g.confirmationId,
    },
  });
  await auditedDuoCall(deps, em, intent, () => deps.duo.sendSmsPasscodes(g.phone.phone_id));
  return { username: g.user.username, phoneLabel: phoneLabel(g.phone) };
}
