/**
 * Shared pieces of the benchmarks: the whole app built through the composition root (src/app/runtime.ts) the way
 * the end-to-end harness builds it (the sandbox of src/app/sandbox.ts: fake Slack and the Duo simulator over HTTP;
 * a migrated database), signed slash-command
 * requests, a bounded closed-loop load generator, and percentile tables.
 *
 * Nothing here imports from test/: benchmarks are run by hand (`npm run bench`), never by the test runner.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import type { DuoSimulator, SimUser } from '@duo-desk/duo-sim';
import { type FakeSlack, signSlackRequest } from '@duo-desk/slack-testbed';
import { App, LogLevel } from '@slack/bolt';
import { LOCAL_CHANNELS } from '../src/app/local-directory.js';
import { type Runtime, startRuntime } from '../src/app/runtime.js';
import { grantLocalResponders, grantResponder, startSandbox } from '../src/app/sandbox.js';
import { type Database, describeDatabaseUrl, openDatabase } from '../src/db/database.js';
import { createScratchDatabase } from '../src/db/scratch.js';
import type { Role } from '../src/domain/roles.js';
import { createLogger, type Logger } from '../src/log.js';

// Environment

/** The server URL the benchmarks use, if any (TEST_DATABASE_URL first, as the tests do). */
export const serverDatabaseUrl = (): string | undefined =>
  process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined;

export function describeDatabaseKind(): string {
  const url = serverDatabaseUrl();
  return url
    ? `PostgreSQL server ${describeDatabaseUrl(url)} (a scratch database is created and dropped per bench)`
    : 'embedded PGlite, in memory (in this process)';
}

export function environmentLines(): string[] {
  const cpu = cpus();
  return [
    `node       ${process.version} (${process.platform}/${process.arch})`,
    `cpus       ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown'}`,
    `database   ${describeDatabaseKind()}`,
    loadLine(),
  ];
}

/** The machine's load: other processes on these cores skew absolute numbers (the ratios less so). */
export function loadLine(): string {
  const [one = 0, five = 0, fifteen = 0] = loadavg();
  const busy = one > cpus().length ? ` — more runnable processes than cores: absolute numbers are inflated` : '';
  return `load avg   ${one.toFixed(2)} / ${five.toFixed(2)} / ${fifteen.toFixed(2)} (1/5/15 min)${busy}`;
}

// Database

export interface BenchDatabase {
  db: Database;
  /** Printed in the bench header. */
  where: string;
  dispose(): Promise<void>;
}

/**
 * The embedded database in memory when no server is configured; otherwise a scratch database on that server
 * (as the harness does), so a benchmark never writes thousands of responders' audit events into a real trail.
 */
export async function openBenchDatabase(): Promise<BenchDatabase> {
  const serverUrl = serverDatabaseUrl();
  if (!serverUrl) {
    const db = await openDatabase({ inMemory: true });
    return { db, where: 'embedded PGlite (in memory)', dispose: () => db.close() };
  }
  const db = await createScratchDatabase(serverUrl, 'duodesk_bench');
  return { db, where: 'PostgreSQL server (scratch database)', dispose: () => db.drop() };
}

// The app

export interface BenchApp {
  runtime: Runtime;
  slack: FakeSlack;
  duo: DuoSimulator;
  signingSecret: string;
  /** `http://127.0.0.1:PORT/slack/events` of duo-desk. */
  eventsUrl: string;
  dbWhere: string;
  /** Log lines the app wrote (kept out of the output; warnings and errors are counted). */
  logStats: { lines: number; warnings: number; errors: number };
  grant(userId: string, role: Role, approver?: boolean): Promise<void>;
  close(): Promise<void>;
}

/**
 * A logger configured as production is (info, JSON, redaction), whose lines are counted and dropped instead of
 * written to stderr, so the benchmark pays for building log records but its table is not buried under them.
 */
function countingLogger(stats: BenchApp['logStats']): Logger {
  return createLogger({
    level: 'info',
    format: 'json',
    sink: (line) => {
      stats.lines++;
      if (line.includes('"level":"warn"')) stats.warnings++;
      else if (line.includes('"level":"error"')) stats.errors++;
    },
  });
}

/**
 * duo-desk as production builds it, against the local Slack test bed and the Duo simulator over HTTP. Job runner
 * and audit relay run with their production settings (the relay posts to the fake's audit channel in the
 * background, paced as in production).
 */
export async function startBenchApp(opts: { directory?: SimUser[]; startJobs?: boolean } = {}): Promise<BenchApp> {
  const { db, where, dispose } = await openBenchDatabase();
  const closers: Array<() => Promise<void>> = [dispose];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch((e) => console.error('bench cleanup failed:', e));
  };
  try {
    const sandbox = await startSandbox(opts.directory ? { directory: opts.directory } : {});
    closers.push(() => sandbox.close());
    const { slack, duo, signingSecret } = sandbox;
    const config = sandbox.connectedConfig('info');
    const logStats = { lines: 0, warnings: 0, errors: 0 };
    const runtime = await startRuntime({
      config,
      logger: countingLogger(logStats),
      database: db,
      ...(opts.startJobs === false ? { startJobs: false } : {}),
    });
    closers.push(() => runtime.stop());
    const grant = (userId: string, role: Role, approver = false) =>
      grantResponder(db, runtime.deps.audit, { userId, role, approver, grantedBy: 'bench' });
    await grantLocalResponders(db, runtime.deps.audit, 'bench');
    return {
      runtime,
      slack,
      duo,
      signingSecret,
      eventsUrl: `http://127.0.0.1:${runtime.slack.port}/slack/events`,
      dbWhere: where,
      logStats,
      grant,
      close: closeAll,
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

export interface BareApp {
  eventsUrl: string;
  close(): Promise<void>;
}

/** The baseline: a bare Bolt app on the same fake Slack whose `/duo` only acks. */
export async function startBareBoltApp(slack: FakeSlack, signingSecret: string): Promise<BareApp> {
  const app = new App({
    signingSecret,
    token: slack.botToken,
    clientOptions: { slackApiUrl: slack.apiUrl },
    logLevel: LogLevel.ERROR,
  });
  app.command('/duo', async ({ ack }) => {
    await ack();
  });
  const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
  const { port } = server.address() as AddressInfo;
  return { eventsUrl: `http://127.0.0.1:${port}/slack/events`, close: () => app.stop() as Promise<void> };
}

// Requests

/** The seeded local people the benches act as (src/app/local-directory.ts). */
export const PEOPLE = { owner: 'U123', helpDesk: 'U234' } as const;

export interface SignedTarget {
  label: string;
  /** The app's `/slack/events` URL. */
  url: string;
}

/** A slash command as Slack sends it (form-encoded), with a fresh response_url and trigger_id from the fake. */
export function slashCommandBody(slack: FakeSlack, userId: string, text: string, channelId = LOCAL_CHANNELS.helpdesk) {
  const responseUrl = slack.newResponseUrl({ channelId, userId });
  const body = new URLSearchParams({
    token: slack.verificationToken,
    team_id: slack.teamId,
    team_domain: slack.teamDomain,
    channel_id: channelId,
    channel_name: slack.store.channels.get(channelId)?.name ?? channelId.toLowerCase(),
    user_id: userId,
    user_name: slack.store.user(userId)?.name ?? userId,
    command: '/duo',
    text,
    api_app_id: slack.appId,
    is_enterprise_install: 'false',
    response_url: responseUrl,
    trigger_id: slack.issueTriggerId(userId),
  }).toString();
  return { body, responseUrlId: responseUrl.slice(responseUrl.lastIndexOf('/response/') + '/response/'.length) };
}

/** The headers Slack sends with a request: timestamp and `v0=` HMAC signature of the raw body. */
export function signedHeaders(signingSecret: string, rawBody: string): Record<string, string> {
  const ts = Math.floor(Date.now() / 1000);
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(ts),
    'x-slack-signature': signSlackRequest(signingSecret, rawBody, ts),
  };
}

export interface TimedResponse {
  status: number;
  text: string;
  /** From just before the request is sent until the whole response body has been read. */
  ms: number;
}

/** POSTs a correctly signed request (global fetch: undici, keep-alive) and times it; 10 s timeout. */
export async function postSigned(url: string, signingSecret: string, rawBody: string): Promise<TimedResponse> {
  const headers = signedHeaders(signingSecret, rawBody);
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers, body: rawBody, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - started };
}

// Load

export interface LoadResult {
  /** Latencies (ms) of the requests that succeeded. */
  samples: number[];
  errors: number;
  firstError: string | undefined;
  elapsedMs: number;
  /** Requests not started because the deadline passed. */
  skipped: number;
  /** CPU time (user + system) this whole process used meanwhile: client, app, fakes and embedded database. */
  cpuMs: number;
}

/**
 * Closed-loop load: `concurrency` workers each run `one(i)` back to back until `total` have been started or the
 * deadline (epoch of performance.now()) passes. `one` resolves with the latency it measured, or throws.
 */
export async function runLoad(opts: {
  total: number;
  concurrency: number;
  deadline: number;
  one: (i: number) => Promise<number>;
}): Promise<LoadResult> {
  const samples: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  const worker = async () => {
    while (next < opts.total && performance.now() < opts.deadline) {
      const i = next++;
      try {
        samples.push(await opts.one(i));
      } catch (e) {
        errors++;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.total) }, worker));
  const used = process.cpuUsage(cpu);
  return {
    samples,
    errors,
    firstError,
    elapsedMs: performance.now() - started,
    skipped: opts.total - next,
    cpuMs: (used.user + used.system) / 1000,
  };
}

/** Merges the results of several rounds of the same target. */
export function mergeLoads(results: LoadResult[]): LoadResult {
  return {
    samples: results.flatMap((r) => r.samples),
    errors: results.reduce((n, r) => n + r.errors, 0),
    firstError: results.find((r) => r.firstError)?.firstError,
    elapsedMs: results.reduce((n, r) => n + r.elapsedMs, 0),
    skipped: results.reduce((n, r) => n + r.skipped, 0),
    cpuMs: results.reduce((n, r) => n + r.cpuMs, 0),
  };
}

// Statistics and tables

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles. */
export function summarize(samples: number[]): Summary {
  if (!samples.length) return { n: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN };
  const s = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return {
    n: s.length,
    p50: rank(0.5),
    p99: rank(0.99),
    max: s[s.length - 1]!,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
  };
}

export const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)} ms` : '—');
export const ratio = (a: number, b: number) => (Number.isFinite(a / b) && b > 0 ? `${(a / b).toFixed(2)}×` : '—');

/** A plain text table: first column left-aligned, the others right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('   '), ...rows.map(line)].join('\n');
}

/** CPU per request, and how busy the process was (100% = one core) while the load ran. */
export const cpuColumns = (r: LoadResult): [string, string] => [
  r.samples.length ? ms(r.cpuMs / (r.samples.length + r.errors)) : '—',
  `${((100 * r.cpuMs) / r.elapsedMs).toFixed(0)}%`,
];

/**
 * Time limits of a bench (measured from the end of its setup): warm-up, then whole rounds (each side once) until
 * the measuring budget is spent, so both sides always get the same number of requests. A round still running at
 * the hard stop is cut short (and says so).
 */
export const BUDGET = { warmupMs: 20_000, measureMs: 55_000, hardStopMs: 40_000 } as const;

export const sleep = (msToWait: number) => new Promise<void>((resolve) => setTimeout(resolve, msToWait));
