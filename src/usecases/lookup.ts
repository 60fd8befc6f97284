import type { IVerification } from '../db/entities.js';
import type { Action, Target } from '../domain/authorize.js';
import { authorize } from '../domain/authorize.js';
import { DEFAULT_BYPASS_PARAMS } from '../domain/bypass-policy.js';
import { hasEnrolledDevice, isDirectorySynced, pushCapablePhones } from '../domain/duo-user.js';
import type { Actor } from '../domain/roles.js';
import type { Settings } from '../domain/settings.js';
import type { BypassCodeMeta, User } from '../duo/types.js';
import { AppError } from '../errors.js';
import { authorizeOrThrow, requireActor } from './access.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { refreshDirectoryUser, searchDirectory } from './directory-index.js';
import { latestVerification } from './verification-policy.js';

/** The actions a user card can offer; each is checked again when clicked. */
export type CardAction = 'verify' | 'unlock' | 'status' | 'bypass' | 'enroll' | 'codes';

export interface UserCardModel {
  user: User;
  activeBypassCodes: number;
  lastVerification: IVerification | null;
  directorySynced: boolean;
  actions: CardAction[];
}

const DUO_USER_ID = /^DU[A-Z0-9]{18}$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** Parses what a responder typed to name a Duo user. */
export function parseUserQuery(raw: string): string {
  const q = raw
    .trim()
    .replace(/^<mailto:([^|>]+)\|[^>]*>$/, '$1')
    .replace(/^["']|["']$/g, '');
  if (!q)
    throw new AppError('INVALID_INPUT', 'no user given', {
      userMessage: 'Say which Duo user: a username, an alias or an email address, e.g. `alice` or `alice@example.com`.',
    });
  if (q.length > 200 || /\s/.test(q))
    throw new AppError('INVALID_INPUT', 'bad user query', {
      userMessage: 'A Duo user is named by one username, alias or email address (no spaces).',
    });
  return q;
}

/** Finds exactly one Duo user by id, username/alias, or email. */
export async function findDuoUser(deps: Deps, rawQuery: string): Promise<User> {
  const q = parseUserQuery(rawQuery);
  let users: User[];
  if (DUO_USER_ID.test(q)) {
    try {
      users = [await deps.duo.getUserById(q)];
    } catch (e) {
      if ((e as { code?: string }).code === 'DUO_NOT_FOUND') users = [];
      else throw e;
    }
  } else if (EMAIL.test(q)) {
    users = await deps.duo.getUsersByEmail(q);
    if (!users.length) users = await deps.duo.getUsersByUsername(q);
  } else users = await deps.duo.getUsersByUsername(q);
  if (!users.length)
    throw new AppError('NOT_FOUND', 'no Duo user', {
      userMessage: `No Duo user matches \`${q}\` (by username, alias or email). Check the spelling, or try \`/duo lookup\` with no argument to search.`,
    });
  if (users.length > 1)
    throw new AppError('AMBIGUOUS_USER', 'several Duo users', {
      userMessage: `${users.length} Duo users match \`${q}\`: ${users
        .slice(0, 5)
        .map((u) => `\`${u.username}\``)
        .join(', ')}. Use the exact username.`,
    });
  return users[0]!;
}

/** Which card buttons this responder may see for this user (each is authorized again on click). */
export function cardActions(actor: Actor, user: User, settings: Settings): CardAction[] {
  const can = (action: Action, target: Target = { kind: 'none' }) => authorize(actor, action, target, settings).allowed;
  const synced = isDirectorySynced(user);
  const out: CardAction[] = [];
  if (pushCapablePhones(user).length && can('user.verify')) out.push('verify');
  if (user.status === 'locked out' && can('user.unlock')) out.push('unlock');
  if (user.status === 'disabled' && can('user.reenable')) out.push('unlock');
  if (
    user.status !== 'pending deletion' &&
    (['active', 'bypass', 'disabled'] as const).some(
      (to) => to !== user.status && can('user.set_status', { kind: 'status', toStatus: to, directorySynced: synced }),
    )
  )
    out.push('status');
  if (hasEnrolledDevice(user) && can('bypass.request', { kind: 'bypass', params: DEFAULT_BYPASS_PARAMS }))
    out.push('bypass');
  if (!user.is_enrolled && user.email && can('user.enroll')) out.push('enroll');
  if (can('bypass_codes.list')) out.push('codes');
  return out;
}

export const countActiveCodes = (codes: BypassCodeMeta[], now: Date): number =>
  codes.filter((c) => c.expiration == null || c.expiration * 1000 > now.getTime()).length;

export async function lookupUser(deps: Deps, em: EntityManager, caller: Caller, query: string): Promise<UserCardModel> {
  const actor = await requireActor(deps, em, caller);
  const settings = await authorizeOrThrow(deps, em, caller, actor, 'user.lookup', { kind: 'none' });
  const user = await findDuoUser(deps, query);
  const codes = await deps.duo.getUserBypassCodes(user.user_id);
  await refreshDirectoryUser(em, user, deps.clock.now());
  await deps.audit.record(em, {
    teamId: actor.teamId,
    actor: { userId: actor.userId, role: actor.role },
    action: 'user.lookup',
    outcome: 'success',
    target: { duoUserId: user.user_id, username: user.username },
    correlationId: caller.correlationId,
  });
  return {
    user,
    activeBypassCodes: countActiveCodes(codes, deps.clock.now()),
    lastVerification: await latestVerification(em, actor.teamId, user.user_id),
    directorySynced: isDirectorySynced(user),
    actions: cardActions(actor, user, settings),
  };
}

/** The typeahead behind the lookup picker: the local directory index, never a Duo call. */
export async function searchUsers(deps: Deps, em: EntityManager, caller: Caller, query: string) {
  const actor = await requireActor(deps, em, caller);
  await authorizeOrThrow(deps, em, caller, actor, 'user.lookup', { kind: 'none' });
  return searchDirectory(em, query.trim().slice(0, 100), 20);
}
