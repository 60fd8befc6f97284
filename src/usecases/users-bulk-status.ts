import { z } from 'zod';
import { fail } from '../errors.js';
import { authorizeOrThrow, requireActor } from './access.js';
import { BULK_STATUS_MAX, BULK_STATUSES, type BulkStatusParams, bulkStatusKind } from './approval-bulk-status.js';
import type { Submitted } from './approval-engine.js';
import type { ApprovalNotices } from './approval-model.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { submitGuarded } from './guards.js';

declare module '../errors.js' {
  interface Problems {
    /** The bulk status form: no users picked, too many, or a status that is not offered. */
    'users.bulk_bad_input': { issue: 'none' | 'too_many' | 'status'; max: number };
    /** Every picked user was left out (sync-managed for Disabled, or unknown). */
    'users.bulk_nothing_left': { excluded: number };
  }
}

const Input = z.object({
  duoUserIds: z.array(z.string().min(1).max(255)),
  toStatus: z.string(),
});

/**
 * Asks for a status change of the users picked on a page of the overview: guarded (step-up, then a second
 * person approves; src/domain/guards.ts bulk_status), then executed user by user (approval-bulk-status.ts).
 * The picked ids are what the form sent: they are looked up in the index here, and the users Duo's rules keep out
 * (sync-managed users for Disabled) are left out and named on the card, whatever the form said.
 */
export async function requestBulkStatus(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: ApprovalNotices,
  input: {
    duoUserIds: string[];
    toStatus: string;
    reason: string | null;
    totp: string | null;
    requestChannel?: string | null;
  },
): Promise<Submitted> {
  const parsed = Input.parse({ duoUserIds: input.duoUserIds, toStatus: input.toStatus });
  const ids = [...new Set(parsed.duoUserIds)];
  const max = BULK_STATUS_MAX;
  if (!ids.length) throw fail('INVALID_INPUT', 'users.bulk_bad_input', { issue: 'none', max }, { field: 'bulk_users' });
  if (ids.length > max)
    throw fail('INVALID_INPUT', 'users.bulk_bad_input', { issue: 'too_many', max }, { field: 'bulk_users' });
  const to = z.enum(BULK_STATUSES).safeParse(parsed.toStatus);
  if (!to.success) throw fail('INVALID_INPUT', 'users.bulk_bad_input', { issue: 'status', max }, { field: 'status' });

  // The role first (a refusal names the rule), before anything is read about the picked users.
  const target = { kind: 'status', toStatus: to.data, directorySynced: false } as const;
  const actor = await requireActor(deps, em, caller);
  await authorizeOrThrow(deps, em, caller, actor, 'user.set_status', target, { attempted: 'bulk_status.request' });

  const rows = (await em
    .getConnection()
    .execute(
      `select duo_user_id, username, directory_synced from directory_entry where duo_user_id in (${ids.map(() => '?').join(', ')})`,
      ids,
      'all',
      em.getTransactionContext(),
    )) as Array<{ duo_user_id: string; username: string; directory_synced: boolean | null }>;
  const byId = new Map(rows.map((r) => [r.duo_user_id, r]));
  const users: BulkStatusParams['users'] = [];
  const excluded: BulkStatusParams['excluded'] = [];
  for (const id of ids) {
    const r = byId.get(id);
    if (!r) excluded.push({ username: id.slice(0, 255), why: 'unknown' });
    else if (to.data === 'disabled' && r.directory_synced !== false)
      // Unknown counts as managed: only a user the index knows is not synced may be disabled in bulk.
      excluded.push({ username: r.username, why: 'directory_synced' });
    else users.push({ id: r.duo_user_id, username: r.username });
  }
  if (!users.length) throw fail('INVALID_INPUT', 'users.bulk_nothing_left', { excluded: excluded.length });

  return submitGuarded(deps, em, caller, notices, {
    action: 'bulk_status',
    authorize: {
      action: 'user.set_status',
      target,
      attempted: 'bulk_status.request',
    },
    totp: input.totp,
    reason: input.reason,
    kind: bulkStatusKind,
    params: { toStatus: to.data, users, excluded } satisfies BulkStatusParams,
    requestChannel: input.requestChannel ?? null,
  });
}
