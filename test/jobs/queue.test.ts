import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Clock, ManualClock, systemClock } from '../../src/clock.js';
import type { Database } from '../../src/db/database.js';
import { type JobContext, JobQueue, type JobQueueOptions, LeaseLostError } from '../../src/jobs/queue.js';
import { createMemoryLogger } from '../../src/log.js';
import { attachDatabase, freshDatabase } from '../support/db.js';

/**
 * The job runner's promises: nothing waits behind a long job, a job runs on one instance at a time, a
 * dead instance's job is taken over after its lease, and a run that lost its lease changes nothing.
 * No timing is asserted: waits are for conditions, and a condition that never holds fails the test
 * with what it waited for.
 */
let db: Database & { drop(): Promise<void> };
let second: Database;
const logger = createMemoryLogger('debug');
const queues: JobQueue[] = [];

beforeAll(async () => {
  db = await freshDatabase();
  second = await attachDatabase(db);
});
afterEach(async () => {
  for (const q of queues.splice(0)) await q.stop(1_000);
  await db.em.getConnection().execute('delete from job');
});
afterAll(async () => {
  await second?.close();
  await db?.drop();
});

function queue(clock: Clock, opts: JobQueueOptions = {}, on: Database = db): JobQueue {
  const q = new JobQueue(on, clock, logger, { pollIntervalMs: 20, ...opts });
  queues.push(q);
  return q;
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Waits for `p`; if it never settles, fails naming what did not happen (instead of a bare test timeout). */
async function within<T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const never = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`never happened: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, never]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  await within(
    (async () => {
      while (!(await check())) await new Promise((r) => setTimeout(r, 10));
    })(),
    what,
  );
}

interface JobRow {
  id: string;
  kind: string;
  status: string;
  attempts: number;
  lease_owner: string | null;
  locked_until: Date | null;
  payload: Record<string, unknown>;
}

const jobs = (kind: string) =>
  db.em.getConnection().execute<JobRow[]>('select * from job where kind = ? order by id', [kind]);
const job = async (kind: string) => (await jobs(kind))[0]!;

describe('job lanes', () => {
  it('when a long background job is running, then a due interactive job is claimed and finished meanwhile', async () => {
    const q = queue(systemClock);
    const gate = deferred();
    const longStarted = deferred();
    const shortRan = deferred();
    q.register('test.long', async () => {
      longStarted.resolve();
      await gate.promise;
      return undefined;
    });
    q.register(
      'test.short',
      async () => {
        shortRan.resolve();
        return undefined;
      },
      { lane: 'interactive' },
    );
    await q.enqueue(db.em.fork(), { kind: 'test.long' });
    q.start();
    await within(longStarted.promise, 'the long job to start');

    await q.enqueue(db.em.fork(), { kind: 'test.short' });
    await within(shortRan.promise, 'the short job to run while the long one is still running');
    await until(async () => (await job('test.short')).status === 'done', 'the short job to be done');
    expect((await job('test.long')).status).toBe('running');

    gate.resolve();
    await until(async () => (await job('test.long')).status === 'done', 'the long job to be done');
  });

  it('when a long job holds a slot, then a job of its own lane that becomes due is claimed at once (no batch-and-wait)', async () => {
    const q = queue(systemClock);
    const gate = deferred();
    const longStarted = deferred();
    const laterRan = deferred();
    q.register(
      'test.long-interactive',
      async () => {
        longStarted.resolve();
        await gate.promise;
        return undefined;
      },
      { lane: 'interactive' },
    );
    q.register(
      'test.later',
      async () => {
        laterRan.resolve();
        return undefined;
      },
      { lane: 'interactive' },
    );
    await q.enqueue(db.em.fork(), { kind: 'test.long-interactive' });
    q.start();
    await within(longStarted.promise, 'the long job to start');
    await q.enqueue(db.em.fork(), { kind: 'test.later' });
    await within(laterRan.promise, 'the later job to run while the first one is still running');
    expect((await job('test.long-interactive')).status).toBe('running');
    gate.resolve();
  });

  it('when slow jobs fill every background slot, then they cannot take the interactive slots', async () => {
    const q = queue(systemClock, { slots: { background: 2, interactive: 2 } });
    const gate = deferred();
    let slowStarted = 0;
    const interactiveRan = deferred();
    q.register('test.slow', async () => {
      slowStarted++;
      await gate.promise;
      return undefined;
    });
    q.register(
      'test.urgent',
      async () => {
        interactiveRan.resolve();
        return undefined;
      },
      { lane: 'interactive' },
    );
    for (let i = 0; i < 5; i++) await q.enqueue(db.em.fork(), { kind: 'test.slow' });
    q.start();
    await until(async () => slowStarted === 2, 'two slow jobs to fill the background lane');
    await q.enqueue(db.em.fork(), { kind: 'test.urgent' });
    await within(interactiveRan.promise, 'the interactive job to run beside a full background lane');
    const slow = await jobs('test.slow');
    expect(slow.filter((j) => j.status === 'running')).toHaveLength(2);
    expect(slow.filter((j) => j.status === 'queued')).toHaveLength(3);
    gate.resolve();
    await until(
      async () => (await jobs('test.slow')).every((j) => j.status === 'done'),
      'the slow jobs to run two at a time until all are done',
    );
    expect(slowStarted).toBe(5);
  });
});

describe('job leases', () => {
  it('when two instances claim the same due jobs, then each job runs exactly once', async () => {
    const runs: Array<{ id: number; by: string }> = [];
    const make = (name: string, on: Database) => {
      const q = queue(systemClock, { instanceId: name }, on);
      q.register(
        'test.count',
        async (_p, ctx) => {
          runs.push({ id: ctx.jobId, by: name });
          await new Promise((r) => setTimeout(r, 2));
          return undefined;
        },
        { lane: 'interactive' },
      );
      return q;
    };
    const a = make('a', db);
    const b = make('b', second);
    for (let i = 0; i < 60; i++) await a.enqueue(db.em.fork(), { kind: 'test.count' });
    a.start();
    b.start();
    await until(async () => (await jobs('test.count')).every((j) => j.status === 'done'), 'all 60 jobs to be done');
    expect(runs).toHaveLength(60);
    expect(new Set(runs.map((r) => r.id)).size).toBe(60);
    expect((await jobs('test.count')).every((j) => j.attempts === 1)).toBe(true);
  });

  it('when the instance running a job dies, then another takes it over after the lease, and the dead run cannot finish it', async () => {
    const clock = new ManualClock();
    const gate = deferred();
    const started = deferred();
    const dead = queue(clock, { leaseMs: 30_000, instanceId: 'dead' });
    const alive = queue(clock, { leaseMs: 30_000, instanceId: 'alive' }, second);
    // The "dead" instance is never started: no heartbeat, as after a crash; its run hangs until released.
    dead.register('test.takeover', async () => {
      started.resolve();
      await gate.promise;
      return { runAgainAt: new Date(clock.now().getTime() + 60_000) };
    });
    let aliveRuns = 0;
    alive.register('test.takeover', async () => {
      aliveRuns++;
      return undefined;
    });
    await dead.enqueue(db.em.fork(), { kind: 'test.takeover' });
    const deadRun = dead.runDue();
    await within(started.promise, 'the first instance to claim the job');
    expect((await job('test.takeover')).lease_owner).toMatch(/^dead:/);

    clock.advance(29_000);
    expect(await alive.runDue()).toBe(0); // the lease still holds
    clock.advance(1_001);
    expect(await alive.runDue()).toBe(1); // taken over once it ran out
    expect(aliveRuns).toBe(1);
    expect(await job('test.takeover')).toMatchObject({ status: 'done', attempts: 2, lease_owner: null });

    gate.resolve();
    await deadRun;
    // The dead run's "run again in a minute" would have queued it again: it was dropped.
    expect(await job('test.takeover')).toMatchObject({ status: 'done', attempts: 2 });
    expect(logger.lines.join('\n')).toContain('finished after another instance took it over');
  });

  it('when a job runs longer than its lease, then the heartbeat keeps it and no other instance takes it', async () => {
    const clock = new ManualClock();
    const start = clock.now().getTime();
    const gate = deferred();
    const a = queue(clock, { leaseMs: 30_000, heartbeatMs: 10, instanceId: 'a' });
    const b = queue(clock, { leaseMs: 30_000, instanceId: 'b' }, second);
    a.register('test.sync', async () => {
      await gate.promise;
      return undefined;
    });
    b.register('test.sync', async () => undefined);
    await a.enqueue(db.em.fork(), { kind: 'test.sync' });
    a.start();
    await until(async () => (await job('test.sync')).status === 'running', 'the job to be claimed');

    clock.advance(25_000);
    await until(
      async () => new Date((await job('test.sync')).locked_until!).getTime() === start + 55_000,
      'the heartbeat to push the lease forward',
    );
    clock.advance(10_000); // past the first lease, inside the extended one
    expect(await b.runDue()).toBe(0);
    expect((await job('test.sync')).lease_owner).toMatch(/^a:/);
    gate.resolve();
    await until(async () => (await job('test.sync')).status === 'done', 'the job to finish on its instance');
  });

  it('when another instance has taken a job over, then the old run’s extendLease() throws and its signal is aborted', async () => {
    const clock = new ManualClock();
    const gate = deferred();
    const started = deferred();
    const stalled = queue(clock, { leaseMs: 30_000, instanceId: 'stalled' });
    const other = queue(clock, { leaseMs: 30_000, instanceId: 'other' }, second);
    let seen: { error: unknown; aborted: boolean } | undefined;
    stalled.register('test.extend', async (_p, ctx: JobContext) => {
      await ctx.extendLease(); // still ours: no error
      started.resolve();
      await gate.promise;
      try {
        await ctx.extendLease();
      } catch (e) {
        seen = { error: e, aborted: ctx.signal.aborted };
        throw e;
      }
      return undefined;
    });
    const gateOther = deferred();
    other.register('test.extend', async () => {
      await gateOther.promise;
      return undefined;
    });
    await stalled.enqueue(db.em.fork(), { kind: 'test.extend' });
    const run = stalled.runDue();
    await within(started.promise, 'the first run to start');
    clock.advance(30_001);
    const takeover = other.runDue();
    await until(async () => (await job('test.extend')).lease_owner?.startsWith('other:') ?? false, 'the takeover');
    gate.resolve();
    await run;
    expect(seen?.error).toBeInstanceOf(LeaseLostError);
    expect(seen?.aborted).toBe(true);
    gateOther.resolve();
    await takeover;
    expect(await job('test.extend')).toMatchObject({ status: 'done', attempts: 2 });
  });

  it('when a job’s lease ran out on every attempt, then it fails for good instead of running again', async () => {
    const clock = new ManualClock();
    const started = deferred();
    const gate = deferred();
    const first = queue(clock, { leaseMs: 1_000, instanceId: 'first' });
    const next = queue(clock, { leaseMs: 1_000, instanceId: 'next' }, second);
    first.register('test.poison', async () => {
      started.resolve();
      await gate.promise;
      return undefined;
    });
    let ranOnNext = 0;
    next.register('test.poison', async () => {
      ranOnNext++;
      return undefined;
    });
    await first.enqueue(db.em.fork(), { kind: 'test.poison', maxAttempts: 1 });
    const run = first.runDue();
    await within(started.promise, 'the first run');
    clock.advance(1_001);
    expect(await next.runDue()).toBe(1);
    expect(ranOnNext).toBe(0);
    expect(await job('test.poison')).toMatchObject({ status: 'failed', attempts: 2 });
    gate.resolve();
    await run;
    expect((await job('test.poison')).status).toBe('failed');
  });
});

describe('stopping the job runner', () => {
  it('when stopped, then it tells running jobs to stop and waits for them to finish', async () => {
    const q = queue(systemClock);
    const started = deferred();
    q.register('test.polite', async (_p, ctx) => {
      started.resolve();
      await new Promise((r) => ctx.signal.addEventListener('abort', r, { once: true }));
      return { runAgainAt: new Date() };
    });
    await q.enqueue(db.em.fork(), { kind: 'test.polite' });
    q.start();
    await within(started.promise, 'the job to start');
    await q.stop();
    // Its own result was recorded: it finished within the bound, nothing was released.
    expect(await job('test.polite')).toMatchObject({ status: 'queued', attempts: 0, lease_owner: null });
    expect(logger.lines.join('\n')).not.toContain('leases are released');
  });

  it('when a job ignores the stop past the bound, then its lease is released for another instance and its late result is dropped', async () => {
    const clock = new ManualClock();
    const gate = deferred();
    const started = deferred();
    const stopping = queue(clock, { leaseMs: 30_000, instanceId: 'stopping' });
    const other = queue(clock, { leaseMs: 30_000, instanceId: 'other' }, second);
    stopping.register('test.stubborn', async () => {
      started.resolve();
      await gate.promise;
      return { runAgainAt: new Date(clock.now().getTime() + 60_000) };
    });
    let otherRuns = 0;
    other.register('test.stubborn', async () => {
      otherRuns++;
      return undefined;
    });
    await stopping.enqueue(db.em.fork(), { kind: 'test.stubborn' });
    stopping.start();
    await within(started.promise, 'the job to start');
    await stopping.stop(50);
    expect(await job('test.stubborn')).toMatchObject({ status: 'queued', attempts: 0, lease_owner: null });
    expect(await other.runDue()).toBe(1); // at once: no lease to wait out
    expect(otherRuns).toBe(1);
    gate.resolve();
    await until(
      async () => logger.lines.some((l) => l.includes('ended after stop() released its lease')),
      'the stubborn run to end',
    );
    expect(await job('test.stubborn')).toMatchObject({ status: 'done', attempts: 1 });
  });
});
