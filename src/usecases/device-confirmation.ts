import { randomUUID } from 'node:crypto';
import { DeviceConfirmation, type IDeviceConfirmation } from '../db/entities.js';
import type { DeviceAction } from '../domain/devices.js';
import type { User } from '../domain/duo-objects.js';
import { phoneLabel } from '../domain/duo-user.js';
import { fail } from '../errors.js';
import type { Caller, Deps, EntityManager, SlackMember } from './deps.js';

/**
 * "Verify another way" when the phone is lost: duo-desk sends the employee's own Slack account (the member
 * whose email is the Duo user's, by users.lookupByEmail; never a guest or a Slack Connect user) a one-time
 * Confirm / "This wasn't me". It is bound to the responder who asked, the Duo user and the device action,
 * expires after 10 minutes, and counts as a verification only for device help. "This wasn't me" stops device
 * help for that user, tells the responder and is an alert in the audit channel.
 */
declare module '../errors.js' {
  interface Problems {
    'device.no_slack_match': { why: Exclude<SlackMember, { found: true }>['why'] };
    'device.confirmation_open': { expiresAt: Date };
    'device.confirmation_gone': NoFacts;
    'device.confirmation_not_yours': NoFacts;
    'device.confirmation_answered': { state: 'confirmed' | 'rejected' | 'expired' };
    'device.employee_said_not_me': { at: Date };
    'device.no_email': NoFacts;
  }
}

export const CONFIRMATION_MINUTES = 10;
/** After "This wasn't me", device help for that Duo user is refused this long (for every responder). */
export const NOT_ME_BLOCK_HOURS = 24;

export interface ConfirmationView {
  readonly id: string;
  readonly teamId: string;
  readonly responderUserId: string;
  readonly duoUserId: string;
  readonly username: string;
  readonly action: DeviceAction;
  readonly phoneId: string;
  readonly employeeUserId: string;
  readonly state: IDeviceConfirmation['state'];
  readonly sentAt: Date;
  readonly expiresAt: Date;
  readonly answeredAt: Date | null;
  readonly formViewId: string | null;
}

const view = (r: IDeviceConfirmation): ConfirmationView => ({
  id: r.id,
  teamId: r.teamId,
  responderUserId: r.responderUserId,
  duoUserId: r.duoUserId,
  username: r.username,
  action: r.action as DeviceAction,
  phoneId: r.phoneId,
  employeeUserId: r.employeeUserId,
  state: r.state,
  sentAt: r.sentAt,
  expiresAt: r.expiresAt,
  answeredAt: r.answeredAt ?? null,
  formViewId: r.formViewId ?? null,
});

/** What the guard pipeline's other way answers (src/usecases/guards.ts AlternativeVerification). */
type AlternativeVerification = { via: 'slack_dm'; id: string } | { via: 'unverifiable' };

/** The Slack side: the DM to the employee, its settling, and the word to the responder. */
export interface DeviceNotices {
  askEmployee(c: ConfirmationView, facts: { phoneLabel: string }): Promise<{ channel: string; ts: string }>;
  settleEmployeeMessage(
    at: { channel: string; ts: string },
    c: ConfirmationView,
    outcome: 'confirmed' | 'rejected' | 'expired',
  ): Promise<void>;
  tellResponder(c: ConfirmationView, outcome: 'confirmed' | 'rejected'): Promise<void>;
}

/** The employee's own Slack account for a Duo user, or why there is none that counts. */
export async function employeeAccount(deps: Deps, teamId: string, user: User): Promise<SlackMember> {
  if (!user.email) return { found: false, why: 'no_account' };
  return deps.people.memberByEmail(user.email, teamId);
}

export async function latestConfirmation(
  em: EntityManager,
  q: { teamId: string; duoUserId: string; responderUserId: string; action: DeviceAction },
): Promise<ConfirmationView | null> {
  const r = await em.findOne(DeviceConfirmation, q, { orderBy: { sentAt: 'desc' }, refresh: true });
  return r ? view(r) : null;
}

/** "This wasn't me" for this Duo user, recently enough to stop device help. */
export async function employeeSaidNotMe(
  deps: Deps,
  em: EntityManager,
  teamId: string,
  duoUserId: string,
): Promise<Date | null> {
  const since = new Date(deps.clock.now().getTime() - NOT_ME_BLOCK_HOURS * 3600_000);
  const r = await em.findOne(
    DeviceConfirmation,
    { teamId, duoUserId, state: 'rejected', answeredAt: { $gte: since } },
    { orderBy: { answeredAt: 'desc' }, refresh: true },
  );
  return r?.answeredAt ?? null;
}

/**
 * The guard pipeline's other way (src/usecases/guards.ts): a confirmation this responder asked for, for
 * this user and action, confirmed within the verification window; or, when no Slack account matches the
 * Duo user, 'unverifiable' (the change then needs a second person).
 */
export function confirmationAlternative(
  deps: Deps,
  em: EntityManager,
  q: { teamId: string; responderUserId: string; user: User; action: DeviceAction },
): (minutes: number) => Promise<AlternativeVerification | null> {
  return async (minutes) => {
    const since = new Date(deps.clock.now().getTime() - minutes * 60_000);
    const r = await em.findOne(
      DeviceConfirmation,
      {
        teamId: q.teamId,
        responderUserId: q.responderUserId,
        duoUserId: q.user.user_id,
        action: q.action,
        state: 'confirmed',
        answeredAt: { $gte: since },
      },
      { orderBy: { answeredAt: 'desc' }, refresh: true },
    );
    if (r) return { via: 'slack_dm', id: r.id };
    const member = await employeeAccount(deps, q.teamId, q.user);
    return member.found ? null : { via: 'unverifiable' };
  };
}

/** Sends the DM. The caller (the device-help use case) has authorized the responder and the action. */
export async function askEmployee(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: DeviceNotices,
  input: { user: User; phoneId: string; action: DeviceAction; formViewId: string | null },
): Promise<ConfirmationView> {
  const { user } = input;
  const target = { duoUserId: user.user_id, username: user.username };
  const member = await employeeAccount(deps, caller.teamId, user);
  const audit = (action: 'device.confirmation_sent' | 'device.confirmation_refused', params: Record<string, string>) =>
    deps.audit.record(em, {
      teamId: caller.teamId,
      actor: { userId: caller.userId, role: null },
      action,
      outcome: action === 'device.confirmation_sent' ? 'success' : 'denied',
      target,
      correlationId: caller.correlationId,
      params: { deviceAction: input.action, phoneId: input.phoneId, ...params },
    });
  if (!member.found) {
    await audit('device.confirmation_refused', { why: member.why });
    throw fail('INVALID_STATE', 'device.no_slack_match', { why: member.why });
  }
  // A responder who is also the employee cannot confirm their own request.
  if (member.userId === caller.userId) {
    await audit('device.confirmation_refused', { why: 'own_account' });
    throw fail('PERMISSION_DENIED', 'device.confirmation_not_yours', {});
  }
  const now = deps.clock.now();
  const open = await latestConfirmation(em, {
    teamId: caller.teamId,
    duoUserId: user.user_id,
    responderUserId: caller.userId,
    action: input.action,
  });
  if (open?.state === 'sent' && open.expiresAt > now)
    throw fail('CONFLICT', 'device.confirmation_open', { expiresAt: open.expiresAt });
  const row = em.create(DeviceConfirmation, {
    id: randomUUID(),
    teamId: caller.teamId,
    responderUserId: caller.userId,
    duoUserId: user.user_id,
    username: user.username,
    action: input.action,
    phoneId: input.phoneId,
    employeeUserId: member.userId,
    state: 'sent',
    sentAt: now,
    expiresAt: new Date(now.getTime() + CONFIRMATION_MINUTES * 60_000),
    formViewId: input.formViewId,
    correlationId: caller.correlationId,
  });
  await em.flush();
  const phone = (user.phones ?? []).find((p) => p.phone_id === input.phoneId);
  const at = await notices.askEmployee(view(row), { phoneLabel: phone ? phoneLabel(phone) : 'a device' });
  row.dmChannel = at.channel;
  row.dmTs = at.ts;
  await em.flush();
  await audit('device.confirmation_sent', { employee: member.userId, expiresAt: row.expiresAt.toISOString() });
  return view(row);
}

/**
 * The employee's click. Only the member the DM was sent to may answer (checked again against the Duo user's
 * email now), once, within 10 minutes. The first answer wins (a conditional update).
 */
export async function answerConfirmation(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: DeviceNotices,
  id: string,
  answer: 'confirm' | 'not_me',
): Promise<ConfirmationView> {
  const row = await em.findOne(DeviceConfirmation, { id, teamId: caller.teamId }, { refresh: true });
  if (!row) throw fail('NOT_FOUND', 'device.confirmation_gone', {});
  const c = view(row);
  const target = { duoUserId: c.duoUserId, username: c.username };
  const refuse = async (why: string) =>
    deps.audit.record(em, {
      teamId: caller.teamId,
      actor: { userId: caller.userId, role: null },
      action: 'device.confirmation_refused',
      outcome: 'denied',
      target,
      correlationId: caller.correlationId,
      params: { why, confirmation: c.id, answer, deviceAction: c.action },
    });
  if (caller.userId !== c.employeeUserId) {
    await refuse('not the employee the confirmation was sent to');
    throw fail('PERMISSION_DENIED', 'device.confirmation_not_yours', {});
  }
  if (c.state !== 'sent') {
    await refuse(`already ${c.state}`);
    throw fail('INVALID_STATE', 'device.confirmation_answered', { state: c.state });
  }
  const now = deps.clock.now();
  const dm = row.dmChannel && row.dmTs ? { channel: row.dmChannel, ts: row.dmTs } : null;
  if (c.expiresAt <= now) {
    await em.nativeUpdate(DeviceConfirmation, { id: c.id, state: 'sent' }, { state: 'expired' });
    await refuse('expired');
    if (dm) await notices.settleEmployeeMessage(dm, { ...c, state: 'expired' }, 'expired').catch(() => undefined);
    throw fail('INVALID_STATE', 'device.confirmation_answered', { state: 'expired' });
  }
  // The account must still be the Duo user's own (an email changed in the meantime does not count).
  const user = await deps.duo.getUserById(c.duoUserId);
  const member = await employeeAccount(deps, caller.teamId, user);
  if (!member.found || member.userId !== caller.userId) {
    await refuse('the Slack account no longer matches the Duo user');
    throw fail('PERMISSION_DENIED', 'device.confirmation_not_yours', {});
  }
  const state = answer === 'confirm' ? 'confirmed' : 'rejected';
  const won = await em.nativeUpdate(DeviceConfirmation, { id: c.id, state: 'sent' }, { state, answeredAt: now });
  if (!won) {
    await refuse('answered twice');
    throw fail('CONFLICT', 'device.confirmation_answered', { state: 'confirmed' });
  }
  const settled: ConfirmationView = { ...c, state, answeredAt: now };
  await deps.audit.record(em, {
    teamId: caller.teamId,
    actor: { userId: caller.userId, role: null },
    action: state === 'confirmed' ? 'device.confirmed' : 'device.not_me',
    outcome: state === 'confirmed' ? 'success' : 'denied',
    target,
    correlationId: caller.correlationId,
    params: {
      confirmation: c.id,
      responder: c.responderUserId,
      deviceAction: c.action,
      phoneId: c.phoneId,
      ...(state === 'rejected' ? { alert: true } : {}),
    },
  });
  if (dm) await notices.settleEmployeeMessage(dm, settled, state).catch(() => undefined);
  await notices
    .tellResponder(settled, state)
    .catch((e) =>
      deps.logger.warn('could not tell the responder about the confirmation', { code: (e as { code?: string }).code }),
    );
  return settled;
}
