import type { Clock } from '../clock.js';
import type { Database, EntityManager } from '../db/database.js';
import type { Logger } from '../log.js';

/**
 * Durable work in Postgres: following a pending push, expiring approvals, relaying audit events,
 * reconciling unknown outcomes, refreshing the directory index. Jobs are claimed with
 * FOR UPDATE SKIP LOCKED in a single statement and run outside any transaction, so several
 * instances share the work and a crashed instance's lease runs out and is taken over.
 */
export interface JobContext {
  jobId: number;
  attempt: number;
  em: EntityManager;
  logger: Logger;
  /** Aborted when the runner stops: long handlers (the relay) end their batch early. */
  signal: AbortSignal;
}

/** A handler finishes its job, or asks to run again later (polling, pacing, idle relays). */
export type JobResult = undefined | { runAgainAt: Date };
export type JobHandler = (payload: Record<string, unknown>, ctx: JobContext) => Promise<JobResult>;

export interface EnqueueOptions {
  kind: string;
  payload?: Record<string, unknown>;
  runAt?: Date;
  /** At most one live (queued or running) job per key; a second enqueue is a no-op. */
  dedupeKey?: string;
  maxAttempts?: number;
}

interface ClaimedJob {
  id: string | number;
  kind: string;
  payload: Record<string, unknown>;
  attempts: number;
  max_attempts: number;
}

export interface JobQueueOptions {
  pollIntervalMs?: number;
  leaseMs?: number;
  batchSize?: number;
}

export class JobQueue {
  private readonly handlers = new Map<string, JobHandler>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight: Promise<void> | undefined;
  private stopping = new AbortController();
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly batchSize: number;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly logger: Logger,
    opts: JobQueueOptions = {},
  ) {
    this.pollIntervalMs = opts.pollIntervalMs ?? 500;
    this.leaseMs = opts.leaseMs ?? 120_000;
    this.batchSize = opts.batchSize ?? 10;
  }

  register(kind: string, handler: JobHandler): void {
    this.handlers.set(kind, handler);
  }

  /** Adds a job through `em`, so it commits (or not) with the caller's transaction. */
  async enqueue(em: EntityManager, opts: EnqueueOptions): Promise<void> {
    const now = this.clock.now();
    await em.getConnection().execute(
      `insert into job (kind, payload, dedupe_key, status, run_at, attempts, max_attempts, created_at, updated_at)
         values (?, ?, ?, 'queued', ?, 0, ?, ?, ?)
         on conflict (dedupe_key) where status in ('queued', 'running') do nothing`,
      [
        opts.kind,
        JSON.stringify(opts.payload ?? {}),
        opts.dedupeKey ?? null,
        opts.runAt ?? now,
        opts.maxAttempts ?? 10,
        now,
        now,
      ],
      'run',
      em.getTransactionContext(),
    );
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
    const tick = async () => {
      if (!this.running) return;
      this.inFlight = this.runDue()
        .then(() => undefined)
        .catch((e) => this.logger.error('job runner failed', { err: e }));
      await this.inFlight;
      if (this.running) this.timer = setTimeout(tick, this.pollIntervalMs);
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
  }

  /** Claims and runs the jobs due now; returns how many ran. */
  async runDue(): Promise<number> {
    const jobs = await this.claim();
    await Promise.all(jobs.map((j) => this.run(j)));
    return jobs.length;
  }

  /** Runs due jobs until none is due (tests and shutdown). */
  async drain(maxRounds = 100): Promise<void> {
    for (let i = 0; i < maxRounds; i++) if ((await this.runDue()) === 0) return;
  }

  private async claim(): Promise<ClaimedJob[]> {
    const now = this.clock.now();
    const kinds = [...this.handlers.keys()];
    if (!kinds.length) return [];
    const rows: ClaimedJob[] = await this.db.em.getConnection().execute(
      `update job set status = 'running', attempts = attempts + 1, locked_until = ?, updated_at = ?
         where id in (
           select id from job
           where kind in (${kinds.map(() => '?').join(', ')})
             and ((status = 'queued' and run_at <= ?) or (status = 'running' and locked_until < ?))
           order by run_at, id
           limit ?
           for update skip locked)
         returning id, kind, payload, attempts, max_attempts`,
      [new Date(now.getTime() + this.leaseMs), now, ...kinds, now, now, this.batchSize],
      'all',
    );
    return rows;
  }

  private async run(job: ClaimedJob): Promise<void> {
    const id = Number(job.id);
    const handler = this.handlers.get(job.kind);
    const logger = this.logger.child({ job: job.kind, jobId: id });
    const conn = this.db.em.getConnection();
    try {
      if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
      const payload = typeof job.payload === 'string' ? JSON.parse(job.payload) : job.payload;
      const result = await handler(payload, {
        jobId: id,
        attempt: job.attempts,
        em: this.db.em.fork(),
        logger,
        signal: this.stopping.signal,
      });
      if (result?.runAgainAt) {
        await conn.execute(
          `update job set status = 'queued', run_at = ?, attempts = 0, locked_until = null, updated_at = ? where id = ?`,
          [result.runAgainAt, this.clock.now(), id],
        );
      } else {
        await conn.execute(`update job set status = 'done', locked_until = null, updated_at = ? where id = ?`, [
          this.clock.now(),
          id,
        ]);
      }
    } catch (e) {
      const final = job.attempts >= job.max_attempts;
      const delayMs = Math.min(300_000, 1000 * 2 ** (job.attempts - 1));
      logger.warn(final ? 'job failed for good' : 'job failed; will retry', { err: e, attempt: job.attempts });
      const message = e instanceof Error ? e.message.slice(0, 500) : String(e).slice(0, 500);
      await conn.execute(
        `update job set status = ?, run_at = ?, locked_until = null, last_error = ?, updated_at = ? where id = ?`,
        [final ? 'failed' : 'queued', new Date(this.clock.now().getTime() + delayMs), message, this.clock.now(), id],
      );
    }
  }
}
