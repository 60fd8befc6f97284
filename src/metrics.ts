import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics (GET /metrics). Labels are drawn from closed sets (listener names, endpoint templates,
 * job kinds, audit actions, outcomes): never a user name, id, channel, code or secret.
 */
const SECONDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A label value from a closed vocabulary: lower-case words, dots, colons and dashes, else 'other'. */
export function labelValue(raw: string | undefined, max = 48): string {
  if (!raw) return 'none';
  return /^[a-z/][a-z0-9_.:/-]*$/.test(raw) && raw.length <= max ? raw : 'other';
}

/** One read-only statement on the app's database (the composition root binds it). */
export type Query = (sql: string) => Promise<Array<Record<string, unknown>>>;

export type RequestOutcome = 'ok' | 'refused' | 'error';

export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'duodesk_slack_requests_total',
    help: 'Slack requests handled, by listener and outcome (ok, refused: a known problem shown to the user, error)',
    labelNames: ['listener', 'outcome'],
    registers: [this.registry],
  });
  private readonly requestSeconds = new Histogram({
    name: 'duodesk_slack_request_duration_seconds',
    help: 'Time from a Slack request reaching its listener to the listener returning',
    labelNames: ['listener', 'outcome'],
    buckets: SECONDS,
    registers: [this.registry],
  });
  private readonly duoCalls = new Counter({
    name: 'duodesk_duo_requests_total',
    help: 'Duo Admin API attempts, by endpoint template, method and HTTP status (or timeout, network)',
    labelNames: ['endpoint', 'method', 'status'],
    registers: [this.registry],
  });
  private readonly duoSeconds = new Histogram({
    name: 'duodesk_duo_request_duration_seconds',
    help: 'Duo Admin API attempt latency, by endpoint template and method',
    labelNames: ['endpoint', 'method'],
    buckets: SECONDS,
    registers: [this.registry],
  });
  private readonly jobRuns = new Counter({
    name: 'duodesk_job_runs_total',
    help: 'Job runs, by kind and outcome (done, again, retry, failed, dropped)',
    labelNames: ['kind', 'outcome'],
    registers: [this.registry],
  });
  private readonly jobLag = new Histogram({
    name: 'duodesk_job_lag_seconds',
    help: 'How late a job started after it was due, by kind',
    labelNames: ['kind'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  private readonly jobSeconds = new Histogram({
    name: 'duodesk_job_duration_seconds',
    help: 'Job run time, by kind',
    labelNames: ['kind'],
    buckets: SECONDS,
    registers: [this.registry],
  });
  private readonly audit = new Counter({
    name: 'duodesk_audit_events_total',
    help: 'Audit events written by this instance, by action and outcome',
    labelNames: ['action', 'outcome'],
    registers: [this.registry],
  });
  private readonly stepUpFailures = new Counter({
    name: 'duodesk_stepup_failures_total',
    help: 'Failed TOTP step-up attempts',
    registers: [this.registry],
  });
  private readonly stepUpLocks = new Counter({
    name: 'duodesk_stepup_locks_total',
    help: 'Responders locked out of TOTP step-up',
    registers: [this.registry],
  });
  private readonly pushes = new Counter({
    name: 'duodesk_verification_pushes_total',
    help: 'Verification pushes: sent, and answered by result (approve, deny, fraud, timeout, …)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  private query: Query | undefined;

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'duodesk_' });
    const fromDb = async (sql: string): Promise<Record<string, unknown> | undefined> => {
      if (!this.query) return undefined;
      return (await this.query(sql))[0];
    };
    new Gauge({
      name: 'duodesk_relay_backlog',
      help: 'Audit events not yet posted to the audit channel',
      registers: [this.registry],
      async collect() {
        const r = await fromDb(`select count(*)::int as n from audit_outbox where status in ('pending', 'sending')`);
        this.set(Number(r?.n ?? 0));
      },
    });
    new Gauge({
      name: 'duodesk_relay_oldest_pending_seconds',
      help: 'Age of the oldest audit event waiting for the audit channel (0 when none)',
      registers: [this.registry],
      async collect() {
        const r = await fromDb(
          `select coalesce(extract(epoch from now() - min(e.occurred_at)), 0)::float8 as s
             from audit_outbox o join audit_event e on e.id = o.event_id where o.status in ('pending', 'sending')`,
        );
        this.set(Math.max(0, Number(r?.s ?? 0)));
      },
    });
    new Gauge({
      name: 'duodesk_approvals_pending',
      help: 'Approval requests waiting for an approver',
      registers: [this.registry],
      async collect() {
        const r = await fromDb(`select count(*)::int as n from approval_request where state = 'requested'`);
        this.set(Number(r?.n ?? 0));
      },
    });
  }

  /** How the gauges read the database (backlog, pending approvals) when scraped. */
  bindDatabase(query: Query): void {
    this.query = query;
  }

  request(listener: string, outcome: RequestOutcome, seconds: number): void {
    const labels = { listener: labelValue(listener), outcome };
    this.requests.inc(labels);
    this.requestSeconds.observe(labels, seconds);
  }

  duoAttempt(a: { endpoint: string; method: string; status: number | string; durationMs: number }): void {
    const endpoint = labelValue(a.endpoint, 80);
    this.duoCalls.inc({ endpoint, method: a.method, status: String(a.status) });
    this.duoSeconds.observe({ endpoint, method: a.method }, a.durationMs / 1000);
  }

  jobRun(r: { kind: string; outcome: string; lagMs: number; durationMs: number }): void {
    const kind = labelValue(r.kind);
    this.jobRuns.inc({ kind, outcome: r.outcome });
    this.jobLag.observe({ kind }, Math.max(0, r.lagMs) / 1000);
    this.jobSeconds.observe({ kind }, r.durationMs / 1000);
  }

  auditEvent(e: { action: string; outcome: string; params?: Record<string, unknown> | undefined }): void {
    this.audit.inc({ action: labelValue(e.action), outcome: labelValue(e.outcome) });
    if (e.action === 'stepup.failed') this.stepUpFailures.inc();
    if (e.action === 'stepup.locked') this.stepUpLocks.inc();
    if (e.action === 'verification.sent' && e.outcome === 'success') this.pushes.inc({ result: 'sent' });
    if (e.action === 'verification.answered') {
      const result = typeof e.params?.result === 'string' ? e.params.result : undefined;
      this.pushes.inc({ result: labelValue(result, 16) });
    }
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
