import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../clock.js';
import type { Database, EntityManager } from '../db/database.js';
import type { Logger } from '../log.js';

/**
 * Durable work in Postgres: following a pending push, expiring approvals, relaying audit events,
 * reconciling unknown outcomes, refreshing the directory index.
 *
 * Nothing waits behind anything: each lane claims continuously (FOR UPDATE SKIP LOCKED, one statement)
 * up to its own number of slots, and a slot is refilled as soon as its job ends. Latency-sensitive
 * kinds register in the `interactive` lane, whose slots slow kinds (`background`: the relay, the
 * directory sync, the reconciler) can never fill. Jobs run outside any transaction.
 *
 * Leases: a claim writes `locked_until` and a token naming this instance and claim; a heartbeat pushes
 * the lease of every job still running here forward, so a long job keeps it, and a crashed instance's
 * jobs are claimed again once their lease has run out. Every later write of a run (heartbeat,
 * extension, finish) matches the token, so a run that lost its lease cannot overwrite the new holder.
 * The job table is written here only.
 */
export type Lane = 'interactive' | 'background';
export const LANES: readonly Lane[] = ['interactive', 'background'];

export interface JobContext {
  jobId: number;
  attempt: number;
  em: EntityManager;
  logger: Logger;
  /** Aborted when the runner stops or this run lost its lease: long handlers end early. */
  signal: AbortSignal;
  /**
   * Pushes this run's lease forward now and checks it is still ours (throws LeaseLostError otherwise).
   * The heartbeat already extends it while the process lives; a long handler calls this between steps
   * to stop as soon as another instance holds the job. Never call it inside a transaction (PGlite has
   * one session behind all connections: the transaction would wait on this statement forever).
   */
  extendLease(): Promise<void>;
}

/**
 * A handler finishes its job, or asks to run again later (polling, pacing, idle relays), optionally
 * with a new payload (state carried from one run to the next, such as a back-off count).
 */
export type JobResult = undefined | { runAgainAt: Date; payload?: Record<string, unknown> };
export type JobHandler = (payload: Record<string, unknown>, ctx: JobContext) => Promise<JobResult>;

export interface RegisterOptions {
  /** `interactive` for kinds someone is waiting on; default `background`. */
  lane?: Lane;
}

export interface EnqueueOptions {
  kind: string;
  payload?: Record<string, unknown>;
  runAt?: Date;
  /** At most one live (queued or running) job per key; a second enqueue is a no-op. */
  dedupeKey?: string;
  maxAttempts?: number;
}

export interface JobQueueOptions {
  /** How often each lane looks for due jobs it was not told about (other instances' enqueues). */
  pollIntervalMs?: number;
  /** How long a claim holds a job without a heartbeat: a crashed instance's jobs wait this long. */
  leaseMs?: number;
  /** How often running jobs' leases are pushed forward; default a third of the lease. */
  heartbeatMs?: number;
  /** Jobs running at once per lane and instance. */
  slots?: Partial<Record<Lane, number>>;
  /** How long stop() waits for running jobs before it releases their leases. */
  stopTimeoutMs?: number;
  /** Names this process in lease tokens (logs, the scale bench); default host, pid and a random suffix. */
  instanceId?: string;
  /** Told of every run (metrics): kind, outcome, how late it started, how long it took. */
  observe?: (run: JobRunObservation) => void;
}

export interface JobRunObservation {
  kind: string;
  outcome: 'done' | 'again' | 'retry' | 'failed' | 'dropped';
  lagMs: number;
  durationMs: number;
}

export const DEFAULT_SLOTS: Readonly<Record<Lane, number>> = { interactive: 8, background: 3 };
/** A crashed instance's jobs are taken over this long after its last heartbeat (every 10 s). */
export const DEFAULT_LEASE_MS = 30_000;

export class LeaseLostError extends Error {
  constructor(readonly jobId: number) {
    super(`job ${jobId}: another instance holds its lease now`);
    this.name = 'LeaseLostError';
  }
}

interface ClaimedJob {
  id: string | number;
  kind: string;
  payload: Record<string, unknown> | string;
  attempts: number;
  max_attempts: number;
  lease_owner: string;
  run_at: Date | string;
}

interface Run {
  id: number;
  owner: string;
  abort: AbortController;
  /** Set once the handler has returned (its final write is on the way) or its lease was released. */
  settled: boolean;
  /** stop() handed the job back while the handler was still running. */
  released: boolean;
  done: Promise<void>;
}

interface LaneState {
  name: Lane;
  slots: number;
  kinds: string[];
  active: Set<Run>;
  timer: NodeJS.Timeout | undefined;
  /** performance.now() at which the timer fires. */
  timerAt: number;
  claiming: Promise<void> | undefined;
  /** A slot freed or a wake came while a claim was in flight: claim again right after it. */
  again: boolean;
}

/** Claim a little after the due time, so a timer that fires on the millisecond finds the job due. */
const WAKE_MARGIN_MS = 2;

export class JobQueue {
  private readonly handlers = new Map<string, { handler: JobHandler; lane: Lane }>();
  private readonly lanes: Record<Lane, LaneState>;
  private readonly runs = new Set<Run>();
  private running = false;
  private stopping = new AbortController();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private claimSeq = 0;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly stopTimeoutMs: number;
  private readonly observe: ((run: JobRunObservation) => void) | undefined;
  readonly instanceId: string;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly logger: Logger,
    opts: JobQueueOptions = {},
  ) {
    this.pollIntervalMs = opts.pollIntervalMs ?? 500;
    this.leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    this.heartbeatMs = opts.heartbeatMs ?? Math.max(10, Math.floor(this.leaseMs / 3));
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 10_000;
    this.observe = opts.observe;
    this.instanceId = opts.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    const lane = (name: Lane): LaneState => ({
      name,
      slots: Math.max(1, opts.slots?.[name] ?? DEFAULT_SLOTS[name]),
      kinds: [],
      active: new Set(),
      timer: undefined,
      timerAt: Number.POSITIVE_INFINITY,
      claiming: undefined,
      again: false,
    });
    this.lanes = { interactive: lane('interactive'), background: lane('background') };
  }

  register(kind: string, handler: JobHandler, opts: RegisterOptions = {}): void {
    const previous = this.handlers.get(kind);
    if (previous) this.lanes[previous.lane].kinds = this.lanes[previous.lane].kinds.filter((k) => k !== kind);
    const lane = opts.lane ?? 'background';
    this.handlers.set(kind, { handler, lane });
    this.lanes[lane].kinds.push(kind);
  }

  /** Adds a job through `em`, so it commits (or not) with the caller's transaction. */
  async enqueue(em: EntityManager, opts: EnqueueOptions): Promise<void> {
    const now = this.clock.now();
    const runAt = opts.runAt ?? now;
    await em.getConnection().execute(
      `insert into job (kind, payload, dedupe_key, status, run_at, attempts, max_attempts, created_at, updated_at)
         values (?, ?, ?, 'queued', ?, 0, ?, ?, ?)
         on conflict (dedupe_key) where status in ('queued', 'running') do nothing`,
      [opts.kind, JSON.stringify(opts.payload ?? {}), opts.dedupeKey ?? null, runAt, opts.maxAttempts ?? 10, now, now],
      'run',
      em.getTransactionContext(),
    );
    // A job due later (a push to follow, an approval to expire) is claimed on time by this instance;
    // one due now waits for the lane's poll, as the caller's transaction has not committed yet.
    const local = this.handlers.get(opts.kind);
    if (local && runAt > now) this.wakeAt(this.lanes[local.lane], runAt);
  }

  /** Brings a queued job forward (e.g. the audit relay after a new event). */
  async poke(em: EntityManager, dedupeKey: string): Promise<void> {
    await em
      .getConnection()
      .execute(
        `update job set run_at = ? where dedupe_key = ? and status = 'queued' and run_at > ?`,
        [this.clock.now(), dedupeKey, this.clock.now()],
        'run',
        em.getTransactionContext(),
      );
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = new AbortController();
    for (const lane of LANES) this.wake(this.lanes[lane], 0);
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.heartbeatMs);
  }

  /**
   * Stops claiming and waits for running jobs (told to stop through their signal) up to `timeoutMs`;
   * the leases of jobs still running then are released, so another instance takes them at once. Such a
   * run's own final write no longer matches its lease and changes nothing.
   */
  async stop(timeoutMs = this.stopTimeoutMs): Promise<void> {
    this.running = false;
    for (const lane of LANES) {
      clearTimeout(this.lanes[lane].timer);
      this.lanes[lane].timer = undefined;
      this.lanes[lane].timerAt = Number.POSITIVE_INFINITY;
    }
    this.stopping.abort();
    await Promise.all(LANES.map((l) => this.lanes[l].claiming));
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      Promise.allSettled([...this.runs].map((r) => r.done)).then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    if (finished) return;
    const left = [...this.runs].filter((r) => !r.settled);
    for (const r of left) {
      r.settled = true;
      r.released = true;
    }
    this.logger.warn('jobs still running at stop; their leases are released', { jobs: left.map((r) => r.id) });
    await this.release(left).catch((e) => this.logger.error('could not release job leases', { err: e }));
  }

  /** Claims the jobs due now in every lane (up to its free slots), runs them, and returns how many ran. */
  async runDue(): Promise<number> {
    const counts = await Promise.all(
      LANES.map(async (name) => {
        const lane = this.lanes[name];
        const jobs = await this.claim(lane, lane.slots - lane.active.size);
        await Promise.all(jobs.map((j) => this.launch(lane, j).done));
        return jobs.length;
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Runs due jobs until none is due (tests and shutdown). */
  async drain(maxRounds = 100): Promise<void> {
    for (let i = 0; i < maxRounds; i++) if ((await this.runDue()) === 0) return;
  }

  /** Claims again on this lane at `at` (never later than its next poll). */
  private wakeAt(lane: LaneState, at: Date): void {
    const delay = at.getTime() - this.clock.now().getTime() + WAKE_MARGIN_MS;
    this.wake(lane, Math.min(this.pollIntervalMs, Math.max(0, delay)));
  }

  private wake(lane: LaneState, delayMs: number): void {
    if (!this.running) return;
    const at = performance.now() + delayMs;
    if (lane.timer && lane.timerAt <= at) return;
    clearTimeout(lane.timer);
    lane.timerAt = at;
    lane.timer = setTimeout(() => {
      lane.timer = undefined;
      lane.timerAt = Number.POSITIVE_INFINITY;
      this.fill(lane);
    }, delayMs);
  }

  /** Claims into the lane's free slots until it is full or nothing more is due, then polls again later. */
  private fill(lane: LaneState): void {
    if (lane.claiming) {
      lane.again = true;
      return;
    }
    lane.claiming = this.claimUntilFull(lane)
      .catch((e) => this.logger.error('job claim failed', { err: e, lane: lane.name }))
      .finally(() => {
        lane.claiming = undefined;
        this.wake(lane, this.pollIntervalMs);
      });
  }

  private async claimUntilFull(lane: LaneState): Promise<void> {
    do {
      lane.again = false;
      const free = lane.slots - lane.active.size;
      if (!this.running || free <= 0) return;
      const jobs = await this.claim(lane, free);
      if (!this.running) {
        await this.release(jobs.map((j) => ({ id: Number(j.id), owner: j.lease_owner })));
        return;
      }
      for (const job of jobs) this.launch(lane, job);
    } while (lane.again);
  }

  private async claim(lane: LaneState, limit: number): Promise<ClaimedJob[]> {
    if (!lane.kinds.length || limit <= 0) return [];
    const now = this.clock.now();
    const owner = `${this.instanceId}:${++this.claimSeq}`;
    return this.db.em.getConnection().execute(
      `update job set status = 'running', attempts = attempts + 1, locked_until = ?, lease_owner = ?, updated_at = ?
         where id in (
           select id from job
           where kind in (${lane.kinds.map(() => '?').join(', ')})
             and ((status = 'queued' and run_at <= ?) or (status = 'running' and locked_until < ?))
           order by run_at, id
           limit ?
           for update skip locked)
         returning id, kind, payload, attempts, max_attempts, lease_owner, run_at`,
      [new Date(now.getTime() + this.leaseMs), owner, now, ...lane.kinds, now, now, limit],
      'all',
    );
  }

  private launch(lane: LaneState, job: ClaimedJob): Run {
    const run: Run = {
      id: Number(job.id),
      owner: job.lease_owner,
      abort: new AbortController(),
      settled: false,
      released: false,
      done: Promise.resolve(),
    };
    const onStop = () => run.abort.abort(this.stopping.signal.reason);
    this.stopping.signal.addEventListener('abort', onStop, { once: true });
    lane.active.add(run);
    this.runs.add(run);
    const started = this.clock.now().getTime();
    const lagMs = started - new Date(job.run_at).getTime();
    run.done = this.execute(job, run)
      .then((outcome) =>
        this.observe?.({ kind: job.kind, outcome, lagMs, durationMs: this.clock.now().getTime() - started }),
      )
      .catch((e) => this.logger.error('job bookkeeping failed', { err: e, jobId: run.id }))
      .finally(() => {
        this.stopping.signal.removeEventListener('abort', onStop);
        lane.active.delete(run);
        this.runs.delete(run);
        if (this.running) this.fill(lane);
      });
    return run;
  }

  private async execute(job: ClaimedJob, run: Run): Promise<JobRunObservation['outcome']> {
    const entry = this.handlers.get(job.kind);
    const logger = this.logger.child({ job: job.kind, jobId: run.id });
    if (job.attempts > job.max_attempts) {
      // Claimed again after its lease ran out this often: the instances running it keep dying.
      logger.error('job failed for good: its lease ran out on every attempt', { attempt: job.attempts });
      await this.finish(run, `status = 'failed', last_error = ?`, ['lease ran out on every attempt']);
      return 'failed';
    }
    let result: JobResult;
    try {
      if (!entry) throw new Error(`no handler for job kind ${job.kind}`);
      const payload = typeof job.payload === 'string' ? JSON.parse(job.payload) : job.payload;
      result = await entry.handler(payload, {
        jobId: run.id,
        attempt: job.attempts,
        em: this.db.em.fork(),
        logger,
        signal: run.abort.signal,
        extendLease: () => this.extend(run),
      });
    } catch (e) {
      if (run.released) return this.droppedAfterRelease(logger);
      if (e instanceof LeaseLostError) {
        logger.warn('job stopped: another instance took it over');
        return 'dropped';
      }
      const final = job.attempts >= job.max_attempts;
      const delayMs = Math.min(300_000, 1000 * 2 ** (job.attempts - 1));
      logger.warn(final ? 'job failed for good' : 'job failed; will retry', { err: e, attempt: job.attempts });
      const message = e instanceof Error ? e.message.slice(0, 500) : String(e).slice(0, 500);
      await this.finish(run, `status = ?, run_at = ?, last_error = ?`, [
        final ? 'failed' : 'queued',
        new Date(this.clock.now().getTime() + delayMs),
        message,
      ]);
      return final ? 'failed' : 'retry';
    }
    if (run.released) return this.droppedAfterRelease(logger);
    if (result?.runAgainAt) {
      await this.finish(run, `status = 'queued', run_at = ?, attempts = 0, payload = coalesce(?::jsonb, payload)`, [
        result.runAgainAt,
        result.payload ? JSON.stringify(result.payload) : null,
      ]);
      const entryLane = entry ? this.lanes[entry.lane] : undefined;
      if (entryLane) this.wakeAt(entryLane, result.runAgainAt);
      return 'again';
    }
    await this.finish(run, `status = 'done'`, []);
    return 'done';
  }

  private droppedAfterRelease(logger: Logger): 'dropped' {
    logger.warn('job ended after stop() released its lease; its result was dropped');
    return 'dropped';
  }

  /** The run's last write, only while the lease is still its own. */
  private async finish(run: Run, set: string, params: unknown[]): Promise<void> {
    run.settled = true;
    const res = await this.db.em
      .getConnection()
      .execute(
        `update job set ${set}, locked_until = null, lease_owner = null, updated_at = ? where id = ? and lease_owner = ?`,
        [...params, this.clock.now(), run.id, run.owner],
        'run',
      );
    if (affected(res) !== 1)
      this.logger.warn('job finished after another instance took it over; its result was dropped', { jobId: run.id });
  }

  private async extend(run: Run): Promise<void> {
    if (run.settled || run.abort.signal.aborted) throw new LeaseLostError(run.id);
    const res = await this.db.em
      .getConnection()
      .execute(
        `update job set locked_until = ? where id = ? and lease_owner = ? and status = 'running'`,
        [new Date(this.clock.now().getTime() + this.leaseMs), run.id, run.owner],
        'run',
      );
    if (affected(res) === 1) return;
    run.abort.abort(new LeaseLostError(run.id));
    throw new LeaseLostError(run.id);
  }

  /** One statement for every job running here; a run whose lease is gone is told to stop. */
  private async heartbeat(): Promise<void> {
    const live = [...this.runs].filter((r) => !r.settled);
    if (!live.length) return;
    try {
      const held: Array<{ id: string | number; lease_owner: string }> = await this.db.em.getConnection().execute(
        `update job j set locked_until = ?
           from jsonb_to_recordset(?::jsonb) as r(id bigint, owner text)
           where j.id = r.id and j.lease_owner = r.owner and j.status = 'running'
           returning j.id, j.lease_owner`,
        [
          new Date(this.clock.now().getTime() + this.leaseMs),
          JSON.stringify(live.map((r) => ({ id: r.id, owner: r.owner }))),
        ],
        'all',
      );
      const kept = new Set(held.map((h) => `${h.id}/${h.lease_owner}`));
      for (const r of live) {
        if (r.settled || kept.has(`${r.id}/${r.owner}`)) continue;
        this.logger.warn('job lease lost (another instance took the job over); telling it to stop', { jobId: r.id });
        r.abort.abort(new LeaseLostError(r.id));
      }
    } catch (e) {
      this.logger.warn('job heartbeat failed; leases run out unless the next one succeeds', { err: e });
    }
  }

  /** Hands jobs back as due now, without counting the attempt that did not happen. */
  private async release(runs: Array<{ id: number; owner: string }>): Promise<void> {
    if (!runs.length) return;
    await this.db.em.getConnection().execute(
      `update job j set status = 'queued', run_at = ?, attempts = greatest(j.attempts - 1, 0), locked_until = null,
           lease_owner = null, updated_at = ?
         from jsonb_to_recordset(?::jsonb) as r(id bigint, owner text)
         where j.id = r.id and j.lease_owner = r.owner and j.status = 'running'`,
      [this.clock.now(), this.clock.now(), JSON.stringify(runs)],
      'run',
    );
  }
}

const affected = (res: unknown) => Number((res as { affectedRows?: number } | undefined)?.affectedRows ?? 0);
