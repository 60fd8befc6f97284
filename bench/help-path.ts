/**
 * Help-path benchmark: signed `/duo help` requests through the whole app (Bolt's signature check, the request
 * middleware's responder lookup, the `command.used` audit record, the help message in the ack body) next to a
 * bare Bolt app whose `/duo` only acks, in the same process and the same run.
 *
 *   npm run bench -- help            (or: npx tsx bench/run.ts help, npx tsx bench/help-path.ts)
 *
 * Options (env): BENCH_HELP_REQUESTS (default 2000), BENCH_HELP_WARMUP (default 200),
 * BENCH_HELP_CONCURRENCY (default 8). The measured requests are split into rounds that alternate which app goes
 * first, so neither always runs on a warmer (or more tired) process. A benchmark someone runs: it asserts nothing
 * beyond checking that the app really answered with the help message.
 */
import { pathToFileURL } from 'node:url';
import {
  BUDGET,
  cpuColumns,
  type LoadResult,
  loadLine,
  mergeLoads,
  ms,
  PEOPLE,
  postSigned,
  ratio,
  runLoad,
  type SignedTarget,
  slashCommandBody,
  startBareBoltApp,
  startBenchApp,
  summarize,
  table,
} from './support.js';

const REQUESTS = Number(process.env.BENCH_HELP_REQUESTS ?? 2_000);
const WARMUP = Number(process.env.BENCH_HELP_WARMUP ?? 200);
const CONCURRENCY = Number(process.env.BENCH_HELP_CONCURRENCY ?? 8);
const ROUNDS = 4;

export async function runHelpPathBench(): Promise<void> {
  const started = performance.now();
  const app = await startBenchApp();
  try {
    const bare = await startBareBoltApp(app.slack, app.signingSecret);
    try {
      console.log(`help path: ${app.dbWhere}; setup ${((performance.now() - started) / 1000).toFixed(1)} s`);
      const targets: SignedTarget[] = [
        { label: 'duo-desk /duo help', url: app.eventsUrl },
        { label: 'bare Bolt (ack only)', url: bare.eventsUrl },
      ];
      const one = (target: SignedTarget) => async () => {
        const { body } = slashCommandBody(app.slack, PEOPLE.helpDesk, 'help');
        const res = await postSigned(target.url, app.signingSecret, body);
        if (res.status !== 200) throw new Error(`${target.label}: HTTP ${res.status} ${res.text.slice(0, 200)}`);
        return res.ms;
      };

      // The app must answer with the real help message, not a refusal or an error.
      const { body } = slashCommandBody(app.slack, PEOPLE.helpDesk, 'help');
      const check = await postSigned(app.eventsUrl, app.signingSecret, body);
      if (check.status !== 200 || !check.text.includes('"blocks"') || !check.text.includes('lookup <username'))
        throw new Error(`duo-desk did not answer /duo help as expected: ${check.status} ${check.text.slice(0, 300)}`);

      const warmupDeadline = performance.now() + BUDGET.warmupMs;
      for (const target of [...targets, ...targets])
        await runLoad({
          total: Math.ceil(WARMUP / 2),
          concurrency: CONCURRENCY,
          deadline: warmupDeadline,
          one: one(target),
        });

      const results = new Map<SignedTarget, LoadResult[]>(targets.map((t) => [t, []]));
      const perRound = Math.ceil(REQUESTS / ROUNDS);
      const measureEnd = performance.now() + BUDGET.measureMs;
      const deadline = measureEnd + BUDGET.hardStopMs;
      let rounds = 0;
      for (; rounds < ROUNDS && (rounds === 0 || performance.now() < measureEnd); rounds++) {
        const round = rounds;
        const order = round % 2 ? [...targets].reverse() : targets;
        for (const target of order)
          results
            .get(target)!
            .push(await runLoad({ total: perRound, concurrency: CONCURRENCY, deadline, one: one(target) }));
      }

      const [desk, base] = targets.map((t) => mergeLoads(results.get(t)!)) as [LoadResult, LoadResult];
      const rps = (r: LoadResult) => r.samples.length / (r.elapsedMs / 1000);
      const [d, b] = [summarize(desk.samples), summarize(base.samples)];
      console.log(
        `\n${perRound * rounds} signed /duo help requests per app after ${WARMUP} warm-up, concurrency ${CONCURRENCY},` +
          ` ${rounds} of ${ROUNDS} alternating rounds (time budget ${BUDGET.measureMs / 1000} s), keep-alive fetch from the same process\n` +
          '(cpu: the whole process, client and fakes included; 100% = one core)\n',
      );
      console.log(
        table(
          ['', 'ok', 'errors', 'req/s', 'p50', 'p99', 'max', 'mean', 'cpu/req', 'cpu busy'],
          [
            ...[desk, base].map((r, i) => {
              const s = i === 0 ? d : b;
              return [
                targets[i]!.label,
                String(s.n),
                String(r.errors),
                rps(r).toFixed(0),
                ms(s.p50),
                ms(s.p99),
                ms(s.max),
                ms(s.mean),
                ...cpuColumns(r),
              ];
            }),
            [
              'ratio duo-desk / bare',
              '',
              '',
              ratio(rps(desk), rps(base)),
              ratio(d.p50, b.p50),
              ratio(d.p99, b.p99),
              ratio(d.max, b.max),
              ratio(d.mean, b.mean),
              ratio(desk.cpuMs / desk.samples.length, base.cpuMs / base.samples.length),
              '',
            ],
          ],
        ),
      );
      for (const [i, r] of [desk, base].entries()) {
        if (r.firstError) console.log(`first error (${targets[i]!.label}): ${r.firstError}`);
        if (r.skipped) console.log(`${targets[i]!.label}: ${r.skipped} requests not sent (time budget reached)`);
      }
      console.log(
        `${loadLine()}\napp log: ${app.logStats.lines} lines (${app.logStats.warnings} warnings, ${app.logStats.errors} errors);` +
          ` total ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    } finally {
      await bare.close();
    }
  } finally {
    await app.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runHelpPathBench();
