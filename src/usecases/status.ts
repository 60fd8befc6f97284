import { assertAuditSafe } from '../audit/secrets-guard.js';
import type { AuditRecord } from '../audit/trail.js';
import type { IVerification } from '../db/entities.js';
import { authorize } from '../domain/authorize.js';
import { isDirectorySynced, STATUS_LABELS, statusChangeAction } from '../domain/duo-user.js';
import type { Actor } from '../domain/roles.js';
import type { Settings } from '../domain/settings.js';
import { isDuoError } from '../duo/errors.js';
import type { SettableUserStatus, User } from '../duo/types.js';
import { AppError } from '../errors.js';
import { authorizeOrThrow, recordDenial, requireActor } from './access.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { refreshDirectoryUser } from './directory-index.js';
import { cardActions, countActiveCodes, findDuoUser, type UserCardModel } from './lookup.js';
import { checkStepUp } from './step-up.js';
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

/** Called once every check that needs no Duo call has passed: the listener acks and shows a working state. */
export interface Progress {
  accepted?: () => Promise<void>;
}

const label = (s: string) => STATUS_LABELS[s] ?? s;
export const invalidState = (why: string, userMessage: string, field?: string) =>
  new AppError('INVALID_STATE', why, { userMessage, ...(field ? { details: { field } } : {}) });

export function checkFreeText(reason: string, ticket: string | null | undefined): void {
  if (!reason.trim())
    throw new AppError('INVALID_INPUT', 'reason missing', {
      userMessage: 'Give a reason (what the caller asked for and how you verified them).',
      details: { field: FIELD.reason },
    });
  for (const [text, field] of [
    [reason, FIELD.reason],
    [ticket, FIELD.ticket],
  ] as const) {
    try {
      assertAuditSafe({}, [text]);
    } catch (e) {
      throw new AppError('INVALID_INPUT', 'free text looks like a secret', {
        userMessage: (e as AppError).userMessage ?? 'That text looks like it contains a code or a token.',
        details: { field },
      });
    }
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
    throw invalidState(
      'user pending deletion',
      `*${user.username}* is pending deletion in Duo: their status cannot be changed. An administrator can restore the user from the Duo Admin Panel (Users → Deleted users) first.`,
    );
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
      throw invalidState(
        `nothing to unlock (${user.status})`,
        `*${user.username}* is ${label(user.status)}, not locked out or disabled: there is nothing to unlock.`,
      );
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
      throw invalidState('no status to offer', `Your role cannot set *${user.username}* to another status.`);
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
): Promise<IVerification | null> {
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
  throw new AppError('VERIFICATION_REQUIRED', 'no recent verification', {
    userMessage: `Verify the caller first: no Duo Push to this user sent by you was approved in the last ${settings.verification_valid_minutes_unlock} minutes. Send one (\`/duo verify\`), have the caller read back the code, then submit again.`,
    details: { field },
  });
}

async function requireStepUp(deps: Deps, em: EntityManager, caller: Caller, totp: string | null | undefined) {
  if (!totp?.trim())
    throw new AppError('STEP_UP_REQUIRED', 'unlock needs a step-up code', {
      userMessage: 'Unlocking needs the current 6-digit code from your authenticator app.',
      details: { field: FIELD.totp },
    });
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
      actions: cardActions(actor, fresh, settings),
    };
  } catch (e) {
    deps.logger.warn('could not refresh the card after a status change', { err: e });
    return null;
  }
}

/** Runs a Duo mutation between an audit intent and its outcome; a Duo error is recorded and rethrown. */
export async function auditedDuoCall<T>(
  deps: Deps,
  em: EntityManager,
  intent: AuditRecord,
  call: () => Promise<T>,
  params: (result: T) => Record<string, string | number | boolean | null> = () => ({}),
): Promise<T> {
  let result: T;
  try {
    result = await call();
  } catch (e) {
    const unknown = isDuoError(e) && e.outcomeUnknown;
    await deps.audit.complete(em, intent, {
      outcome: unknown ? 'unknown' : 'failed',
      duoRef: isDuoError(e) || e instanceof AppError ? e.code : 'error',
    });
    throw e;
  }
  await deps.audit.complete(em, intent, { outcome: 'success', params: params(result) });
  return result;
}

export async function changeStatus(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  input: StatusChangeInput,
  progress: Progress = {},
): Promise<StatusChangeResult> {
  const reason = input.reason.trim().slice(0, 500);
  const ticket = input.ticket?.trim().slice(0, 100) || null;
  checkFreeText(reason, ticket);
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
  let verification: IVerification | null = null;
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
    throw invalidState(
      `no longer locked (${from})`,
      `*${user.username}* is no longer locked out or disabled (now ${label(from)}): nothing was changed.`,
    );
  if (from === to)
    throw invalidState(`already ${to}`, `*${user.username}* is already ${label(to)}: nothing was changed.`);
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
