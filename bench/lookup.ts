/**
 * Lookup benchmark: signed `/duo lookup alice` end to end against the Duo simulator. For each lookup it times the
 * ack (the HTTP response: "Looking up…") and the card (until the response_url post reaches the fake Slack, seen
 * by polling the fake's recorded calls every millisecond). As the baseline, in the same run, a DuoAdminClient
 * makes the two Duo calls a lookup makes (users by username, then the user's bypass codes) against the same
 * simulator, so the difference is duo-desk's own overhead (Bolt, database, audit, rendering, response_url).
 *
 *   npm run bench -- lookup          (or: npx tsx bench/run.ts lookup, npx tsx bench/lookup.ts)
 *
 * Options (env): BENCH_LOOKUPS (default 300), BENCH_LOOKUP_WARMUP (default 30), BENCH_LOOKUP_CONCURRENCY
 * (default 4). Rounds alternate which side goes first. A benchmark someone runs: it asserts only that the app
 * really answered with alice's card.
 */
import { pathToFileURL } from 'node:url';
import type { FakeSlack } from '@duo-desk/slack-testbed';
import { DuoAdminClient } from '../src/duo/client.js';
import {
  type BenchApp,
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
  slashCommandBody,
  startBenchApp,
  summarize,
  table,
} from './support.js';

const LOOKUPS = Number(process.env.BENCH_LOOKUPS ?? 300);
const WARMUP = Number(process.env.BENCH_LOOKUP_WARMUP ?? 30);
const CONCURRENCY = Number(process.env.BENCH_LOOKUP_CONCURRENCY ?? 4);
const ROUNDS = 4;
const CARD_TIMEOUT_MS = 10_000;
const USERNAME = 'alice';

/**
 * Resolves when the fake Slack records a response_url post for a given response_url id. One poller scans the
 * fake's call log from where it stopped, every millisecond while anyone waits.
 */
class CardWatcher {
  private cursor: number;
  private readonly waiting = new Map<string, (call: { at: number; args: unknown }) => void>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly slack: FakeSlack) {
    this.cursor = slack.calls.length;
  }

  wait(responseUrlId: string): Promise<{ at: number; args: unknown }> {
    return new Promise((resolve, reject) => {
      const timeout = setTimeout(() => {
        this.waiting.delete(responseUrlId);
        reject(new Error(`no response_url post within ${CARD_TIMEOUT_MS} ms`));
      }, CARD_TIMEOUT_MS);
      this.waiting.set(responseUrlId, (hit) => {
        clearTimeout(timeout);
        resolve(hit);
      });
      this.timer ??= setTimeout(() => this.poll(), 1);
    });
  }

  private poll() {
    this.timer = undefined;
    const calls = this.slack.calls;
    const now = performance.now();
    for (; this.cursor < calls.length; this.cursor++) {
      const call = calls[this.cursor]!;
      if (call.method !== 'response_url') continue;
      const id = String((call.args as { response_url_id?: unknown }).response_url_id);
      const done = this.waiting.get(id);
      if (!done) continue;
      this.waiting.delete(id);
      done({ at: now, args: call.args });
    }
    if (this.waiting.size) this.timer = setTimeout(() => this.poll(), 1);
  }
}

interface LookupSample {
  ackMs: number;
  cardMs: number;
}

async function lookupOnce(app: BenchApp, cards: CardWatcher): Promise<LookupSample & { card: unknown }> {
  const { body, responseUrlId } = slashCommandBody(app.slack, PEOPLE.helpDesk, `lookup ${USERNAME}`);
  const arrived = cards.wait(responseUrlId);
  // Keep a rejection (timeout) from being unhandled while the ack is awaited.
  arrived.catch(() => {});
  const sent = performance.now();
  const res = await postSigned(app.eventsUrl, app.signingSecret, body);
  if (res.status !== 200 || !res.text.includes('Looking up'))
    throw new Error(`ack: HTTP ${res.status} ${res.text.slice(0, 200)}`);
  const card = await arrived;
  return { ackMs: res.ms, cardMs: card.at - sent, card: card.args };
}

export async function runLookupBench(): Promise<void> {
  const started = performance.now();
  const app = await startBenchApp();
  try {
    console.log(`lookup: ${app.dbWhere}; setup ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const duo = new DuoAdminClient({ ikey: app.duo.ikey, skey: app.duo.skey, host: app.duo.url });
    const cards = new CardWatcher(app.slack);

    // The card must be alice's real card, not an error message.
    const first = await lookupOnce(app, cards);
    const cardJson = JSON.stringify(first.card);
    if (!cardJson.includes(USERNAME) || !cardJson.includes('"blocks"') || !cardJson.includes('Verify with Duo Push'))
      throw new Error(`duo-desk did not answer with ${USERNAME}'s card: ${cardJson.slice(0, 400)}`);
    const [direct] = await duo.getUsersByUsername(USERNAME);
    if (!direct) throw new Error(`the simulator has no user ${USERNAME}`);

    const acks: number[] = [];
    const cardTimes: number[] = [];
    const viaApp = async () => {
      const s = await lookupOnce(app, cards);
      acks.push(s.ackMs);
      cardTimes.push(s.cardMs);
      return s.cardMs;
    };
    const viaClient = async () => {
      const s = performance.now();
      const users = await duo.getUsersByUsername(USERNAME);
      if (users.length !== 1) throw new Error(`expected one ${USERNAME}, got ${users.length}`);
      await duo.getUserBypassCodes(users[0]!.user_id);
      return performance.now() - s;
    };

    const sides = [viaApp, viaClient];
    const warmupDeadline = performance.now() + BUDGET.warmupMs;
    for (const one of [...sides, ...sides])
      await runLoad({ total: Math.ceil(WARMUP / 2), concurrency: CONCURRENCY, deadline: warmupDeadline, one });
    acks.length = 0;
    cardTimes.length = 0;

    const results = new Map<unknown, LoadResult[]>(sides.map((s) => [s, []]));
    const perRound = Math.ceil(LOOKUPS / ROUNDS);
    const measureEnd = performance.now() + BUDGET.measureMs;
    const deadline = measureEnd + BUDGET.hardStopMs;
    let rounds = 0;
    for (; rounds < ROUNDS && (rounds === 0 || performance.now() < measureEnd); rounds++) {
      const round = rounds;
      for (const one of round % 2 ? [...sides].reverse() : sides)
        results.get(one)!.push(await runLoad({ total: perRound, concurrency: CONCURRENCY, deadline, one }));
    }
    const desk = mergeLoads(results.get(viaApp)!);
    const base = mergeLoads(results.get(viaClient)!);
    const [a, c, b] = [summarize(acks), summarize(cardTimes), summarize(base.samples)];
    const rps = (r: LoadResult) => r.samples.length / (r.elapsedMs / 1000);

    console.log(
      `\n${perRound * rounds} lookups of ${USERNAME} per side after ${WARMUP} warm-up, concurrency ${CONCURRENCY},` +
        ` ${rounds} of ${ROUNDS} alternating rounds (time budget ${BUDGET.measureMs / 1000} s; card: seen by a 1 ms poll of the fake's call log)\n` +
        '(cpu: the whole process, client, fake Slack, simulator and database included; 100% = one core)\n',
    );
    console.log(
      table(
        ['', 'ok', 'errors', 'per s', 'p50', 'p99', 'max', 'mean', 'cpu/op', 'cpu busy'],
        [
          ['duo-desk ack (HTTP response)', String(a.n), '', '', ms(a.p50), ms(a.p99), ms(a.max), ms(a.mean), '', ''],
          [
            'duo-desk card at fake Slack',
            String(c.n),
            String(desk.errors),
            rps(desk).toFixed(0),
            ms(c.p50),
            ms(c.p99),
            ms(c.max),
            ms(c.mean),
            ...cpuColumns(desk),
          ],
          [
            'direct DuoAdminClient (2 calls)',
            String(b.n),
            String(base.errors),
            rps(base).toFixed(0),
            ms(b.p50),
            ms(b.p99),
            ms(b.max),
            ms(b.mean),
            ...cpuColumns(base),
          ],
          [
            'ratio card / direct',
            '',
            '',
            ratio(rps(desk), rps(base)),
            ratio(c.p50, b.p50),
            ratio(c.p99, b.p99),
            ratio(c.max, b.max),
            ratio(c.mean, b.mean),
            ratio(desk.cpuMs / c.n, base.cpuMs / b.n),
            '',
          ],
          ['overhead card − direct', '', '', '', ms(c.p50 - b.p50), ms(c.p99 - b.p99), '', ms(c.mean - b.mean), '', ''],
        ],
      ),
    );
    for (const [label, r] of [
      ['duo-desk', desk],
      ['direct client', base],
    ] as const) {
      if (r.firstError) console.log(`first error (${label}): ${r.firstError}`);
      if (r.skipped) console.log(`${label}: ${r.skipped} lookups not started (time budget reached)`);
    }
    console.log(
      `${loadLine()}\napp log: ${app.logStats.lines} lines (${app.logStats.warnings} warnings, ${app.logStats.errors} errors);` +
        ` total ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  } finally {
    await app.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runLookupBench();
