/**
 * Scale benchmark: 1, 2 and 3 duo-desk processes (src/app/main.ts, production settings) on one PostgreSQL, behind a
 * round-robin of signed Slack requests: lookups, verifications (the caller answers in the Duo simulator) and bypass
 * requests approved by a second person with a TOTP code. Each instance count runs for a minute; then, with three,
 * the instance holding the directory sync's lease is killed with SIGKILL mid-load, and its leased jobs must be
 * taken over within the lease. At the end the totals are reconciled from the records of the simulator (every Duo
 * call), the Slack test bed (every message and update) and the database: no job ran twice, no audit event was lost
 * or posted twice, no Duo mutation was made twice. It also prints each instance's start-up time and memory.
 *
 *   npm run bench -- scale           (or: npx tsx bench/run.ts scale)
 *
 * Needs a PostgreSQL server (TEST_DATABASE_URL or DATABASE_URL): the embedded database serves one process.
 * Options (env): BENCH_SCALE_PHASE_MS (default 60000), BENCH_SCALE_USERS (Duo directory size, default 5000),
 * BENCH_SCALE_HEAP_SNAPSHOT=1 (instance 1 writes a heap snapshot under load, into BENCH_SCALE_HEAP_DIR or /tmp),
 * BENCH_SCALE_NODE_FLAGS (node flags for every instance, e.g. heap limits),
 * BENCH_SCALE_RUNNER=compiled|tsx (how the instances under load run; default compiled: `npm run build` first).
 * Before the load, one instance of each runner starts and stops, for start-up time and memory side by side.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { type DuoSimulator, generateDirectory, makePhone, type SimUser } from '@duo-desk/duo-sim';
import { type FakeSlack, SlackDriver } from '@duo-desk/slack-testbed';
import { LOCAL_CHANNELS, LOCAL_TEAM_ID } from '../src/app/local-directory.js';
import { grantResponder, startSandbox } from '../src/app/sandbox.js';
import { AuditKeyring } from '../src/audit/keys.js';
import { AuditTrail } from '../src/audit/trail.js';
import { systemClock } from '../src/clock.js';
import { createScratchDatabase, type ScratchDatabase } from '../src/db/scratch.js';
import { pushCapablePhones } from '../src/domain/duo-user.js';
import { DEFAULT_LEASE_MS, JobQueue } from '../src/jobs/queue.js';
import { createMemoryLogger } from '../src/log.js';
import { DIRECTORY_SYNC_JOB } from '../src/usecases/directory-index.js';
import { changeSetting } from '../src/usecases/settings.js';
import {
  ApproverPool,
  bypassFlow,
  CallWatcher,
  enrollStepUp,
  type FlowEnv,
  lookupFlow,
  type RequestSample,
  RoundRobin,
  sleep,
  UserPool,
  type VerifyOutcome,
  verifyFlow,
} from './flows.js';
import { build, type InstanceProcess, type Runner, spawnInstance } from './instances.js';
import { loadLine, ms, serverDatabaseUrl, summarize, table } from './support.js';

const PHASE_MS = Number(process.env.BENCH_SCALE_PHASE_MS ?? 60_000);
const DIRECTORY_USERS = Number(process.env.BENCH_SCALE_USERS ?? 5_000);
const HEAP_SNAPSHOT = process.env.BENCH_SCALE_HEAP_SNAPSHOT === '1';
const HEAP_DIR = process.env.BENCH_SCALE_HEAP_DIR ?? '/tmp';
const RUNNER: Runner = process.env.BENCH_SCALE_RUNNER === 'tsx' ? 'tsx' : 'compiled';
const WORKERS = { lookup: 3, verify: 2, bypass: 1 };
const AGENTS = Array.from({ length: 12 }, (_, i) => `UAGENT${String(i).padStart(4, '0')}`);
const APPROVERS = Array.from({ length: 12 }, (_, i) => `UAPPRV${String(i).padStart(4, '0')}`);
const RSS_GOAL_MB = 150;
/** Extra node flags for every instance, e.g. `--max-old-space-size=96 --max-semi-space-size=2` (memory experiments). */
const NODE_FLAGS = (process.env.BENCH_SCALE_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
const READY_GOAL_MS = 1_000;

interface PhaseResult {
  name: string;
  instances: string[];
  seconds: number;
  samples: RequestSample[];
  lookups: number[];
  verifies: VerifyOutcome[];
  bypasses: number[];
  errors: string[];
  rss: Map<string, number[]>;
}

interface Setup {
  db: ScratchDatabase;
  slack: FakeSlack;
  duo: DuoSimulator;
  env: Record<string, string>;
  signingSecret: string;
  close(): Promise<void>;
}

const q = <T>(db: ScratchDatabase, sql: string, params: unknown[] = []) =>
  db.em.getConnection().execute<T[]>(sql, params, 'all');

/** The pid in a lease token (`host:pid:random:claim`). */
const pidOfLease = (owner: string | null) => (owner ? Number(/:(\d+):[0-9a-f]+:\d+$/.exec(owner)?.[1]) : Number.NaN);

async function setUp(): Promise<Setup> {
  const serverUrl = serverDatabaseUrl()!;
  const db = await createScratchDatabase(serverUrl, 'duodesk_scale');
  try {
    const sandbox = await startSandbox({
      users: [...AGENTS, ...APPROVERS].map((id) => ({
        id,
        name: id.toLowerCase(),
        realName: `Bench ${id}`,
        email: `${id.toLowerCase()}@bench.example.com`,
      })),
      directory: generateDirectory(DIRECTORY_USERS, 7),
    });
    // Each approver's own Duo account (by Slack email), whose phone approves their step-up binding push.
    for (const id of APPROVERS) {
      const username = id.toLowerCase();
      sandbox.duo.addUser({
        username,
        email: `${username}@bench.example.com`,
        phones: [makePhone(username, 1, 'iphone', '+15555550100', '2026-11-20T09:00:00')],
      });
    }
    const auditKey = randomBytes(32);
    const audit = new AuditTrail(systemClock, new AuditKeyring(auditKey));
    for (const userId of AGENTS)
      await grantResponder(db, audit, { userId, role: 'help_desk', approver: false, grantedBy: 'bench' });
    for (const userId of APPROVERS)
      await grantResponder(db, audit, { userId, role: 'user_manager', approver: true, grantedBy: 'bench' });
    // The push limits protect callers from push floods; this load sends many pushes from few agents on purpose.
    for (const [name, value] of [
      ['max_verification_pushes_per_user', 100],
      ['max_verification_pushes_per_responder', 500],
    ] as const)
      await changeSetting({ audit }, db.em.fork(), { system: 'cli' }, LOCAL_TEAM_ID, name, value, 'bench-scale');
    const { slack, duo, signingSecret } = sandbox;
    const env = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      DATABASE_URL: db.url,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_API_URL: slack.apiUrl,
      DUO_IKEY: duo.ikey,
      DUO_SKEY: duo.skey,
      DUO_HOST: duo.url,
      DUO_DESK_AUDIT_CHANNEL: LOCAL_CHANNELS.audit,
      DUO_DESK_APPROVAL_CHANNEL: LOCAL_CHANNELS.approvals,
      DUO_DESK_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      DUO_DESK_AUDIT_KEY: auditKey.toString('base64'),
      DUO_DESK_DATA_DIR: `/tmp/duo-desk-scale-${process.pid}`,
    };
    return { db, slack, duo, env, signingSecret, close: () => sandbox.close() };
  } catch (e) {
    await db.drop();
    throw e;
  }
}

export async function runScaleBench(): Promise<void> {
  if (!serverDatabaseUrl()) {
    console.log(
      'scale: skipped: it needs a PostgreSQL server (TEST_DATABASE_URL or DATABASE_URL); the embedded database serves one process.',
    );
    return;
  }
  const started = performance.now();
  const s = await setUp();
  const procs: InstanceProcess[] = [];
  try {
    await runScale(s, procs, started);
  } finally {
    for (const p of procs) p.kill();
    await Promise.all(procs.map((p) => p.exited));
    await s.close();
    await s.db.drop();
  }
}

async function runScale(s: Setup, procs: InstanceProcess[], started: number): Promise<void> {
  const balancer = new RoundRobin([]);
  const env: FlowEnv = {
    slack: s.slack,
    duo: s.duo,
    signingSecret: s.signingSecret,
    balancer,
    calls: new CallWatcher(s.slack),
    samples: [],
  };
  const restMb = new Map<string, number>();
  const addInstance = async () => {
    const label = `instance ${procs.length + 1}`;
    const flags = [
      ...NODE_FLAGS,
      ...(HEAP_SNAPSHOT && !procs.length ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${HEAP_DIR}`] : []),
    ];
    const p = await spawnInstance(label, s.env, { runner: RUNNER, nodeFlags: flags });
    procs.push(p);
    balancer.instances.push({
      label,
      eventsUrl: p.eventsUrl,
      driver: new SlackDriver({ slack: s.slack, signingSecret: s.signingSecret, eventsUrl: p.eventsUrl }),
      live: true,
    });
    await sleep(2_000);
    restMb.set(label, p.rssMb());
    return p;
  };

  console.log(
    `scale: PostgreSQL server (scratch database), Duo simulator with ${DIRECTORY_USERS} users, fake Slack, all in this process;` +
      ` the instances are separate node processes (src/app/main.ts, NODE_ENV=production)`,
  );
  // Start-up side by side: the compiled JavaScript and the TypeScript through tsx's loader, one at a time, idle.
  const buildMs = await build();
  const startups: StartupRow[] = [];
  for (const runner of ['tsx', 'compiled', 'tsx', 'compiled'] as const) {
    const p = await spawnInstance(`${runner} (start-up only)`, s.env, { runner });
    await sleep(2_000);
    startups.push({ runner, readyMs: p.readyMs, restMb: p.rssMb() });
    await p.stop();
  }
  console.log(`build (npm run build) ${(buildMs / 1000).toFixed(1)} s; instances under load run: ${RUNNER}`);
  await addInstance();

  // Approvers enroll their authenticator through Slack, as they would.
  const approvers = new ApproverPool(await Promise.all(APPROVERS.map((id) => enrollStepUp(env, id))));
  env.samples = [];

  // The first directory pass runs at start-up (paced, minutes for a big directory): let it finish first.
  const syncStarted = performance.now();
  for (;;) {
    const [job] = await q<{ status: string; run_at: Date }>(s.db, 'select status, run_at from job where kind = ?', [
      DIRECTORY_SYNC_JOB,
    ]);
    if (job?.status === 'queued' && new Date(job.run_at).getTime() > Date.now() + 30 * 60_000) break;
    if (performance.now() - syncStarted > 10 * 60_000) throw new Error('the first directory sync did not finish');
    await sleep(250);
  }
  console.log(
    `setup ${((performance.now() - started) / 1000).toFixed(1)} s (first directory pass ${((performance.now() - syncStarted) / 1000).toFixed(1)} s)`,
  );

  // Duo users for each kind of flow: lookups on anyone; verifications and bypass requests on users with exactly
  // one push phone (the push goes out at once), one flow per user at a time, bypass users never reused.
  const everyone = generateDirectory(DIRECTORY_USERS, 7);
  const pushUsers = everyone.filter((u) => u.status === 'active' && pushCapablePhones(u as never).length === 1);
  const verifyPool = new UserPool(pushUsers.slice(0, 200));
  const bypassUsers = pushUsers.slice(200);
  let bypassNext = 0;
  let agentNext = 0;

  const phases: PhaseResult[] = [];
  const runPhase = async (name: string, durationMs: number, during?: () => Promise<void>): Promise<PhaseResult> => {
    const r: PhaseResult = {
      name,
      instances: balancer.instances.filter((i) => i.live).map((i) => i.label),
      seconds: 0,
      samples: [],
      lookups: [],
      verifies: [],
      bypasses: [],
      errors: [],
      rss: new Map(),
    };
    env.samples = r.samples;
    const t0 = performance.now();
    const until = t0 + durationMs;
    const sampler = setInterval(() => {
      for (const p of procs) {
        const mb = p.rssMb();
        if (Number.isFinite(mb)) r.rss.set(p.label, [...(r.rss.get(p.label) ?? []), mb]);
      }
    }, 1_000);
    const loop = async (one: () => Promise<void>) => {
      while (performance.now() < until) {
        try {
          await one();
        } catch (e) {
          r.errors.push(e instanceof Error ? e.message : String(e));
          await sleep(100);
        }
      }
    };
    const agent = () => AGENTS[agentNext++ % AGENTS.length]!;
    const pick = (xs: SimUser[]) => xs[Math.floor(Math.random() * xs.length)]!;
    const answerAfter = () => 500 + Math.floor(Math.random() * 2_000);
    await Promise.all([
      ...Array.from({ length: WORKERS.lookup }, () =>
        loop(async () => {
          r.lookups.push(await lookupFlow(env, agent(), pick(everyone).username));
        }),
      ),
      ...Array.from({ length: WORKERS.verify }, (_, w) =>
        loop(async () => {
          r.verifies.push(
            await verifyPool.with((u) => verifyFlow(env, AGENTS[w]!, u.username, u.user_id, answerAfter())),
          );
        }),
      ),
      ...Array.from({ length: WORKERS.bypass }, () =>
        loop(async () => {
          const u = bypassUsers[bypassNext++ % bypassUsers.length]!;
          const who = AGENTS[2 + (agentNext++ % (AGENTS.length - 2))]!;
          r.verifies.push(await verifyFlow(env, who, u.username, u.user_id, answerAfter()));
          r.bypasses.push((await bypassFlow(env, who, u.username, approvers)).requestedToDeliveredMs);
        }),
      ),
      during?.(),
    ]);
    clearInterval(sampler);
    r.seconds = (performance.now() - t0) / 1000;
    phases.push(r);
    console.log(
      `  ${name}: ${r.samples.length} requests in ${r.seconds.toFixed(0)} s, ${r.errors.length} flow errors; ${loadLine()}`,
    );
    return r;
  };

  await runPhase('1 instance', PHASE_MS);
  await addInstance();
  await runPhase('2 instances', PHASE_MS);
  await addInstance();
  await runPhase('3 instances', PHASE_MS, async () => {
    if (!HEAP_SNAPSHOT) return;
    await sleep(PHASE_MS * 0.8);
    process.kill(procs[0]!.pid, 'SIGUSR2');
    console.log(`  heap snapshot of instance 1 (pid ${procs[0]!.pid}) requested into ${HEAP_DIR}`);
  });

  // SIGKILL mid-load: the instance that holds the directory sync (a long job) and whatever else it had leased.
  const kill: KillReport = { victim: '', killedAt: 0, leased: [] };
  await runPhase('3 instances, one killed', PHASE_MS, async () => {
    const jobs = new JobQueue(s.db, systemClock, createMemoryLogger('error'));
    await jobs.poke(s.db.em.fork(), DIRECTORY_SYNC_JOB);
    let holder: number | undefined;
    for (let i = 0; i < 200 && holder === undefined; i++) {
      const [job] = await q<{ status: string; lease_owner: string | null }>(
        s.db,
        'select status, lease_owner from job where kind = ?',
        [DIRECTORY_SYNC_JOB],
      );
      if (job?.status === 'running') holder = pidOfLease(job.lease_owner);
      else await sleep(100);
    }
    const victim = procs.find((p) => p.pid === holder) ?? procs[procs.length - 1]!;
    await sleep(3_000);
    victim.kill();
    kill.killedAt = Date.now();
    kill.victim = victim.label;
    const target = balancer.instances.find((i) => i.label === victim.label);
    if (target) target.live = false;
    const leased = await q<{ id: string; kind: string; locked_until: Date }>(
      s.db,
      `select id, kind, locked_until from job where status = 'running' and lease_owner like ?`,
      [`%:${victim.pid}:%`],
    );
    kill.leased = leased.map((j) => ({
      id: Number(j.id),
      kind: j.kind,
      lockedForMs: new Date(j.locked_until).getTime() - kill.killedAt,
    }));
    const deadline = kill.killedAt + DEFAULT_LEASE_MS + 15_000;
    while (Date.now() < deadline && kill.leased.some((j) => j.takenOverAfterMs === undefined)) {
      for (const j of kill.leased.filter((x) => x.takenOverAfterMs === undefined)) {
        const [row] = await q<{ status: string; lease_owner: string | null }>(
          s.db,
          'select status, lease_owner from job where id = ?',
          [j.id],
        );
        const pid = pidOfLease(row?.lease_owner ?? null);
        if (row && (row.status !== 'running' || pid !== victim.pid)) {
          j.takenOverAfterMs = Date.now() - kill.killedAt;
          j.by = procs.find((p) => p.pid === pid)?.label ?? (row.status === 'running' ? `pid ${pid}` : row.status);
        }
      }
      await sleep(100);
    }
  });

  // Let what is in flight settle: answered pushes reach their DMs, the directory pass finishes.
  const settleStart = performance.now();
  for (;;) {
    const [{ n }] = (await q<{ n: string }>(
      s.db,
      `select count(*) as n from job where status = 'running' or (kind = ? and status = 'queued' and run_at < now())`,
      ['verification.follow'],
    )) as [{ n: string }];
    if (Number(n) === 0 || performance.now() - settleStart > 90_000) break;
    await sleep(500);
  }
  const survivors = procs.filter((p) => balancer.instances.find((i) => i.label === p.label)?.live);
  const stopMs = await Promise.all(survivors.map((p) => p.stop()));
  for (const i of balancer.instances) i.live = false;

  printPhases(phases);
  printStartup(procs, restMb, phases, stopMs, survivors, startups);
  printKill(kill);
  await printReconciliation(s, phases, kill, procs);
  console.log(
    `${loadLine()}\ninstance logs: ${procs.map((p) => `${p.label} ${p.log.lines} lines (${p.log.warnings} warnings, ${p.log.errors} errors)`).join('; ')}` +
      `${procs.find((p) => p.log.firstError) ? `\nfirst error: ${procs.find((p) => p.log.firstError)!.log.firstError}` : ''}` +
      `\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s; the first phase's three numbers are the baseline of the others (same run)`,
  );
}

interface StartupRow {
  runner: Runner;
  readyMs: number;
  restMb: number;
}

interface KillReport {
  victim: string;
  killedAt: number;
  leased: Array<{ id: number; kind: string; lockedForMs: number; takenOverAfterMs?: number; by?: string }>;
}

const mb = (v: number) => (Number.isFinite(v) ? `${v.toFixed(0)} MB` : '—');
const max = (xs: number[]) => (xs.length ? Math.max(...xs) : Number.NaN);
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);

function printPhases(phases: PhaseResult[]) {
  console.log(
    `\nThroughput and latency per instance count (closed loop: ${WORKERS.lookup} lookup, ${WORKERS.verify} verify and` +
      ` ${WORKERS.bypass} bypass-with-approval workers; every request to the next instance)\n`,
  );
  const base = phases[0];
  const rps = (p: PhaseResult) => p.samples.filter((x) => x.status === 200).length / p.seconds;
  console.log(
    table(
      [
        'phase',
        'requests',
        'req/s',
        'vs 1',
        'p50',
        'p99',
        'lookup card p99',
        'verify answer→DM p99',
        'bypass issued',
        'flow errors',
        'RSS max/instance',
      ],
      phases.map((p) => {
        const all = summarize(p.samples.map((x) => x.ms));
        const rssMax = max([...p.rss.values()].map((v) => max(v)));
        return [
          p.name,
          String(p.samples.length),
          rps(p).toFixed(1),
          base ? `${(rps(p) / rps(base)).toFixed(2)}×` : '',
          ms(all.p50),
          ms(all.p99),
          ms(summarize(p.lookups).p99),
          ms(summarize(p.verifies.map((v) => v.updatedAt - v.answeredAt)).p99),
          String(p.bypasses.length),
          String(p.errors.length),
          mb(rssMax),
        ];
      }),
    ),
  );
  const kinds = [...new Set(phases.flatMap((p) => p.samples.map((x) => x.kind)))];
  console.log('\nHTTP response time by request kind, p99 (count)\n');
  console.log(
    table(
      ['phase', ...kinds],
      phases.map((p) => [
        p.name,
        ...kinds.map((k) => {
          const xs = p.samples.filter((x) => x.kind === k).map((x) => x.ms);
          return xs.length ? `${ms(summarize(xs).p99)} (${xs.length})` : '—';
        }),
      ]),
    ),
  );
  for (const p of phases) if (p.errors.length) console.log(`first flow error (${p.name}): ${p.errors[0]}`);
}

function printStartup(
  procs: InstanceProcess[],
  rest: Map<string, number>,
  phases: PhaseResult[],
  stopMs: number[],
  survivors: InstanceProcess[],
  startups: StartupRow[],
) {
  console.log('\nStart-up, idle, one at a time (the second start of each runner has warm caches)\n');
  console.log(
    table(
      ['runner', 'ready after spawn (1st, 2nd)', 'RSS at rest (1st, 2nd)'],
      (['compiled', 'tsx'] as const).map((runner) => {
        const rows = startups.filter((x) => x.runner === runner);
        return [
          runner === 'compiled'
            ? 'node dist/src/app/main.js (npm run start:compiled)'
            : 'node --import tsx src/app/main.ts (npm start)',
          rows.map((x) => `${x.readyMs.toFixed(0)} ms`).join(', '),
          rows.map((x) => mb(x.restMb)).join(', '),
        ];
      }),
    ),
  );
  console.log(
    `\nStart-up and memory per instance under load (${RUNNER}${NODE_FLAGS.length ? ` with ${NODE_FLAGS.join(' ')}` : ''}; goal: ready < ${READY_GOAL_MS} ms on an external PostgreSQL, RSS < ${RSS_GOAL_MB} MB under load)\n`,
  );
  console.log(
    table(
      ['instance', 'ready after spawn', 'RSS at rest', 'RSS max under load', 'RSS mean under load', 'SIGTERM → exit'],
      procs.map((p) => {
        const under = phases.flatMap((ph) => ph.rss.get(p.label) ?? []);
        const i = survivors.indexOf(p);
        return [
          p.label,
          `${p.readyMs.toFixed(0)} ms${p.readyMs < READY_GOAL_MS ? '' : ' (over goal)'}`,
          mb(rest.get(p.label) ?? Number.NaN),
          `${mb(max(under))}${max(under) < RSS_GOAL_MB ? '' : ' (over goal)'}`,
          mb(mean(under)),
          i >= 0 ? `${stopMs[i]!.toFixed(0)} ms` : 'killed',
        ];
      }),
    ),
  );
}

function printKill(k: KillReport) {
  console.log(
    `\nSIGKILL of ${k.victim || '(no instance)'} while it ran the directory sync, mid-load: ${k.leased.length} jobs leased to it` +
      ` (lease ${DEFAULT_LEASE_MS / 1000} s, renewed every ${DEFAULT_LEASE_MS / 3000} s)\n`,
  );
  if (!k.leased.length) return;
  console.log(
    table(
      ['job', 'kind', 'lease left at the kill', 'taken over after', 'by', 'within the lease'],
      k.leased.map((j) => [
        String(j.id),
        j.kind,
        `${(j.lockedForMs / 1000).toFixed(1)} s`,
        j.takenOverAfterMs === undefined ? 'not taken over' : `${(j.takenOverAfterMs / 1000).toFixed(1)} s`,
        j.by ?? '—',
        j.takenOverAfterMs !== undefined && j.takenOverAfterMs <= DEFAULT_LEASE_MS + 1_000 ? 'yes' : 'NO',
      ]),
    ),
  );
}

interface Check {
  what: string;
  expected: string;
  found: string;
  ok: boolean;
}

async function printReconciliation(s: Setup, phases: PhaseResult[], kill: KillReport, procs: InstanceProcess[]) {
  const checks: Check[] = [];
  const check = (what: string, expected: number | string, found: number | string, ok = expected === found) =>
    checks.push({ what, expected: String(expected), found: String(found), ok });
  const victimPid = procs.find((p) => p.label === kill.victim)?.pid;
  const simLog = s.duo.requests();
  const verifies = phases.flatMap((p) => p.verifies);

  // Jobs
  const jobs = await q<{ kind: string; status: string; attempts: number; last_error: string | null; id: string }>(
    s.db,
    'select id, kind, status, attempts, last_error from job',
  );
  const takenOver = new Set(kill.leased.map((j) => j.id));
  check(
    'jobs still running or failed after the load',
    0,
    jobs.filter((j) => j.status !== 'done' && j.status !== 'queued').length,
  );
  check(
    'jobs claimed more than once (other than those taken over from the killed instance)',
    0,
    jobs.filter((j) => j.attempts > 1 && !takenOver.has(Number(j.id))).length,
  );
  // A follow job that ran twice at once would poll one push twice within a few ms (its polls are ≥ 0.5 s apart),
  // and one that ran again after it finished would poll after the poll that saw the answer.
  const pollsByPush = new Map<string, number[]>();
  const pollIndexes = new Map<string, number[]>();
  simLog.forEach((r, i) => {
    if (r.method === 'GET' && r.path.endsWith('/verification_push_response')) {
      const id = String(r.params.push_id);
      pollsByPush.set(id, [...(pollsByPush.get(id) ?? []), r.at.getTime()]);
      pollIndexes.set(id, [...(pollIndexes.get(id) ?? []), i]);
    }
  });
  let closePolls = 0;
  let pollsAfterFinal = 0;
  for (const [, times] of pollsByPush) {
    times.sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++) if (times[i]! - times[i - 1]! < 250) closePolls++;
  }
  for (const v of verifies) {
    // Polls logged after the answer was given, by the log's order (a poll in the same millisecond before the answer
    // saw it unanswered and is not one of them).
    const after = (pollIndexes.get(v.pushId) ?? []).filter((i) => i >= v.answeredAtRequest);
    if (after.length > 1) pollsAfterFinal += after.length - 1;
  }
  check('polls of one push less than 250 ms apart (a follow job running twice at once)', 0, closePolls);
  check('polls of a push after the poll that saw the answer (a finished follow job run again)', 0, pollsAfterFinal);
  const finalUpdates = verifies.map(
    (v) =>
      s.slack.calls.filter((c) => {
        const a = c.args as Record<string, unknown>;
        return (
          c.method === 'chat.update' &&
          a.channel === v.dm.channel &&
          a.ts === v.dm.ts &&
          JSON.stringify(a.blocks ?? []).includes('approved')
        );
      }).length,
  );
  check(
    'verifications whose DM got its final update other than exactly once',
    0,
    finalUpdates.filter((n) => n !== 1).length,
  );

  // Audit events: every event has its outbox row; each posted row is in the channel once; nothing posted twice.
  const [events] = await q<{ n: string }>(s.db, 'select count(*) as n from audit_event');
  const [unmirrored] = await q<{ n: string }>(
    s.db,
    'select count(*) as n from audit_event e where not exists (select 1 from audit_outbox o where o.event_id = e.id)',
  );
  const outbox = await q<{ event_id: string; status: string }>(s.db, 'select event_id, status from audit_outbox');
  const channelIds = s.slack
    .messages(LOCAL_CHANNELS.audit)
    .filter((m) => !m.deleted)
    .map((m) => Number((m.metadata as { event_payload?: { event_id?: unknown } } | undefined)?.event_payload?.event_id))
    .filter((id) => Number.isFinite(id));
  const inChannel = new Map<number, number>();
  for (const id of channelIds) inChannel.set(id, (inChannel.get(id) ?? 0) + 1);
  const posted = outbox.filter((o) => o.status === 'posted').map((o) => Number(o.event_id));
  const waiting = outbox.filter((o) => o.status === 'pending' || o.status === 'sending').length;
  check('audit events without an outbox row (lost to the channel)', 0, Number(unmirrored!.n));
  check('audit events posted to the channel more than once', 0, [...inChannel.values()].filter((n) => n > 1).length);
  check('outbox rows marked posted but not in the channel', 0, posted.filter((id) => !inChannel.has(id)).length);
  check(
    'channel posts whose outbox row is not marked posted (will be found by event id before any repost)',
    0,
    [...inChannel.keys()].filter((id) => !posted.includes(id)).length,
    true,
  );
  const [openIntents] = await q<{ n: string }>(
    s.db,
    `select count(*) as n from audit_event i where i.phase = 'intent'
       and not exists (select 1 from audit_event o where o.intent_id = i.id)`,
  );

  // Duo mutations, from the simulator's log.
  const pushesSent = simLog.filter(
    (r) => r.method === 'POST' && r.path.endsWith('/send_verification_push') && r.status === 200,
  ).length;
  const [vrows] = await q<{ n: string; pushes: string }>(
    s.db,
    'select count(*) as n, count(distinct push_id) as pushes from verification',
  );
  // A push sent by the killed instance just before it died has its intent in the audit trail but no verification row.
  const [cut] = await q<{ n: string }>(
    s.db,
    `select count(*) as n from audit_event i where i.action = 'verification.sent' and i.phase = 'intent'
       and not exists (select 1 from audit_event o where o.intent_id = i.id and o.outcome <> 'unknown')`,
  );
  check(
    'verification pushes sent by Duo vs verifications recorded, plus sends cut off by the kill (intent without outcome, or unknown)',
    Number(vrows!.n) + Number(cut!.n),
    pushesSent,
  );
  check('verifications sharing a push', 0, Number(vrows!.n) - Number(vrows!.pushes));
  const creates = simLog.filter((r) => r.method === 'POST' && r.path.endsWith('/bypass_codes') && r.status === 200);
  const requests = await q<{ status: string; duo_user_id: string }>(
    s.db,
    "select state as status, target_duo_user_id as duo_user_id from approval_request where kind = 'bypass_codes'",
  );
  const issued = requests.filter((r) => r.status === 'done');
  check('bypass code creations in Duo vs requests issued (one each)', issued.length, creates.length);
  const perUser = new Map<string, number>();
  for (const c of creates) {
    const id = /\/users\/([^/]+)\/bypass_codes$/.exec(c.path)?.[1] ?? '';
    perUser.set(id, (perUser.get(id) ?? 0) + 1);
  }
  check(
    'users with more code creations than issued requests',
    0,
    [...perUser].filter(([id, n]) => n > issued.filter((r) => r.duo_user_id === id).length).length,
  );
  const flowsIssued = phases.reduce((n, p) => n + p.bypasses.length, 0);
  const statusCounts = [...new Set(requests.map((r) => r.status))]
    .map((st) => `${st} ${requests.filter((r) => r.status === st).length}`)
    .join(', ');

  console.log('\nReconciliation (from the simulator’s request log, the test bed’s calls and messages, the database)\n');
  console.log(
    table(
      ['check', 'expected', 'found', ''],
      checks.map((c) => [c.what, c.expected, c.found, c.ok ? 'ok' : 'FAILED']),
    ),
  );
  console.log(
    `\ntotals: ${events!.n} audit events (${posted.length} posted, ${waiting} still waiting for the channel at ~1 post/s,` +
      ` ${openIntents!.n} intents without an outcome yet: the reconciler closes them as "unknown" after 2 minutes);` +
      ` ${verifies.length} verifications answered and shown; ${pushesSent} pushes; bypass requests ${statusCounts || 'none'}` +
      ` (${flowsIssued} flows saw their codes delivered); ${creates.length} code creations;` +
      ` ${phases.reduce((n, p) => n + p.lookups.length, 0)} lookup cards;` +
      ` jobs: ${jobs.length} (${kill.leased.length} taken over from ${kill.victim || 'nobody'}${victimPid ? `, pid ${victimPid}` : ''})`,
  );
  console.log(
    checks.every((c) => c.ok) ? 'all checks passed' : `${checks.filter((c) => !c.ok).length} checks FAILED (see above)`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runScaleBench();
