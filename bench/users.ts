/**
 * Users overview benchmark: `/duo users` (the seed's six counts) and a filter's first page, end to end through
 * signed Slack requests, over a directory of 100,000 generated Duo users indexed from the simulator; side by side in
 * the same run with the baseline a console without the index would need: a full listing from Duo
 * (GET /admin/v1/users, 300 per page, signed, over HTTP to the simulator, no pacing) and the counts computed from it.
 * It checks that both give the same six counts.
 *
 *   TEST_DATABASE_URL=postgresql://… npx tsx bench/run.ts users      (or: npx tsx bench/users.ts)
 *
 * Options (env): BENCH_USERS (default 100000), BENCH_OVERVIEWS (default 40), BENCH_LISTINGS (default 3).
 * The overview's target is an answer (the counts at the fake Slack) in under 1 s; the bench says whether it met it.
 */
import { pathToFileURL } from 'node:url';
import { generateDirectory } from '@duo-desk/duo-sim';
import { inFilter, USER_FILTERS, type UserFilter } from '../src/domain/users-overview.js';
import { DuoAdminClient } from '../src/duo/client.js';
import type { User } from '../src/duo/types.js';
import { syncDirectory } from '../src/usecases/directory-index.js';
import { countUsers, type UserCounts } from '../src/usecases/users-overview.js';
import {
  type BenchApp,
  loadLine,
  ms,
  PEOPLE,
  postSigned,
  ratio,
  slashCommandBody,
  startBenchApp,
  summarize,
  table,
} from './support.js';

const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const OVERVIEWS = Number(process.env.BENCH_OVERVIEWS ?? 40);
const LISTINGS = Number(process.env.BENCH_LISTINGS ?? 3);
const TARGET_MS = 1_000;
const REPLY_TIMEOUT_MS = 30_000;

/** Waits for the response_url post of one command (polls the fake's call log). */
async function replyOf(app: BenchApp, responseUrlId: string, from: number): Promise<{ at: number; args: unknown }> {
  const deadline = performance.now() + REPLY_TIMEOUT_MS;
  let cursor = from;
  for (;;) {
    const calls = app.slack.calls;
    for (; cursor < calls.length; cursor++) {
      const c = calls[cursor]!;
      if (
        c.method === 'response_url' &&
        String((c.args as { response_url_id?: unknown }).response_url_id) === responseUrlId
      )
        return { at: performance.now(), args: c.args };
    }
    if (performance.now() > deadline) throw new Error(`no reply within ${REPLY_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function command(
  app: BenchApp,
  text: string,
  expect: string,
): Promise<{ ackMs: number; replyMs: number; args: unknown }> {
  const from = app.slack.calls.length;
  const { body, responseUrlId } = slashCommandBody(app.slack, PEOPLE.helpDesk, text);
  const sent = performance.now();
  const res = await postSigned(app.eventsUrl, app.signingSecret, body);
  if (res.status !== 200) throw new Error(`ack: HTTP ${res.status} ${res.text.slice(0, 200)}`);
  const reply = await replyOf(app, responseUrlId, from);
  if (!JSON.stringify(reply.args).includes(expect))
    throw new Error(`unexpected reply to ${text}: ${JSON.stringify(reply.args).slice(0, 300)}`);
  return { ackMs: res.ms, replyMs: reply.at - sent, args: reply.args };
}

const factsOf = (u: User) => ({
  status: u.status,
  isEnrolled: u.is_enrolled ?? null,
  lastLogin: u.last_login ? new Date(u.last_login * 1000) : null,
  created: u.created ? new Date(u.created * 1000) : null,
});

/** The baseline: every user from Duo, paged, then the six counts in memory. */
async function fullListing(
  duo: DuoAdminClient,
  now: Date,
): Promise<{ ms: number; pages: number; users: number; counts: UserCounts }> {
  const started = performance.now();
  const counts = Object.fromEntries(USER_FILTERS.map((f) => [f, 0])) as UserCounts;
  let pages = 0;
  let users = 0;
  for await (const page of duo.iterateUsers({ pageSize: 300 })) {
    pages++;
    users += page.length;
    for (const u of page) for (const f of USER_FILTERS) if (inFilter(f, factsOf(u), now)) counts[f]++;
  }
  return { ms: performance.now() - started, pages, users, counts };
}

export async function runUsersBench(): Promise<void> {
  const started = performance.now();
  const directory = generateDirectory(USERS, 42);
  // The generator puts no one in the Trash: send every 250th user there, as a retention policy would.
  for (let i = 0; i < directory.length; i += 250) directory[i]!.status = 'pending deletion';
  // Its logins end in 2025: let every fourth enrolled user have logged in during the last 29 days.
  const nowSec = Math.floor(Date.now() / 1000);
  for (let i = 1; i < directory.length; i += 4)
    if (directory[i]!.last_login !== null) directory[i]!.last_login = nowSec - (i % 29) * 86_400 - 60;
  const app = await startBenchApp({ directory, startJobs: false });
  try {
    console.log(
      `users: ${app.dbWhere}; ${USERS.toLocaleString('en-US')} users in the simulator; setup ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const duo = new DuoAdminClient({ ikey: app.duo.ikey, skey: app.duo.skey, host: app.duo.url });

    // The index, as the hourly pass builds it (here unpaced).
    let t = performance.now();
    const sync = await syncDirectory(app.runtime.deps.duo, app.runtime.db.em.fork(), {
      clock: app.runtime.deps.clock,
      logger: app.runtime.deps.logger,
      pageDelayMs: 0,
    });
    const syncMs = performance.now() - t;
    await app.runtime.db.em.getConnection().execute('analyze directory_entry');
    console.log(
      `index built by one unpaced full pass: ${sync.users.toLocaleString('en-US')} users, ${sync.pages} pages in ${(syncMs / 1000).toFixed(1)} s` +
        ` (production paces it at 2 pages/s: ~${Math.ceil(sync.pages / 2 / 60)} min, hourly)`,
    );

    // Warm-up, and the counts must agree.
    const now = app.runtime.deps.clock.now();
    const fromIndex = await countUsers(app.runtime.db.em.fork(), now);
    await command(app, 'users', 'Duo users');
    await command(app, 'users locked_out', 'Locked out');

    const overview: number[] = [];
    const overviewAck: number[] = [];
    const page: number[] = [];
    const sql: number[] = [];
    const listings: Array<Awaited<ReturnType<typeof fullListing>>> = [];
    const listingEvery = Math.max(1, Math.floor(OVERVIEWS / LISTINGS));
    for (let i = 0; i < OVERVIEWS; i++) {
      const o = await command(app, 'users', 'Duo users');
      overview.push(o.replyMs);
      overviewAck.push(o.ackMs);
      const p = await command(app, i % 2 ? 'users inactive' : 'users locked_out', 'users; 20 on this page');
      page.push(p.replyMs);
      t = performance.now();
      await countUsers(app.runtime.db.em.fork(), now);
      sql.push(performance.now() - t);
      // The baseline interleaved with the overviews, so both see the same machine load.
      if (i % listingEvery === 0 && listings.length < LISTINGS) listings.push(await fullListing(duo, now));
    }
    const listed = listings[0]!;
    const mismatched = (Object.keys(listed.counts) as UserFilter[]).filter(
      (f) => listed.counts[f] !== fromIndex.counts[f],
    );

    const [o, oa, pg, q, l] = [
      summarize(overview),
      summarize(overviewAck),
      summarize(page),
      summarize(sql),
      summarize(listings.map((x) => x.ms)),
    ];
    console.log(
      `\n${OVERVIEWS} overviews and ${OVERVIEWS} first pages (help-desk agent, one at a time), ${listings.length} full listings from the simulator` +
        ` (${listed.pages} pages of 300, ${listed.users.toLocaleString('en-US')} users)\n`,
    );
    const row = (label: string, s: ReturnType<typeof summarize>) => [
      label,
      String(s.n),
      ms(s.p50),
      ms(s.p99),
      ms(s.max),
      ms(s.mean),
    ];
    console.log(
      table(
        ['', 'n', 'p50', 'p99', 'max', 'mean'],
        [
          row('/duo users: ack (HTTP response)', oa),
          row('/duo users: counts at fake Slack', o),
          row('/duo users <filter>: first page', pg),
          row('counts query alone (countUsers)', q),
          row('baseline: full listing from Duo + counts', l),
          [
            'ratio listing / overview',
            '',
            ratio(l.p50, o.p50),
            ratio(l.p99, o.p99),
            ratio(l.max, o.max),
            ratio(l.mean, o.mean),
          ],
        ],
      ),
    );
    console.log('\ncounts           index      full listing');
    for (const f of USER_FILTERS)
      console.log(
        `  ${f.padEnd(13)} ${String(fromIndex.counts[f]).padStart(8)}   ${String(listed.counts[f]).padStart(8)}`,
      );
    console.log(
      mismatched.length
        ? `COUNTS DIFFER: ${mismatched.join(', ')}`
        : 'counts: the index and the full listing agree on all six',
    );
    console.log(
      o.max < TARGET_MS
        ? `target met: every overview answered in under ${TARGET_MS} ms (max ${ms(o.max)})`
        : `TARGET MISSED: slowest overview ${ms(o.max)} (target ${TARGET_MS} ms)`,
    );
    console.log(
      `${loadLine()}\napp log: ${app.logStats.lines} lines (${app.logStats.warnings} warnings, ${app.logStats.errors} errors);` +
        ` total ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    if (mismatched.length) throw new Error(`the overview's counts differ from Duo's listing: ${mismatched.join(', ')}`);
    if (o.max >= TARGET_MS) throw new Error(`the overview took ${ms(o.max)}, over ${TARGET_MS} ms`);
  } finally {
    await app.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runUsersBench();
