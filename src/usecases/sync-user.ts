import type { DirectoryConfig } from '../config.js';
import { isDirectorySynced } from '../domain/duo-user.js';
import { cardFlows } from '../domain/flows.js';
import type { User } from '../duo/types.js';
import { fail } from '../errors.js';
import { authorizeOrThrow, requireActor } from './access.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { refreshDirectoryUser } from './directory-index.js';
import { auditedDuoCall, type Progress } from './kit.js';
import { countActiveCodes, parseUserQuery, type UserCardModel } from './lookup.js';
import { latestVerification } from './verification-policy.js';

/**
 * One-user directory sync (Duo: POST /admin/v1/users/directorysync/[directory_key]/syncuser), which Duo
 * allows Help Desk too (not full syncs). The directory comes from DUO_DESK_DIRECTORIES: with one, it is
 * used; with several, the responder names it. Duo creates, updates, or sends to Trash as the directory
 * says; the card afterwards shows the user as Duo has them then.
 */
declare module '../errors.js' {
  interface Problems {
    'sync.no_directories': NoFacts;
    'sync.which_directory': { names: string[] };
    'sync.unknown_directory': { typed: string; names: string[] };
    'sync.not_in_directory': { username: string; directory: string };
  }
}

export interface SyncInput {
  /** The username as typed (a sync may create the user: no Duo lookup first). */
  username: string;
  /** A directory's name or key, when several are configured. */
  directory?: string | null;
}

export interface SyncResult {
  username: string;
  directory: DirectoryConfig;
  /** The user as Duo has them after the sync (null: Duo has no such user now). */
  card: UserCardModel | null;
}

function pickDirectory(dirs: readonly DirectoryConfig[], typed: string | null | undefined): DirectoryConfig {
  if (!dirs.length) throw fail('INVALID_STATE', 'sync.no_directories', {});
  const names = dirs.map((d) => d.name);
  if (!typed) {
    if (dirs.length === 1) return dirs[0]!;
    throw fail('INVALID_INPUT', 'sync.which_directory', { names });
  }
  const t = typed.trim().toLowerCase();
  const found =
    dirs.find((d) => d.key.toLowerCase() === t) ??
    dirs.find((d) => d.name.toLowerCase() === t) ??
    dirs.filter((d) => d.name.toLowerCase().startsWith(t)).at(0);
  if (!found) throw fail('INVALID_INPUT', 'sync.unknown_directory', { typed: typed.slice(0, 80), names });
  return found;
}

export async function syncOneUser(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  input: SyncInput,
  progress: Progress = {},
): Promise<SyncResult> {
  const actor = await requireActor(deps, em, caller);
  const username = parseUserQuery(input.username);
  const settings = await authorizeOrThrow(
    deps,
    em,
    caller,
    actor,
    'user.sync',
    { kind: 'none' },
    {
      targetUser: { username },
    },
  );
  const directory = pickDirectory(deps.config.directories ?? [], input.directory);
  await progress.accepted?.();
  const intent = await deps.audit.intent(em, {
    teamId: actor.teamId,
    actor: { userId: actor.userId, role: actor.role },
    action: 'user.synced',
    target: { username },
    correlationId: caller.correlationId,
    params: { directory: directory.name, directoryKey: directory.key },
  });
  try {
    await auditedDuoCall(deps, em, intent, () => deps.duo.syncUser(directory.key, username));
  } catch (e) {
    if ((e as { code?: string }).code === 'DUO_NOT_FOUND')
      throw fail('NOT_FOUND', 'sync.not_in_directory', { username, directory: directory.name });
    throw e;
  }
  const [user] = await deps.duo.getUsersByUsername(username).catch(() => [] as User[]);
  if (!user) return { username, directory, card: null };
  await refreshDirectoryUser(em, user, deps.clock.now());
  const codes = await deps.duo.getUserBypassCodes(user.user_id).catch(() => []);
  return {
    username,
    directory,
    card: {
      user,
      activeBypassCodes: countActiveCodes(codes, deps.clock.now()),
      lastVerification: await latestVerification(em, actor.teamId, user.user_id),
      directorySynced: isDirectorySynced(user),
      actions: cardFlows(actor, user, settings),
    },
  };
}
