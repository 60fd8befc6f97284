import { isDirectorySynced } from '../domain/duo-user.js';
import { cardFlows } from '../domain/flows.js';
import { fail } from '../errors.js';
import { authorizeOrThrow, requireActor } from './access.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { refreshDirectoryUser } from './directory-index.js';
import { auditedDuoCall } from './kit.js';
import { countActiveCodes, findDuoUser, type UserCardModel } from './lookup.js';
import { latestVerification } from './verification-policy.js';

/**
 * Restoring a user from the Trash (Duo: POST /admin/v1/users/bulk_restore). Not for a user a directory
 * sync manages (only a sync restores them). The restored user stays Disabled: the card that follows
 * offers setting them Active (the re-enable, with its own guards).
 */
declare module '../errors.js' {
  interface Problems {
    'restore.not_in_trash': { username: string; status: string };
  }
}

export async function restoreUser(deps: Deps, em: EntityManager, caller: Caller, ref: string): Promise<UserCardModel> {
  const actor = await requireActor(deps, em, caller);
  const settings = await authorizeOrThrow(deps, em, caller, actor, 'user.restore', { kind: 'none' });
  const user = await findDuoUser(deps, ref);
  const target = { duoUserId: user.user_id, username: user.username };
  const directorySynced = isDirectorySynced(user);
  await authorizeOrThrow(
    deps,
    em,
    caller,
    actor,
    'user.restore',
    { kind: 'account', directorySynced },
    { settings, targetUser: target },
  );
  if (user.status !== 'pending deletion')
    throw fail('INVALID_STATE', 'restore.not_in_trash', { username: user.username, status: user.status });
  const intent = await deps.audit.intent(em, {
    teamId: actor.teamId,
    actor: { userId: actor.userId, role: actor.role },
    action: 'user.restored',
    target,
    correlationId: caller.correlationId,
    params: { from: user.status },
  });
  await auditedDuoCall(deps, em, intent, () => deps.duo.restoreUsers([user.user_id]));
  const fresh = await deps.duo.getUserById(user.user_id);
  await refreshDirectoryUser(em, fresh, deps.clock.now());
  const codes = await deps.duo.getUserBypassCodes(user.user_id).catch(() => []);
  return {
    user: fresh,
    activeBypassCodes: countActiveCodes(codes, deps.clock.now()),
    lastVerification: await latestVerification(em, actor.teamId, user.user_id),
    directorySynced: isDirectorySynced(fresh),
    actions: cardFlows(actor, fresh, settings),
  };
}
