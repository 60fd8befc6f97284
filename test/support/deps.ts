import { randomBytes } from 'node:crypto';
import { AuditTrail } from '../../src/audit/trail.js';
import { ManualClock } from '../../src/clock.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { Database } from '../../src/db/database.js';
import { Responder } from '../../src/db/entities.js';
import type { Role } from '../../src/domain/roles.js';
import type { DuoAdmin } from '../../src/duo/types.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { createMemoryLogger } from '../../src/log.js';
import { SecretBox } from '../../src/secret-box.js';
import { BUILT_IN_KINDS } from '../../src/usecases/approval-kinds.js';
import { ApprovalKinds } from '../../src/usecases/approval-registry.js';
import { type Caller, DEFAULT_TUNING, type Deps, type PeopleDirectory } from '../../src/usecases/deps.js';
import { testKeyring } from './audit-key.js';

/**
 * The use cases' ports for tests that call them directly (no Slack): a real database, a manual clock,
 * an audit trail with the test audit key, and the Duo client the test gives (none by default: a
 * use case that reaches Duo without one fails loudly).
 */
export interface UseCaseKit {
  deps: Deps;
  clock: ManualClock;
  logger: ReturnType<typeof createMemoryLogger>;
  /** Grants a role directly in the database and returns a caller for that Slack user. */
  responder(userId: string, role: Role, opts?: { approver?: boolean }): Promise<Caller>;
}

const noDuo = new Proxy({} as DuoAdmin, {
  get: (_t, name) => () =>
    Promise.reject(new Error(`this test gave no Duo client, but the use case called ${String(name)}`)),
});

/** Slack's side of people, for use-case tests: the emails Slack would show (users.info), by Slack user id. */
export const peopleDirectory = (emails: Record<string, string> = {}): PeopleDirectory => ({
  emailOf: async (userId) => emails[userId] ?? null,
  memberByEmail: async (email) => {
    const hit = Object.entries(emails).find(([, e]) => e.toLowerCase() === email.toLowerCase());
    return hit ? { found: true, userId: hit[0] } : { found: false, why: 'no_account' };
  },
});

export function useCaseKit(
  db: Database,
  teamId: string,
  opts: { duo?: DuoAdmin; config?: Partial<Config>; emails?: Record<string, string> } = {},
): UseCaseKit {
  const clock = new ManualClock();
  const logger = createMemoryLogger('debug');
  const jobs = new JobQueue(db, clock, logger);
  const config = { ...loadConfig({ DUO_DESK_DATA_DIR: '/nonexistent' }), ...opts.config };
  const deps: Deps = {
    config,
    logger,
    clock,
    db,
    duo: opts.duo ?? noDuo,
    audit: new AuditTrail(clock, testKeyring()),
    jobs,
    secretBox: new SecretBox(randomBytes(32)),
    people: peopleDirectory(opts.emails),
    tuning: DEFAULT_TUNING,
    approvals: new ApprovalKinds(BUILT_IN_KINDS),
  };
  let seq = 0;
  return {
    deps,
    clock,
    logger,
    async responder(userId, role, o = {}) {
      const em = db.em.fork();
      em.create(Responder, { teamId, userId, role, approver: o.approver ?? false, grantedBy: 'test' });
      await em.flush();
      return { teamId, userId, correlationId: `c${++seq}` };
    },
  };
}
