import { fail } from '../errors.js';
import { ensureAllowed } from './access.js';
import { type Submitted, submitRequest } from './approval-engine.js';
import type { ApprovalNotices } from './approval-model.js';
import { userDeleteKind } from './approval-user-delete.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { passGuards } from './guards.js';
import { cleanFreeText } from './kit.js';
import { findDuoUser } from './lookup.js';

/**
 * Asking to delete users in the Trash permanently: guarded (user_delete; more than one at once,
 * user_delete_bulk: an owner approves). Only users in the Trash, as in Duo's Admin Panel.
 */
declare module '../errors.js' {
  interface Problems {
    'delete.not_in_trash': { username: string };
    'delete.too_many': NoFacts;
  }
}

export async function requestDeletion(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: ApprovalNotices,
  input: { refs: string[]; reason: string | null; requestChannel?: string | null },
): Promise<Submitted> {
  await ensureAllowed(deps, em, caller, 'user.delete');
  const reason = cleanFreeText(input.reason, { field: 'reason', purpose: 'change_reason', max: 500, required: true })!;
  if (input.refs.length > 100) throw fail('INVALID_INPUT', 'delete.too_many', {});
  const users = [];
  for (const ref of [...new Set(input.refs)]) {
    const u = await findDuoUser(deps, ref);
    if (u.status !== 'pending deletion') throw fail('INVALID_STATE', 'delete.not_in_trash', { username: u.username });
    users.push({ duoUserId: u.user_id, username: u.username });
  }
  const single = users.length === 1 ? users[0]! : null;
  const passed = await passGuards(deps, em, caller, {
    action: single ? 'user_delete' : 'user_delete_bulk',
    authorize: { action: 'user.delete', target: { kind: 'none' } },
    duoUser: single,
    totp: null,
    fields: { verification: 'reason', totp: 'reason' },
  });
  return submitRequest(deps, em, caller, passed.actor, notices, {
    kind: userDeleteKind,
    params: { users },
    policy: passed.guards.approval,
    target: single,
    reason,
    ticket: null,
    requestChannel: input.requestChannel ?? null,
    verificationId: null,
    delayHours: passed.guards.delayHours,
    audit: { users: users.length },
  });
}
