import { randomBytes } from 'node:crypto';
import { type DuoSimulator, startDuoSimulator } from '@duo-desk/duo-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditTrail } from '../../src/audit/trail.js';
import { ManualClock } from '../../src/clock.js';
import type { Database } from '../../src/db/database.js';
import { Responder } from '../../src/db/entities.js';
import { pushCapablePhones } from '../../src/domain/duo-user.js';
import { DuoAdminClient } from '../../src/duo/client.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { createMemoryLogger } from '../../src/log.js';
import { SecretBox } from '../../src/secret-box.js';
import { createVerificationFollower } from '../../src/slack/verification-follower.js';
import { BUILT_IN_KINDS } from '../../src/usecases/approval-kinds.js';
import { ApprovalKinds } from '../../src/usecases/approval-registry.js';
import { type Caller, DEFAULT_TUNING, type Deps } from '../../src/usecases/deps.js';
import { sendVerificationPush, VERIFY_FOLLOW_JOB } from '../../src/usecases/verify.js';
import { testKeyring } from '../support/audit-key.js';
import { freshDatabase } from '../support/db.js';
import { peopleDirectory } from '../support/deps.js';

/**
 * The follower's pace against the Duo simulator over HTTP: every second for the first 30 s, then every
 * 2 s, and a 429 makes that push's job wait longer (doubling) instead of sleeping inside the job.
 * The clock is moved by hand; the queue runs the real handler.
 */
const TEAM = 'T0POLL';
let db: Database & { drop(): Promise<void> };
let sim: DuoSimulator;
let deps: Deps;
let clock: ManualClock;
const sleeps: number[] = [];

beforeAll(async () => {
  db = await freshDatabase();
  clock = new ManualClock();
  sim = await startDuoSimulator({ directory: 'demo', clock });
  const logger = createMemoryLogger('debug');
  const jobs = new JobQueue(db, clock, logger);
  deps = {
    config: {} as never,
    logger,
    clock,
    db,
    // A client that would wait out 429s (as production does for other calls): the poll must not.
    duo: new DuoAdminClient({
      ikey: sim.ikey,
      skey: sim.skey,
      host: sim.url,
      maxRateLimitRetries: 6,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    }),
    audit: new AuditTrail(clock, testKeyring()),
    jobs,
    secretBox: new SecretBox(randomBytes(32)),
    people: peopleDirectory({}),
    tuning: DEFAULT_TUNING,
    approvals: new ApprovalKinds(BUILT_IN_KINDS),
  };
  jobs.register(VERIFY_FOLLOW_JOB, createVerificationFollower({ deps, notifier: {} as never }), {
    lane: 'interactive',
  });
  const em = db.em.fork();
  em.create(Responder, { teamId: TEAM, userId: 'U0AGENT', role: 'help_desk', approver: false, grantedBy: 'test' });
  await em.flush();
});
afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

const followJob = async () => {
  const [row] = await db.em
    .getConnection()
    .execute<Array<{ status: string; run_at: Date; payload: { rateLimited?: number } }>>(
      'select status, run_at, payload from job where kind = ? order by id desc limit 1',
      [VERIFY_FOLLOW_JOB],
    );
  return { status: row!.status, inMs: new Date(row!.run_at).getTime() - clock.now().getTime(), payload: row!.payload };
};

describe('following a verification push', () => {
  it('when the push waits, then it is polled every second for 30 s, then every 2 s, and a 429 delays that job’s next poll instead of sleeping in its slot', async () => {
    const user = (await deps.duo.getUsersByUsername('alice'))[0]!;
    const phone = pushCapablePhones(user)[0]!;
    const caller: Caller = { teamId: TEAM, userId: 'U0AGENT', correlationId: 'c-poll' };
    await sendVerificationPush(deps, db.em.fork(), caller, user.user_id, phone.phone_id);
    const pushId = sim.pendingPushes().find((p) => p.userId === user.user_id)!.pushId;
    expect(await followJob()).toMatchObject({ status: 'queued', inMs: 1_000 });

    const poll = async (afterMs: number) => {
      clock.advance(afterMs);
      expect(await deps.jobs.runDue()).toBe(1);
      return followJob();
    };
    expect(await poll(1_000)).toMatchObject({ status: 'queued', inMs: 1_000 });

    sim.injectFault({ kind: 'rate_limit', path: /verification_push_response$/, method: 'GET', times: 2 });
    expect(await poll(1_000)).toMatchObject({ inMs: 4_000, payload: { rateLimited: 1 } });
    expect(await poll(4_000)).toMatchObject({ inMs: 8_000, payload: { rateLimited: 2 } });
    expect(sleeps).toEqual([]); // the 429s were not waited out inside the job
    expect(await poll(8_000)).toMatchObject({ inMs: 1_000, payload: { rateLimited: 0 } });

    clock.advance(16_000); // 31 s since the push was sent
    expect(await poll(0)).toMatchObject({ inMs: 2_000 });
    const polls = sim.requests().filter((r) => r.path.endsWith('verification_push_response'));
    expect(polls.map((r) => r.status)).toEqual([200, 429, 429, 200, 200]);

    sim.answerPush(pushId, 'approve');
    expect(await poll(2_000)).toMatchObject({ status: 'done' });
  });
});
