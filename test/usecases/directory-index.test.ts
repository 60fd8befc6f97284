import { type DuoSimulator, generateDirectory, startDuoSimulator } from '@duo-desk/duo-sim';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { Database } from '../../src/db/database.js';
import { DuoAdminClient } from '../../src/duo/client.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { createMemoryLogger } from '../../src/log.js';
import {
  createDirectorySyncJob,
  DIRECTORY_SYNC_JOB,
  directoryTerms,
  explainSearch,
  indexUsers,
  refreshDirectoryUser,
  removeDirectoryUser,
  SEARCH_WINDOW,
  searchDirectory,
  syncDirectory,
} from '../../src/usecases/directory-index.js';
import { freshDatabase } from '../support/db.js';

let db: Database & { drop(): Promise<void> };
let sim: DuoSimulator;
let duo: DuoAdminClient;
const clock = new ManualClock(Date.UTC(2026, 10, 28, 12, 0, 0));
const logger = createMemoryLogger('info');

const clientFor = (s: DuoSimulator) =>
  new DuoAdminClient({ ikey: s.ikey, skey: s.skey, host: s.url, sleep: async () => {} });

/** A full pass with no pacing; the clock moves first, as it does between real passes. */
async function sync(client = duo, pageSize?: number) {
  clock.advance(60_000);
  return syncDirectory(client, db.em.fork(), {
    clock,
    logger,
    pageDelayMs: 0,
    ...(pageSize ? { pageSize } : {}),
  });
}

const search = async (q: string, limit?: number) => searchDirectory(db.em.fork(), q, limit);
const usernames = async (q: string, limit?: number) => (await search(q, limit)).map((h) => h.username);

async function count(table: 'directory_entry' | 'directory_term'): Promise<number> {
  const [row] = await db.em.getConnection().execute(`select count(*)::int as n from ${table}`);
  return (row as { n: number }).n;
}

beforeAll(async () => {
  db = await freshDatabase();
  sim = await startDuoSimulator({ directory: 'demo' });
  duo = clientFor(sim);
});
afterAll(async () => {
  await sim?.close();
  await db?.drop();
});
beforeEach(async () => {
  sim.reset();
  await db.em.getConnection().execute('delete from directory_entry');
});

describe('directory index', () => {
  it('when the demo directory is synced, then users are found by username prefix, alias, email and name word', async () => {
    const result = await sync();
    expect(result.users).toBeGreaterThan(5);
    expect(result.removed).toBe(0);
    expect(await count('directory_entry')).toBe(result.users);

    const [alice] = await search('ali');
    expect(alice).toMatchObject({ username: 'alice', realname: 'Alice Anders', email: 'alice.anders@example.com' });
    expect(alice?.duoUserId).toMatch(/^DU/);
    expect(alice?.status).toBe('active');
    expect(await usernames('aand')).toEqual(['alice']); // alias aanders
    expect(await usernames('bob.brown@ex')).toEqual(['bob']); // email
    expect(await usernames('chen')).toEqual(['carol']); // last word of the real name
    expect(await usernames('carol chen')).toEqual(['carol']); // the full real name
    expect(await usernames('fischer')).toEqual(['frank']);
    expect(await usernames('nobody-here')).toEqual([]);
    expect(await usernames('')).toEqual([]);
    expect(await usernames('   ')).toEqual([]);
  });

  it('when the query differs in case, then the same users come back', async () => {
    await sync();
    expect(await usernames('ALI')).toEqual(['alice']);
    expect(await usernames('Carol CHEN')).toEqual(['carol']);
    expect(await usernames('BoB.BrOwN@EXAMPLE.com')).toEqual(['bob']);
  });

  it('when the query contains LIKE wildcards, then they match literally', async () => {
    sim.addUser({ username: 'pat_ops', realname: 'Pat Ops' });
    sim.addUser({ username: 'patxops', realname: 'Pat X' });
    sim.addUser({ username: 'pct%admin' });
    sim.addUser({ username: 'back\\slash' });
    await sync();
    expect(await usernames('pat_')).toEqual(['pat_ops']);
    expect(await usernames('pat')).toEqual(['pat_ops', 'patxops']);
    expect(await usernames('%')).toEqual([]);
    expect(await usernames('_')).toEqual([]);
    expect(await usernames('pct%')).toEqual(['pct%admin']);
    expect(await usernames('p%')).toEqual([]);
    expect(await usernames('back\\')).toEqual(['back\\slash']);
    expect(await usernames('\\')).toEqual([]);
    expect(await usernames("o'brien")).toEqual([]);
  });

  it('when a username matches exactly, then that user comes first, the rest by username', async () => {
    sim.addUser({ username: 'aaron', realname: 'Bob Aaronson' });
    sim.addUser({ username: 'bobby', realname: 'Robert Bobson' });
    await sync();
    expect(await usernames('bob')).toEqual(['bob', 'aaron', 'bobby']);
    expect(await usernames('bob', 2)).toEqual(['bob', 'aaron']);

    const user = (user_id: string, username: string, realname: string) =>
      ({ user_id, username, realname, email: null, aliases: {}, status: 'active' }) as const;
    await indexUsers(
      db.em.fork(),
      [user('DUUMIT00000000000001', 'Ümit', 'Ümit Yılmaz'), user('DUUMIT00000000000002', 'a.yilmaz', 'Ümit Ali')],
      clock.now(),
    );
    expect(await usernames('ÜMIT')).toEqual(['Ümit', 'a.yilmaz']);
  });

  it('when more users share a term than the search window holds, then the exact username still comes first', async () => {
    const many = Array.from({ length: SEARCH_WINDOW + 50 }, (_, i) => ({
      user_id: `DUSMITH${String(i).padStart(13, '0')}`,
      username: `k.smith${i}`,
      realname: 'Kim Smith',
      email: null,
      aliases: {},
      status: 'active',
    }));
    const smith = { ...many[0]!, user_id: 'DUZZZZZZZZZZZZZZZZZZ', username: 'Smith', realname: 'Pat Jones' };
    await indexUsers(db.em.fork(), [...many, smith], clock.now());
    const hits = await usernames('smith');
    expect(hits).toHaveLength(20);
    expect(hits[0]).toBe('Smith');
    expect(hits.slice(1)).toEqual([...hits.slice(1)].sort());
  });

  it('when a user is deleted in Duo, then it disappears from the index after the next sync', async () => {
    sim.addUser({ username: 'zed', realname: 'Zed Zulu', email: 'zed@example.com' });
    const first = await sync();
    expect(await usernames('zed')).toEqual(['zed']);
    const termsBefore = await count('directory_term');

    sim.reset(); // back to the demo directory: zed no longer exists in Duo
    const second = await sync();
    expect(second.removed).toBe(1);
    expect(second.users).toBe(first.users - 1);
    expect(await usernames('zed')).toEqual([]);
    expect(await usernames('zulu')).toEqual([]);
    expect(await count('directory_entry')).toBe(second.users);
    expect(await count('directory_term')).toBeLessThan(termsBefore); // its terms went with it (cascade)
  });

  it('when a sync finds nothing changed, then no terms are rewritten', async () => {
    const first = await sync();
    expect(first.termsRewritten).toBe(first.users);
    const terms = await count('directory_term');
    const second = await sync();
    expect(second).toMatchObject({ users: first.users, termsRewritten: 0, removed: 0 });
    expect(await count('directory_term')).toBe(terms);
  });

  it('when a lookup returns a changed email, then refreshDirectoryUser replaces the user’s terms', async () => {
    await sync();
    const [bob] = await duo.getUsersByUsername('bob');
    const updated = await duo.updateUser(bob!.user_id, { email: 'robert.builder@example.org' });
    expect(await usernames('bob.brown')).toEqual(['bob']); // stale until refreshed

    const r = await refreshDirectoryUser(db.em.fork(), updated, clock.now());
    expect(r).toEqual({ entries: 1, termsRewritten: 1 });
    expect(await usernames('bob.brown')).toEqual([]);
    expect(await usernames('brown')).toEqual(['bob']); // still a word of the real name
    expect(await usernames('robert.builder@')).toEqual(['bob']);
    expect(await usernames('builder')).toEqual(['bob']);
    expect((await search('bob'))[0]?.email).toBe('robert.builder@example.org');
  });

  it('when removeDirectoryUser runs, then the user and its terms are gone', async () => {
    await sync();
    const [dave] = await search('dave');
    expect(await removeDirectoryUser(db.em.fork(), dave!.duoUserId)).toBe(true);
    expect(await usernames('dave')).toEqual([]);
    expect(await removeDirectoryUser(db.em.fork(), dave!.duoUserId)).toBe(false);
    const [row] = await db.em
      .getConnection()
      .execute(`select count(*)::int as n from directory_term where duo_user_id = ?`, [dave!.duoUserId]);
    expect((row as { n: number }).n).toBe(0);
  });

  it('when the directory spans many pages, then every page is indexed and the pace is kept', async () => {
    const users = generateDirectory(1000, 7);
    const big = await startDuoSimulator({ directory: users });
    try {
      const client = clientFor(big);
      const result = await sync(client, 100);
      expect(result).toMatchObject({ pages: 10, users: 1000 });
      expect(await count('directory_entry')).toBe(1000);
      const last = users[999]!;
      expect((await search(last.username))[0]?.username).toBe(last.username);
      const expected = users
        .filter((u) => termsOf(u).some((t) => t.startsWith('ada')))
        .map((u) => u.username)
        .sort();
      expect(expected.length).toBeGreaterThan(20);
      expect(expected.length).toBeLessThan(100);
      expect((await usernames('ada', 100)).sort()).toEqual(expected);
      expect(await usernames('ada')).toHaveLength(20);

      // Pacing: a pause after every full page, none after a short last page.
      const sleeps: number[] = [];
      clock.advance(60_000);
      const paced = await syncDirectory(client, db.em.fork(), {
        clock,
        logger,
        pageSize: 300,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      });
      expect(paced).toMatchObject({ pages: 4, users: 1000, removed: 0, termsRewritten: 0 });
      expect(sleeps).toEqual([500, 500, 500]);
      const reads = big.requests().filter((r) => r.path === '/admin/v1/users');
      expect(reads.every((r) => r.status === 200)).toBe(true);
      expect(reads.slice(-4).map((r) => r.params.offset)).toEqual(['0', '300', '600', '900']);
    } finally {
      await big.close();
    }
  });

  it('when searching by prefix, then the plan uses the term index, not a scan of the table', async () => {
    await indexUsers(db.em.fork(), generateDirectory(2000, 3), clock.now());
    await db.em.getConnection().execute('analyze directory_term');
    await db.em.getConnection().execute('analyze directory_entry');
    const plan = (await explainSearch(db.em.fork(), 'Ada.Ab')).join('\n');
    expect(plan).toMatch(/Index Scan using directory_term_prefix_idx on directory_term/);
    expect(plan).toContain(`(term)::text ~>=~ 'ada.ab'::text`); // the prefix became an index range
    expect(plan).not.toMatch(/Seq Scan/);
  });

  it('when the sync job runs from the queue, then the index is filled and the job is due again in an hour', async () => {
    const queue = new JobQueue(db, clock, logger);
    queue.register(DIRECTORY_SYNC_JOB, createDirectorySyncJob({ duo, clock, pageDelayMs: 0 }));
    await queue.enqueue(db.em.fork(), { kind: DIRECTORY_SYNC_JOB, dedupeKey: DIRECTORY_SYNC_JOB });
    expect(await queue.runDue()).toBe(1);
    expect(await usernames('alice')).toEqual(['alice']);
    const [job] = await db.em
      .getConnection()
      .execute(`select status, run_at from job where kind = ?`, [DIRECTORY_SYNC_JOB]);
    expect((job as { status: string }).status).toBe('queued');
    expect(new Date((job as { run_at: string }).run_at).getTime()).toBe(clock.now().getTime() + 3_600_000);
    expect(await queue.runDue()).toBe(0);
  });

  it('when terms are derived, then they are lower-cased, de-duplicated and at most 255 characters', () => {
    const terms = directoryTerms({
      username: 'Ann.Lee',
      aliases: ['ALee', 'ann.lee'],
      email: 'Ann.Lee-Smith_2@Example.com',
      realname: ' Ann  Lee ',
    });
    expect(terms).toEqual(['ann.lee', 'alee', 'ann.lee-smith_2@example.com', 'ann', 'lee', 'smith', '2', 'ann lee']);
    const long = directoryTerms({ username: 'x'.repeat(300), aliases: [] });
    expect(long).toEqual(['x'.repeat(255)]);
  });
});

const termsOf = (u: ReturnType<typeof generateDirectory>[number]) =>
  directoryTerms({ username: u.username, aliases: Object.values(u.aliases), email: u.email, realname: u.realname });
