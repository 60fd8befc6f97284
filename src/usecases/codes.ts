import { authorize } from '../domain/authorize.js';
import type { BypassCodeMeta, User } from '../duo/types.js';
import { fail, isAppError } from '../errors.js';
import { authorizeOrThrow, requireActor } from './access.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { auditedDuoCall } from './kit.js';
import { findDuoUser } from './lookup.js';

/**
 * `/duo codes <user>`: a user's bypass codes as Duo reports them (Duo never shows the codes
 * themselves), and deleting one or all of them. A code id that comes back from a button is checked
 * against the user's current list before anything is deleted.
 */
export interface CodesModel {
  user: User;
  codes: BypassCodeMeta[];
  canDelete: boolean;
  /** Set after a deletion, for the message. */
  deleted?: number;
}

declare module '../errors.js' {
  interface Problems {
    'codes.code_gone': { username: string };
    'codes.bulk_delete_stopped': { username: string; deleted: number; total: number; duoCode: string };
  }
}

const targetOf = (u: User) => ({ duoUserId: u.user_id, username: u.username });
const byCreation = (a: BypassCodeMeta, b: BypassCodeMeta) => (a.created ?? 0) - (b.created ?? 0);

async function model(deps: Deps, user: User, canDelete: boolean, deleted?: number): Promise<CodesModel> {
  const codes = (await deps.duo.getUserBypassCodes(user.user_id)).sort(byCreation);
  return { user, codes, canDelete, ...(deleted === undefined ? {} : { deleted }) };
}

export async function listBypassCodes(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  query: string,
): Promise<CodesModel> {
  const actor = await requireActor(deps, em, caller);
  const settings = await authorizeOrThrow(deps, em, caller, actor, 'bypass_codes.list', { kind: 'none' });
  const user = await findDuoUser(deps, query);
  const m = await model(deps, user, authorize(actor, 'bypass_codes.delete', { kind: 'none' }, settings).allowed);
  await deps.audit.record(em, {
    teamId: actor.teamId,
    actor: { userId: actor.userId, role: actor.role },
    action: 'bypass_codes.listed',
    outcome: 'success',
    target: targetOf(user),
    correlationId: caller.correlationId,
    params: { count: m.codes.length },
  });
  return m;
}

/**
 * Deletes one code (`which` = its bypass_code_id) or all of them (`which` = 'all'), each Duo call
 * between an intent and an outcome audit row. Stops at the first failure; nothing is retried.
 */
export async function deleteBypassCodes(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  duoUserId: string,
  which: string,
): Promise<CodesModel> {
  const actor = await requireActor(deps, em, caller);
  await authorizeOrThrow(deps, em, caller, actor, 'bypass_codes.delete', { kind: 'none' });
  const user = await findDuoUser(deps, duoUserId);
  const current = await deps.duo.getUserBypassCodes(user.user_id);
  const ids = which === 'all' ? current.map((c) => c.bypass_code_id) : [which];
  if (which !== 'all' && !current.some((c) => c.bypass_code_id === which)) {
    await deps.audit.record(em, {
      teamId: actor.teamId,
      actor: { userId: actor.userId, role: actor.role },
      action: 'bypass_code.deleted',
      outcome: 'denied',
      target: targetOf(user),
      correlationId: caller.correlationId,
      params: { why: "not among the user's current codes", bypassCodeId: which.slice(0, 40) },
    });
    throw fail('NOT_FOUND', 'codes.code_gone', { username: user.username });
  }
  let deleted = 0;
  for (const id of ids) {
    const intent = await deps.audit.intent(em, {
      teamId: actor.teamId,
      actor: { userId: actor.userId, role: actor.role },
      action: 'bypass_code.deleted',
      target: targetOf(user),
      correlationId: caller.correlationId,
      params: { bypassCodeId: id, all: which === 'all' },
    });
    try {
      await auditedDuoCall(deps, em, intent, () => deps.duo.deleteBypassCode(id));
    } catch (e) {
      if (deleted === 0) throw e;
      const code = isAppError(e) ? e.code : 'DUO_UNAVAILABLE';
      throw fail(
        code,
        'codes.bulk_delete_stopped',
        { username: user.username, deleted, total: ids.length, duoCode: code },
        { cause: e },
      );
    }
    deleted++;
  }
  return model(deps, user, true, deleted);
}
