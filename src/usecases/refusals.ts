import type { JobHandler } from '../jobs/queue.js';
import { recordDenial } from './access.js';
import type { Caller, Deps, EntityManager } from './deps.js';

/**
 * Refusals at the door, and forms or buttons that were tampered with.
 *
 * People who are not responders (or come from another workspace) are refused before any use case
 * runs. Each refusal counts in a per-user, per-minute window: the first one of a minute is audited at
 * once, the rest of that minute become one summary row when the minute is over, so a flood of commands
 * from outside cannot flood the audit trail (or the audit channel) with one row per command.
 */
export const SUMMARIZE_REFUSALS_JOB = 'refusals.summarize';

const minuteOf = (d: Date) => new Date(Math.floor(d.getTime() / 60_000) * 60_000);

export async function recordOutsiderRefusal(deps: Deps, em: EntityManager, caller: Caller, why: string): Promise<void> {
  const minute = minuteOf(deps.clock.now());
  const [row] = await em.getConnection().execute<Array<{ count: number }>>(
    `insert into refusal_window (team_id, user_id, minute, why, count, summarized) values (?, ?, ?, ?, 1, false)
       on conflict (team_id, user_id, minute) do update set count = refusal_window.count + 1
       returning count`,
    [caller.teamId, caller.userId, minute, why.slice(0, 255)],
    'all',
  );
  if (Number(row?.count) === 1) await recordDenial(deps, em, caller, null, { why });
}

/** 'refusals.summarize': one row per user and past minute with more than one refusal; runs every minute. */
export function createRefusalSummarizer(deps: Deps): JobHandler {
  return async (_payload, { em }) => {
    const now = deps.clock.now();
    const windows = await em
      .getConnection()
      .execute<Array<{ team_id: string; user_id: string; minute: Date | string; why: string; count: number }>>(
        `update refusal_window set summarized = true
         where summarized = false and minute < ? and count > 1
         returning team_id, user_id, minute, why, count`,
        [minuteOf(now)],
        'all',
      );
    for (const w of windows)
      await deps.audit.record(em, {
        teamId: w.team_id,
        actor: { userId: w.user_id, role: null },
        action: 'permission.denied_repeated',
        outcome: 'denied',
        correlationId: null,
        params: { why: w.why, more: Number(w.count) - 1, minute: new Date(w.minute).toISOString() },
      });
    await em
      .getConnection()
      .execute(`delete from refusal_window where minute < ? and (summarized or count = 1)`, [
        new Date(now.getTime() - 3600_000),
      ]);
    return { runAgainAt: new Date(minuteOf(now).getTime() + 60_000 + 1_000) };
  };
}

/**
 * A form whose private_metadata or a button whose value does not parse: stale at best, tampered with
 * at worst. Audited either way (the attempt is in the trail, with where it came from).
 */
export function recordTampering(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  role: string | null,
  d: { surface: 'form' | 'button'; where: string },
) {
  return deps.audit.record(em, {
    teamId: caller.teamId,
    actor: { userId: caller.userId, role },
    action: 'request.tampered',
    outcome: 'denied',
    correlationId: caller.correlationId,
    params: { surface: d.surface, where: d.where.slice(0, 100) },
  });
}
