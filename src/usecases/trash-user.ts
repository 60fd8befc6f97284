import { isDirectorySynced } from '../domain/duo-user.js';
import { fail } from '../errors.js';
import { authorizeOrThrow, ensureAllowed } from './access.js';
import { type Submitted, submitRequest } from './approval-engine.js';
import type { ApprovalNotices } from './approval-model.js';
import { userTrashKind } from './approval-user-trash.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { passGuards } from './guards.js';
import { cleanFreeText } from './kit.js';
import { findDuoUser } from './lookup.js';

/**
 * Asking to send one user to the Trash: a guarded change (GUARD_RULES.user_trash) on the approval engine.
 * Refused for a sync-managed user (Duo: only a sync trashes them) and for a user already there.
 */
declare module '../errors.js' {
  interface Problems {
    'trash.already': { username: string };
  }
}

export async function requestTrash(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: ApprovalNotices,
  input: { ref: string; reason: string | null; requestChannel?: string | null },
): Promise<Submitted> {
  // Who may, before Duo is asked anything; the exact check follows on Duo's state of the user.
  await ensureAllowed(deps, em, caller, 'user.trash');
  const reason = cleanFreeText(input.reason, { field: 'reason', purpose: 'change_reason', max: 500, required: true })!;
  const user = await findDuoUser(deps, input.ref);
  const target = { duoUserId: user.user_id, username: user.username };
  const passed = await passGuards(deps, em, caller, {
    action: 'user_trash',
    authorize: { action: 'user.trash', target: { kind: 'account', directorySynced: isDirectorySynced(user) } },
    duoUser: target,
    totp: null,
    fields: { verification: 'reason', totp: 'reason' },
  });
  await authorizeOrThrow(
    deps,
    em,
    caller,
    passed.actor,
    'user.trash',
    { kind: 'account', directorySynced: isDirectorySynced(user) },
    { settings: passed.settings, targetUser: target },
  );
  if (user.status === 'pending deletion') throw fail('INVALID_STATE', 'trash.already', { username: user.username });
  return submitRequest(deps, em, caller, passed.actor, notices, {
    kind: userTrashKind,
    params: {},
    policy: passed.guards.approval,
    target,
    reason,
    ticket: null,
    requestChannel: input.requestChannel ?? null,
    verificationId: null,
    delayHours: passed.guards.delayHours,
  });
}
