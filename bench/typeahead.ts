/**
 * Typeahead benchmark: indexes 100,000 generated Duo users, then times ~2,000 typeahead queries of 1–4
 * characters through searchDirectory (the term index) next to a naive baseline in the same run.
 *
 *   npx tsx bench/typeahead.ts                      embedded PGlite (in memory)
 *   TEST_DATABASE_URL=postgres://… npx tsx bench/typeahead.ts
 *                                                   a real server: runs in a scratch database it creates and drops
 *
 * The baseline runs on every other query (it is the slow part) and is compared with searchDirectory on that subset.
 * Options (env): BENCH_USERS (default 100000), BENCH_QUERIES (default 2000).
 * A benchmark someone runs, not a test: it asserts nothing.
 */

import { generateDirectory, prng } from '@duo-desk/duo-sim';
import { type Database, type EntityManager, openDatabase } from '../src/db/database.js';
import { createScratchDatabase } from '../src/db/scratch.js';
import {
  escapeLike,
  explainSearch,
  indexUsers,
  SEARCH_WINDOW,
  searchDirectory,
} from '../src/usecases/directory-index.js';

const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 2_000);
const BATCH = 1_000;

/** A scratch database on the given server, or the embedded one in memory. */
async function openBenchDatabase(): Promise<{ db: Database; where: string; dispose(): Promise<void> }> {
  const serverUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (!serverUrl) {
    const db = await openDatabase({ inMemory: true });
    return { db, where: 'embedded PGlite (in memory)', dispose: () => db.close() };
  }
  const db = await createScratchDatabase(serverUrl, 'duodesk_bench');
  return { db, where: 'PostgreSQL server (scratch database)', dispose: () => db.drop() };
}

/** The query a naive implementation would run: three leading-anchored LIKEs over the entry table. */
async function baselineSearch(em: EntityManager, query: string): Promise<unknown[]> {
  const pattern = `${escapeLike(query.toLowerCase())}%`;
  return em.getConnection().execute(
    `select duo_user_id, username, realname, email, status from directory_entry
     where lower(username) like ? or lower(email) like ? or lower(realname) like ? limit 20`,
    [pattern, pattern, pattern],
  );
}

const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1]!, mean: s.reduce((a, b) => a + b, 0) / s.length };
}

async function main() {
  const started = performance.now();
  const { db, where, dispose } = await openBenchDatabase();
  try {
    console.log(`typeahead bench on ${where}; node ${process.version}`);

    let t = performance.now();
    const users = generateDirectory(USERS, 42);
    console.log(`generated ${USERS.toLocaleString('en-US')} users in ${fmt(performance.now() - t)}`);

    // 1. Fresh index: every user new, every term written.
    const now = new Date();
    t = performance.now();
    for (let i = 0; i < users.length; i += BATCH) await indexUsers(db.em.fork(), users.slice(i, i + BATCH), now);
    const freshMs = performance.now() - t;
    const conn = db.em.getConnection();
    const [{ n: terms }] = (await conn.execute('select count(*)::int as n from directory_term')) as [{ n: number }];
    console.log(
      `indexed ${USERS.toLocaleString('en-US')} users (${terms.toLocaleString('en-US')} terms) in ${(freshMs / 1000).toFixed(1)} s` +
        ` — ${Math.round(USERS / (freshMs / 1000)).toLocaleString('en-US')} users/s, batches of ${BATCH}`,
    );

    // 2. Steady state (an hourly pass where nothing changed): entries upserted, no terms rewritten.
    const later = new Date(now.getTime() + 3_600_000);
    t = performance.now();
    let rewritten = 0;
    for (let i = 0; i < users.length; i += BATCH) {
      rewritten += (await indexUsers(db.em.fork(), users.slice(i, i + BATCH), later)).termsRewritten;
    }
    console.log(
      `re-indexed unchanged in ${((performance.now() - t) / 1000).toFixed(1)} s (terms rewritten: ${rewritten})`,
    );
    await conn.execute('analyze directory_entry');
    await conn.execute('analyze directory_term');

    // 3. Query mix: 1–4 leading characters of a real username, first name, last name or email.
    const rnd = prng(7);
    const queries: string[] = [];
    for (let i = 0; i < QUERIES; i++) {
      const u = users[Math.floor(rnd() * users.length)]!;
      const [first = '', last = ''] = u.realname.split(' ');
      const sources = [u.username, first, last, u.email || u.username];
      const src = sources[Math.floor(rnd() * sources.length)]!;
      const len = 1 + Math.floor(rnd() * 4);
      queries.push(src.slice(0, len).toLowerCase());
    }

    for (const q of queries.slice(0, 50)) {
      await searchDirectory(db.em.fork(), q);
      await baselineSearch(db.em.fork(), q);
    }

    const indexed: number[] = [];
    const naive: number[] = [];
    let hits = 0;
    for (const [i, q] of queries.entries()) {
      // Alternate which goes first, so neither always runs on a warmer cache.
      const runIndexed = async () => {
        const s = performance.now();
        hits += (await searchDirectory(db.em.fork(), q)).length;
        indexed.push(performance.now() - s);
      };
      const runNaive = async () => {
        const s = performance.now();
        await baselineSearch(db.em.fork(), q);
        naive.push(performance.now() - s);
      };
      // The baseline runs on every other query (it is the slow part; this keeps the bench near 2 minutes).
      if (i % 2) await runIndexed();
      else {
        await runNaive();
        await runIndexed();
      }
    }

    const a = stats(indexed);
    const b = stats(naive);
    const paired = stats(indexed.filter((_, i) => i % 2 === 0));
    const byLen = (len: number) => stats(indexed.filter((_, i) => queries[i]!.length === len));
    console.log(
      `\n${QUERIES} queries (1–4 chars), avg ${(hits / QUERIES).toFixed(1)} results each, search window ${SEARCH_WINDOW} terms`,
    );
    console.log(`                      p50        p99        max        mean`);
    const row = (label: string, s: ReturnType<typeof stats>) =>
      console.log(
        `${label.padEnd(20)}${fmt(s.p50).padStart(10)} ${fmt(s.p99).padStart(10)} ${fmt(s.max).padStart(10)} ${fmt(s.mean).padStart(10)}`,
      );
    row('searchDirectory', a);
    row(`  same ${naive.length} as →`, paired);
    row(`naive (${naive.length} q)`, b);
    const ratio = (k: keyof ReturnType<typeof stats>) => `${(b[k] / paired[k]).toFixed(1)}x`.padStart(10);
    console.log(`ratio naive/index   ${ratio('p50')} ${ratio('p99')} ${ratio('max')} ${ratio('mean')}`);
    for (const len of [1, 2, 3, 4]) row(`  index, ${len} char${len > 1 ? 's' : ''}`, byLen(len));
    console.log(
      '(the baseline is not equivalent: it misses aliases and last names, and returns any 20 matches unordered)',
    );

    const plan = await explainSearch(db.em.fork(), 'ada', { analyze: true });
    console.log(`\nplan for 'ada':\n${plan.map((line) => `  ${line}`).join('\n')}`);
    console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await dispose();
  }
}

await main();
