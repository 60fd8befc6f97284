import { authorize } from '../domain/authorize.js';
import { isDirectorySynced, statusChangeAction } from '../domain/duo-user.js';
import { cardFlows } from '../domain/flows.js';
import type { Actor } from '../domain/roles.js';
import type { Settings } from '../domain/settings.js';
import type { SettableUserStatus, User } from '../duo/types.js';
import { fail } from '../errors.js';
import { authorizeOrThrow, recordDenial, requireActor } from './access.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { refreshDirectoryUser } from './directory-index.js';
import { auditedDuoCall, cleanFreeText, type Progress } from './kit.js';
import { countActiveCodes, findDuoUser, type UserCardModel } from './lookup.js';
import { checkStepUp } from './step-up.js';
import {
  latestVerification,
  type VerificationState,
  type VerificationView,
  verificationState,
} from './verification-policy.js';

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
}

export interface StatusChangeInput {
  flow: StatusFlow;
  duoUserId: string;
  to: SettableUserStatus;
  reason: string;
  ticket?: string | null | undefined;
  totp?: string | null | undefined;
}

export interface StatusChangeResult {
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
    'status.verification_required': { minutes: number };
    'status.step_up_required': NoFacts;
  }
}

/** Statuses the actor may set for this user, in Duo's order. */
function allowedStatuses(actor: Actor, user: User, settings: Settings): SettableUserStatus[] {
  const directorySynced = isDirectorySynced(user);
  return SETTABLE.filter(
    (to) =>
      to !== user.status &&
      authorize(actor, statusChangeAction(user.status, to), { kind: 'status', toStatus: to, directorySynced }, settings)
        .allowed,
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
  const entry = flow === 'unlock' ? 'user.unlock' : 'user.set_status';
  const settings = await authorizeOrThrow(deps, em, caller, actor, entry, {
    kind: 'status',
    toStatus: 'active',
    directorySynced: false,
  });
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
      { kind: 'status', toStatus: 'active', directorySynced },
      { settings, targetUser: target },
    );
    allowed = ['active'];
  } else {
    allowed = allowedStatuses(actor, user, settings);
    if (!allowed.length) {
      // Record and explain the denial of the change this role would most likely want.
      const to = SETTABLE.find((s) => s !== user.status) ?? 'active';
      await authorizeOrThrow(
        deps,
        em,
        caller,
        actor,
        statusChangeAction(user.status, to),
        { kind: 'status', toStatus: to, directorySynced },
        { settings, targetUser: target },
      );
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
  };
}

/** Refuses (and audits) an unlock without a recent verification by this responder of this Duo user. */
async function requireVerification(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  actor: Actor,
  settings: Settings,
  target: { duoUserId: string; username?: string | null },
  field: string,
): Promise<VerificationView | null> {
  const state = await verificationState(em, deps.clock, {
    teamId: actor.teamId,
    duoUserId: target.duoUserId,
    responderUserId: actor.userId,
    minutes: settings.verification_valid_minutes_unlock,
  });
  if (!state.required) return null;
  if (state.satisfied) return state.verification;
  await recordDenial(deps, em, caller, actor, {
    attempted: 'user.unlock',
    why: 'no recent verification by this responder',
    target,
  });
  throw fail(
    'VERIFICATION_REQUIRED',
    'status.verification_required',
    { minutes: settings.verification_valid_minutes_unlock },
    { field },
  );
}

async function requireStepUp(deps: Deps, em: EntityManager, caller: Caller, totp: string | null | undefined) {
  if (!totp?.trim()) throw fail('STEP_UP_REQUIRED', 'status.step_up_required', {}, { field: FIELD.totp });
  await checkStepUp(deps, em, caller, totp, 'unlock');
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
  const actor = await requireActor(deps, em, caller);
  const to = input.flow === 'unlock' ? 'active' : input.to;
  const errorField = input.flow === 'unlock' ? FIELD.reason : FIELD.status;
  // Coarse check before Duo is asked anything (the exact one follows on Duo's state).
  const settings = await authorizeOrThrow(
    deps,
    em,
    caller,
    actor,
    input.flow === 'unlock' ? 'user.unlock' : 'user.set_status',
    { kind: 'status', toStatus: to, directorySynced: false },
    { targetUser: { duoUserId: input.duoUserId } },
  );
  // An unlock's checks need no Duo call, so wrong input comes back on the form before the ack.
  let verification: VerificationView | null = null;
  if (input.flow === 'unlock') {
    verification = await requireVerification(
      deps,
      em,
      caller,
      actor,
      settings,
      { duoUserId: input.duoUserId },
      errorField,
    );
    if (settings.step_up_for_unlock) await requireStepUp(deps, em, caller, input.totp);
  }
  await progress.accepted?.();

  const user = await deps.duo.getUserById(input.duoUserId);
  const target = { duoUserId: user.user_id, username: user.username };
  refusePendingDeletion(user);
  const from = user.status;
  if (input.flow === 'unlock' && !UNLOCKABLE.has(from))
    throw fail('INVALID_STATE', 'status.no_longer_locked', { username: user.username, status: from });
  if (from === to) throw fail('INVALID_STATE', 'status.already', { username: user.username, status: to });
  const action = statusChangeAction(from, to);
  await authorizeOrThrow(
    deps,
    em,
    caller,
    actor,
    action,
    { kind: 'status', toStatus: to, directorySynced: isDirectorySynced(user) },
    { settings, targetUser: target },
  );
  if (input.flow === 'status' && action !== 'user.set_status') {
    // Setting a locked-out or disabled user active from the status modal is an unlock: same rules.
    verification = await requireVerification(deps, em, caller, actor, settings, target, errorField);
    if (settings.step_up_for_unlock) await requireStepUp(deps, em, caller, input.totp);
  }

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
      verification: verification?.id ?? null,
    },
  });
  const updated = await auditedDuoCall(
    deps,
    em,
    intent,
    () => deps.duo.updateUser(user.user_id, { status: to }),
    (u) => ({ duoStatus: u.status }),
  );
  return { username: user.username, from, to, card: await refreshedCard(deps, em, actor, settings, updated) };
}
