import { authorize, type Target } from '../domain/authorize.js';
import { isDirectorySynced, statusChangeAction, statusTarget } from '../domain/duo-user.js';
import { cardFlows } from '../domain/flows.js';
import { approvalRequired, BYPASS_STATUS_DEFAULT_MINUTES } from '../domain/guards.js';
import type { Actor } from '../domain/roles.js';
import type { Settings } from '../domain/settings.js';
import type { SettableUserStatus, User } from '../duo/types.js';
import { fail } from '../errors.js';
import { authorizeOrThrow, requireActor } from './access.js';
import { bypassStatusKind } from './approval-bypass-status.js';
import { type Submitted, submitRequest } from './approval-engine.js';
import type { ApprovalNotices } from './approval-model.js';
import { assertDailyLimit } from './bypass-checks.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { refreshDirectoryUser } from './directory-index.js';
import { passGuards } from './guards.js';
import { auditedDuoCall, cleanFreeText, type Progress } from './kit.js';
import { countActiveCodes, findDuoUser, type UserCardModel } from './lookup.js';
import { latestVerification, type VerificationState, verificationState } from './verification-policy.js';

/**
 * Unlock, change status and send the enrollment email. Each flow has a `prepare…` (the modal's
 * model, after the same checks the submit makes) and a mutation that loads the responder, the
 * settings and the Duo user again, authorizes on that state, and writes an audit intent before
 * the Duo call and its outcome after it. Slack-side ids (button values, private_metadata) are
 * only references: nothing here trusts them beyond naming a Duo user.
 */
export type StatusFlow = 'unlock' | 'status';
export const SETTABLE: SettableUserStatus[] = ['active', 'bypass', 'disabled'];
const UNLOCKABLE = new Set(['locked out', 'disabled']);

/** Where an error is shown on the modal (block ids of views/ids.ts BLOCKS; kept literal to stay Slack-free). */
const FIELD = { reason: 'reason', ticket: 'ticket', status: 'status', totp: 'totp' } as const;

export interface StatusModalModel {
  flow: StatusFlow;
  user: User;
  directorySynced: boolean;
  /** Statuses this responder may set for this user now (unlock: ['active']). */
  allowed: SettableUserStatus[];
  /** Whether choosing 'active' is an unlock / re-enable (verification and step-up rules apply). */
  activeIsUnlock: boolean;
  verification: VerificationState;
  verificationMinutes: number;
  stepUp: boolean;
  /** When bypass is offered: its time box, whether a second person approves, and the verification it needs. */
  bypass: {
    defaultMinutes: number;
    maxMinutes: number;
    approvalRequired: boolean;
    verification: VerificationState;
    verificationMinutes: number;
  } | null;
}

export interface StatusChangeInput {
  flow: StatusFlow;
  duoUserId: string;
  to: SettableUserStatus;
  reason: string;
  ticket?: string | null | undefined;
  totp?: string | null | undefined;
  /** Bypass only: how long (the time box); the default when absent. */
  minutes?: number | null | undefined;
  /** Where the form was opened: the requester hears about an approval there. */
  requestChannel?: string | null | undefined;
}

/** A change made at once, or (bypass) a time-boxed request on the approval engine. */
export type StatusChangeResult = StatusChanged | { kind: 'bypass'; submitted: Submitted };

export interface StatusChanged {
  kind: 'changed';
  username: string;
  from: string;
  to: SettableUserStatus;
  /** The refreshed card; null when Duo could not be read after the change (the change itself succeeded). */
  card: UserCardModel | null;
}

declare module '../errors.js' {
  interface Problems {
    'status.pending_deletion': { username: string };
    'status.nothing_to_unlock': { username: string; status: string };
    'status.no_longer_locked': { username: string; status: string };
    'status.already': { username: string; status: string };
    'status.none_to_offer': { username: string };
    'status.bypass_needs_active': { username: string; status: string };
    'status.bypass_too_long': { maxMinutes: number };
  }
}

/** Statuses the actor may set for this user, in Duo's order. */
function allowedStatuses(actor: Actor, user: User, settings: Settings): SettableUserStatus[] {
  return SETTABLE.filter(
    (to) =>
      to !== user.status &&
      authorize(actor, statusChangeAction(user.status, to), statusTarget(user, to), settings).allowed,
  );
}

function refusePendingDeletion(user: User): void {
  if (user.status === 'pending deletion')
    throw fail('INVALID_STATE', 'status.pending_deletion', { username: user.username });
}

export async function prepareStatusChange(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  ref: string,
  flow: StatusFlow,
): Promise<StatusModalModel> {
  const actor = await requireActor(deps, em, caller);
  // Coarse: whoever may unlock opens either form; the exact check follows on Duo's state of the user.
  const settings = await authorizeOrThrow(deps, em, caller, actor, 'user.unlock', { kind: 'none' });
  const user = await findDuoUser(deps, ref);
  await refreshDirectoryUser(em, user, deps.clock.now());
  refusePendingDeletion(user);
  const directorySynced = isDirectorySynced(user);
  const target = { duoUserId: user.user_id, username: user.username };
  let allowed: SettableUserStatus[];
  if (flow === 'unlock') {
    if (!UNLOCKABLE.has(user.status))
      throw fail('INVALID_STATE', 'status.nothing_to_unlock', { username: user.username, status: user.status });
    await authorizeOrThrow(
      deps,
      em,
      caller,
      actor,
      statusChangeAction(user.status, 'active'),
      statusTarget(user, 'active'),
      { settings, targetUser: target },
    );
    allowed = ['active'];
  } else {
    allowed = allowedStatuses(actor, user, settings);
    if (!allowed.length) {
      // Record and explain the denial of the change this role would most likely want.
      const to = SETTABLE.find((s) => s !== user.status) ?? 'active';
      await authorizeOrThrow(deps, em, caller, actor, statusChangeAction(user.status, to), statusTarget(user, to), {
        settings,
        targetUser: target,
      });
      throw fail('INVALID_STATE', 'status.none_to_offer', { username: user.username });
    }
  }
  const activeIsUnlock = UNLOCKABLE.has(user.status) && allowed.includes('active');
  const minutes = settings.verification_valid_minutes_unlock;
  return {
    flow,
    user,
    directorySynced,
    allowed,
    activeIsUnlock,
    verification: activeIsUnlock
      ? await verificationState(em, deps.clock, {
          teamId: actor.teamId,
          duoUserId: user.user_id,
          responderUserId: actor.userId,
          minutes,
        })
      : { required: false },
    verificationMinutes: minutes,
    stepUp: activeIsUnlock && settings.step_up_for_unlock,
    bypass: allowed.includes('bypass')
      ? {
          defaultMinutes: Math.min(BYPASS_STATUS_DEFAULT_MINUTES, settings.bypass_status_max_minutes),
          maxMinutes: settings.bypass_status_max_minutes,
          approvalRequired: approvalRequired(actor.role, settings),
          verificationMinutes: settings.verification_valid_minutes_bypass,
          verification: await verificationState(em, deps.clock, {
            teamId: actor.teamId,
            duoUserId: user.user_id,
            responderUserId: actor.userId,
            minutes: settings.verification_valid_minutes_bypass,
          }),
        }
      : null,
  };
}

/** The card after a change, built like /duo lookup's (no second lookup audit event). */
async function refreshedCard(
  deps: Deps,
  em: EntityManager,
  actor: Actor,
  settings: Settings,
  user: User,
): Promise<UserCardModel | null> {
  try {
    const fresh = user;
    const codes = await deps.duo.getUserBypassCodes(user.user_id);
    return {
      user: fresh,
      activeBypassCodes: countActiveCodes(codes, deps.clock.now()),
      lastVerification: await latestVerification(em, actor.teamId, user.user_id),
      directorySynced: isDirectorySynced(fresh),
      actions: cardFlows(actor, fresh, settings),
    };
  } catch (e) {
    deps.logger.warn('could not refresh the card after a status change', { err: e });
    return null;
  }
}

export async function changeStatus(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: ApprovalNotices,
  input: StatusChangeInput,
  progress: Progress = {},
): Promise<StatusChangeResult> {
  const reason = cleanFreeText(input.reason, {
    field: FIELD.reason,
    purpose: 'change_reason',
    max: 500,
    required: true,
  })!;
  const ticket = cleanFreeText(input.ticket, { field: FIELD.ticket, purpose: 'ticket', max: 100, required: false });
  const to = input.flow === 'unlock' ? 'active' : input.to;
  if (to === 'bypass') return requestBypassStatus(deps, em, caller, notices, input, { reason, ticket }, progress);
  const errorField = input.flow === 'unlock' ? FIELD.reason : FIELD.status;
  const unlockGuards = (
    user: { duoUserId: string; username?: string },
    action: 'user.unlock' | 'user.reenable',
    target: Target,
  ) =>
    passGuards(deps, em, caller, {
      action: 'unlock',
      authorize: { action, target },
      duoUser: user,
      totp: input.totp,
      fields: { verification: errorField, totp: FIELD.totp },
    });
  // An unlock's guards need no Duo call, so wrong input comes back on the form before the ack.
  let passed =
    input.flow === 'unlock'
      ? await unlockGuards({ duoUserId: input.duoUserId }, 'user.unlock', { kind: 'none' })
      : null;
  const actor = passed?.actor ?? (await requireActor(deps, em, caller));
  // Coarse check before Duo is asked anything (the exact one follows on Duo's state).
  const settings =
    passed?.settings ??
    (await authorizeOrThrow(
      deps,
      em,
      caller,
      actor,
      to === 'active' ? 'user.unlock' : 'user.set_status',
      to === 'active' ? { kind: 'none' } : { kind: 'status', toStatus: to, directorySynced: false },
      { targetUser: { duoUserId: input.duoUserId } },
    ));
  await progress.accepted?.();

  const user = await deps.duo.getUserById(input.duoUserId);
  const target = { duoUserId: user.user_id, username: user.username };
  refusePendingDeletion(user);
  const from = user.status;
  if (input.flow === 'unlock' && !UNLOCKABLE.has(from))
    throw fail('INVALID_STATE', 'status.no_longer_locked', { username: user.username, status: from });
  if (from === to) throw fail('INVALID_STATE', 'status.already', { username: user.username, status: to });
  const action = statusChangeAction(from, to);
  await authorizeOrThrow(deps, em, caller, actor, action, statusTarget(user, to), {
    settings,
    targetUser: target,
  });
  // Setting a locked-out or disabled user active from the status modal is an unlock: the same guards.
  if (input.flow === 'status' && (action === 'user.unlock' || action === 'user.reenable'))
    passed = await unlockGuards(target, action, statusTarget(user, to));

  const intent = await deps.audit.intent(em, {
    teamId: actor.teamId,
    actor: { userId: actor.userId, role: actor.role },
    action: 'user.status_changed',
    target,
    reason,
    ticket,
    correlationId: caller.correlationId,
    params: {
      from,
      to,
      change: action === 'user.unlock' ? 'unlock' : action === 'user.reenable' ? 'reenable' : 'set_status',
      verification: passed?.verification?.id ?? null,
    },
  });
  const updated = await auditedDuoCall(
    deps,
    em,
    intent,
    () => deps.duo.updateUser(user.user_id, { status: to }),
    (u) => ({ duoStatus: u.status }),
  );
  return {
    kind: 'changed',
    username: user.username,
    from,
    to,
    card: await refreshedCard(deps, em, actor, settings, updated),
  };
}

/**
 * Bypass status: a guarded, time-boxed change. Verification, step-up (always) and, unless the
 * settings exempt the requester's role, a second person; it ends by itself after `minutes`.
 */
async function requestBypassStatus(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: ApprovalNotices,
  input: StatusChangeInput,
  text: { reason: string; ticket: string | null },
  progress: Progress,
): Promise<StatusChangeResult> {
  const passed = await passGuards(deps, em, caller, {
    action: 'bypass_status',
    authorize: {
      action: 'user.set_status',
      target: { kind: 'status', toStatus: 'bypass', directorySynced: false },
    },
    duoUser: { duoUserId: input.duoUserId },
    totp: input.totp,
    fields: { verification: FIELD.status, totp: FIELD.totp },
  });
  const { actor, settings, guards } = passed;
  const box = guards.timeBox!;
  const minutes = input.minutes ?? box.defaultMinutes;
  if (minutes > box.maxMinutes)
    throw fail('INVALID_INPUT', 'status.bypass_too_long', { maxMinutes: box.maxMinutes }, { field: 'duration' });
  await assertDailyLimit(deps, em, actor, settings);
  await progress.accepted?.();
  const user = await deps.duo.getUserById(input.duoUserId);
  refusePendingDeletion(user);
  await authorizeOrThrow(
    deps,
    em,
    caller,
    actor,
    'user.set_status',
    { kind: 'status', toStatus: 'bypass', directorySynced: isDirectorySynced(user) },
    { settings, targetUser: { duoUserId: user.user_id, username: user.username } },
  );
  if (user.status !== 'active')
    throw fail('INVALID_STATE', 'status.bypass_needs_active', { username: user.username, status: user.status });
  const submitted = await submitRequest(deps, em, caller, actor, notices, {
    kind: bypassStatusKind,
    params: { minutes },
    policy: guards.approval,
    target: { duoUserId: user.user_id, username: user.username },
    reason: text.reason,
    ticket: text.ticket,
    requestChannel: input.requestChannel ?? null,
    verificationId: passed.verification?.id ?? null,
    delayHours: guards.delayHours,
    audit: { minutes, verified: guards.verificationMinutes !== null },
  });
  return { kind: 'bypass', submitted };
}
