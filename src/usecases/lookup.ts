import type { DeviceAction } from '../domain/devices.js';
import { DuoUserIdSchema } from '../domain/duo-objects.js';
import { isDirectorySynced } from '../domain/duo-user.js';
import { type CardFlow, cardFlows } from '../domain/flows.js';
import type { BypassCodeMeta, User } from '../duo/types.js';
import { fail } from '../errors.js';
import { authorizeOrThrow, requireActor } from './access.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { deviceButtons } from './device-buttons.js';
import { refreshDirectoryUser, searchDirectory } from './directory-index.js';
import { type TrashFacts, trashFacts } from './trash-facts.js';
import { latestVerification, type VerificationView } from './verification-policy.js';

export interface UserCardModel {
  user: User;
  activeBypassCodes: number;
  lastVerification: VerificationView | null;
  directorySynced: boolean;
  /** The card's buttons: flows this responder may start for this user (each is checked again on click). */
  actions: CardFlow[];
  /** Device help: per phone, the device actions this responder may take (checked again on click). */
  devices?: Array<{ phoneId: string; label: string; actions: DeviceAction[] }>;
  /** A user in the Trash: when marked and when Duo deletes them (src/usecases/trash-facts.ts). */
  trash?: TrashFacts | null;
}

declare module '../errors.js' {
  interface Problems {
    'lookup.no_user_given': NoFacts;
    'lookup.bad_query': NoFacts;
    'lookup.no_match': { query: string };
    'lookup.several_match': { query: string; count: number; usernames: string[] };
  }
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** Parses what a responder typed to name a Duo user. */
export function parseUserQuery(raw: string): string {
  const q = raw
    .trim()
    .replace(/^<mailto:([^|>]+)\|[^>]*>$/, '$1')
    .replace(/^["']|["']$/g, '');
  if (!q) throw fail('INVALID_INPUT', 'lookup.no_user_given', {});
  if (q.length > 200 || /\s/.test(q)) throw fail('INVALID_INPUT', 'lookup.bad_query', {});
  return q;
}

/** Finds exactly one Duo user by id, username/alias, or email. */
export async function findDuoUser(deps: Deps, rawQuery: string): Promise<User> {
  const q = parseUserQuery(rawQuery);
  let users: User[];
  if (DuoUserIdSchema.safeParse(q).success) {
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
  if (!users.length) throw fail('NOT_FOUND', 'lookup.no_match', { query: q });
  if (users.length > 1)
    throw fail('AMBIGUOUS_USER', 'lookup.several_match', {
      query: q,
      count: users.length,
      usernames: users.slice(0, 5).map((u) => u.username),
    });
  return users[0]!;
}

export const countActiveCodes = (codes: BypassCodeMeta[], now: Date): number =>
  codes.filter((c) => c.expiration == null || c.expiration * 1000 > now.getTime()).length;

export async function lookupUser(deps: Deps, em: EntityManager, caller: Caller, query: string): Promise<UserCardModel> {
  const actor = await requireActor(deps, em, caller);
  const settings = await authorizeOrThrow(deps, em, caller, actor, 'user.lookup', { kind: 'none' });
  const user = await findDuoUser(deps, query);
  // Independent round trips run side by side: the card waits for the slowest, not for their sum.
  const [codes, lastVerification] = await Promise.all([
    deps.duo.getUserBypassCodes(user.user_id),
    latestVerification(em, actor.teamId, user.user_id),
  ]);
  await Promise.all([
    refreshDirectoryUser(em, user, deps.clock.now()),
    deps.audit.record(em, {
      teamId: actor.teamId,
      actor: { userId: actor.userId, role: actor.role },
      action: 'user.lookup',
      outcome: 'success',
      target: { duoUserId: user.user_id, username: user.username },
      correlationId: caller.correlationId,
    }),
  ]);
  return {
    user,
    activeBypassCodes: countActiveCodes(codes, deps.clock.now()),
    lastVerification,
    directorySynced: isDirectorySynced(user),
    actions: cardFlows(actor, user, settings),
    devices: deviceButtons(actor, user, settings),
    trash: await trashFacts(em, actor.teamId, user),
  };
}

/** The typeahead behind the lookup picker: the local directory index, never a Duo call. */
export async function searchUsers(deps: Deps, em: EntityManager, caller: Caller, query: string) {
  const actor = await requireActor(deps, em, caller);
  await authorizeOrThrow(deps, em, caller, actor, 'user.lookup', { kind: 'none' });
  return searchDirectory(em, query.trim().slice(0, 100), 20);
}
