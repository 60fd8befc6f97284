import type { Clock } from '../clock.js';
import {
  ceilingFrom,
  DUO_CEILING_NAMES,
  type DuoCeiling,
  DuoSettingsSchema,
  duoValue,
} from '../domain/duo-settings.js';
import type { DuoAdmin } from '../duo/types.js';
import type { JobContext, JobHandler } from '../jobs/queue.js';
import type { Logger } from '../log.js';
import type { Deps, EntityManager } from './deps.js';

/**
 * Duo's own settings, read at start and hourly (GET /admin/v1/settings) and kept in the database, so every
 * instance applies the same ceiling and a failed read keeps the last one. Never read: null, and
 * authorize() then allows nothing Duo's settings could forbid.
 */
export const DUO_SETTINGS_JOB = 'duo.settings';
export const DUO_SETTINGS_INTERVAL_MS = 3600_000;
/** After a failed read, try again sooner than the hour. */
export const DUO_SETTINGS_RETRY_MS = 5 * 60_000;
const ROW = 'duo';

/** What /duo roles shows: Duo's values as last read, when, and the last failure to read them. */
export interface DuoCeilingState {
  ceiling: DuoCeiling | null;
  lastError: string | null;
  lastErrorAt: Date | null;
}

export async function readDuoCeilingState(em: EntityManager): Promise<DuoCeilingState> {
  const [row] = await em
    .getConnection()
    .execute<
      Array<{ settings: unknown; read_at: Date | string; last_error: string | null; last_error_at: Date | null }>
    >(
      'select settings, read_at, last_error, last_error_at from duo_tenant_settings where id = ?',
      [ROW],
      'all',
      em.getTransactionContext(),
    );
  if (!row) return { ceiling: null, lastError: null, lastErrorAt: null };
  const parsed = DuoSettingsSchema.safeParse(
    typeof row.settings === 'string' ? JSON.parse(row.settings) : row.settings,
  );
  return {
    ceiling: parsed.success ? ceilingFrom(parsed.data, new Date(row.read_at)) : null,
    lastError: row.last_error,
    lastErrorAt: row.last_error_at ? new Date(row.last_error_at) : null,
  };
}

export async function readDuoCeiling(em: EntityManager): Promise<DuoCeiling | null> {
  return (await readDuoCeilingState(em)).ceiling;
}

interface RefreshArgs {
  duo: DuoAdmin;
  clock: Clock;
  logger: Logger;
  /** Deps, for the audit event when Duo's values changed; and the installation it is recorded under. */
  audit?: { deps: Deps; teamId: string };
}

/** Reads Duo's settings now and stores them; a change of a ceiling value is an audit event. */
export async function refreshDuoSettings(em: EntityManager, args: RefreshArgs): Promise<DuoCeiling | null> {
  const now = args.clock.now();
  let raw: Record<string, unknown>;
  try {
    const read = await args.duo.getSettings();
    // Only the policy fields are kept (Duo's object also carries names and messages we have no use for).
    raw = Object.fromEntries(
      [...DUO_CEILING_NAMES, 'lockout_threshold', 'lockout_expire_duration'].map((k) => [
        k,
        (read as Record<string, unknown>)[k] ?? null,
      ]),
    );
  } catch (e) {
    const code = (e as { code?: string }).code ?? 'DUO_ERROR';
    args.logger.warn("could not read Duo's settings (the settings grant?); keeping the last ones", { code });
    await em
      .getConnection()
      .execute(
        'update duo_tenant_settings set last_error = ?, last_error_at = ? where id = ?',
        [String(code).slice(0, 255), now, ROW],
        'run',
        em.getTransactionContext(),
      );
    return null;
  }
  const before = await readDuoCeiling(em);
  await em.getConnection().execute(
    `insert into duo_tenant_settings (id, settings, read_at, last_error, last_error_at) values (?, ?, ?, null, null)
       on conflict (id) do update set settings = excluded.settings, read_at = excluded.read_at,
         last_error = null, last_error_at = null`,
    [ROW, JSON.stringify(raw), now],
    'run',
    em.getTransactionContext(),
  );
  const after = ceilingFrom(DuoSettingsSchema.parse(raw), now);
  const changed = DUO_CEILING_NAMES.filter((n) => !before || duoValue(before, n) !== duoValue(after, n));
  if (changed.length && args.audit)
    await args.audit.deps.audit.record(em, {
      teamId: args.audit.teamId,
      actor: { system: 'duo-desk' },
      action: 'duo_settings.changed',
      outcome: 'success',
      params: Object.fromEntries(
        changed.map((n) => [n, `${before ? duoValue(before, n) : 'unknown'} -> ${duoValue(after, n)}`]),
      ),
    });
  return after;
}

/** The job: read Duo's settings, then again in an hour (sooner after a failure). */
export function createDuoSettingsJob(deps: Deps, teamId: string, intervalMs = DUO_SETTINGS_INTERVAL_MS): JobHandler {
  return async (_payload: Record<string, unknown>, ctx: JobContext) => {
    const read = await refreshDuoSettings(ctx.em, {
      duo: deps.duo,
      clock: deps.clock,
      logger: ctx.logger,
      audit: { deps, teamId },
    });
    return { runAgainAt: new Date(deps.clock.now().getTime() + (read ? intervalMs : DUO_SETTINGS_RETRY_MS)) };
  };
}
