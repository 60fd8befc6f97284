import type { Clock } from '../clock.js';
import type { Database } from '../db/database.js';
import type { DuoAdmin } from '../duo/types.js';
import type { Logger } from '../log.js';
import type { Readiness } from '../slack/app.js';

/** How long one Duo answer stands for /readyz: a probe every few seconds, or a flood, costs Duo one call. */
export const DUO_CHECK_CACHE_MS = 30_000;

/**
 * The /readyz check. It is unauthenticated, so it tells only "ok" or "failed" (what failed is logged, not
 * answered), and the Duo check, a signed call to the tenant, runs at most once per 30 seconds however many
 * requests arrive (concurrent ones share the call in flight). The database check is a local `select 1`.
 */
export function readinessCheck(deps: { db: Database; duo: DuoAdmin; clock: Clock; logger: Logger }) {
  let duo: { at: number; result: Promise<boolean> } | undefined;
  const duoOk = (): Promise<boolean> => {
    const now = deps.clock.now().getTime();
    if (!duo || now - duo.at >= DUO_CHECK_CACHE_MS)
      duo = {
        at: now,
        result: deps.duo.getInfoSummary().then(
          () => true,
          (e: unknown) => {
            deps.logger.warn('readiness: Duo check failed', { code: (e as { code?: string }).code ?? 'unreachable' });
            return false;
          },
        ),
      };
    return duo.result;
  };
  const dbOk = () =>
    deps.db.em
      .fork()
      .getConnection()
      .execute('select 1')
      .then(
        () => true,
        (e: unknown) => {
          deps.logger.warn('readiness: database check failed', { err: e });
          return false;
        },
      );
  return async (): Promise<Readiness> => {
    const [db, duoUp] = await Promise.all([dbOk(), duoOk()]);
    return { ok: db && duoUp, body: { db: db ? 'ok' : 'failed', duo: duoUp ? 'ok' : 'failed' } };
  };
}
