import type { User } from '../duo/types.js';
import type { EntityManager } from './deps.js';

/**
 * When a user in the Trash was marked, and when Duo deletes them. Duo's user object carries neither, so
 * the mark comes from duo-desk's own trail (the last `user.trashed` it made); the deletion follows Duo's
 * Trash duration, 7 days by default (configurable in Duo from 1 to 30 days; not in the Admin API's settings).
 */
export const DUO_TRASH_DAYS = 7;

export interface TrashFacts {
  /** null: marked outside duo-desk (Admin Panel, a sync, inactivity). */
  markedAt: Date | null;
  deletesAround: Date | null;
}

export async function trashFacts(em: EntityManager, teamId: string, user: User): Promise<TrashFacts | null> {
  if (user.status !== 'pending deletion') return null;
  const [row] = await em.getConnection().execute<Array<{ occurred_at: Date | string }>>(
    `select occurred_at from audit_event
      where team_id = ? and target_username = ? and target_duo_user_id = ? and action = 'user.trashed'
        and phase = 'outcome' and outcome = 'success'
      order by seq desc limit 1`,
    [teamId, user.username, user.user_id],
    'all',
    em.getTransactionContext(),
  );
  if (!row) return { markedAt: null, deletesAround: null };
  const markedAt = new Date(row.occurred_at);
  return { markedAt, deletesAround: new Date(markedAt.getTime() + DUO_TRASH_DAYS * 86_400_000) };
}
