/**
 * The local directory index behind the Slack typeahead (external_select options must be answered well inside
 * Slack's 3 s). Duo has no search endpoint and answers slowly under its rate limits, so the typeahead never calls
 * Duo: it reads `directory_entry` + `directory_term` in Postgres, which this module fills.
 *
 * Terms are lower-cased strings (username, alias values, email, full real name, words of the real name and of the
 * email local part); a search is a prefix match on the `directory_term_prefix_idx` (text_pattern_ops) index.
 *
 * Keeping it fresh ("incremental" refresh): Duo's Admin API has no "changed since" filter for users. GET
 * /admin/v1/users filters only by exact username, email or user_id list and pages by offset; the only
 * change feeds are the administrator activity log (admin-made changes only: directory syncs, self-enrollment,
 * lockouts from failed authentications and deletions by retention policy do not all show up there) and
 * authentication logs (not user records). So the incremental strategy is:
 *   1. an hourly full pass (`directory.sync` job), paced to at most ~2 page reads per second, far below
 *      Duo's ~200 reads/min for this endpoint, so it never starves interactive lookups; it upserts what it
 *      sees and removes entries it did not see (deleted in Duo);
 *   2. a per-lookup refresh: every lookup already fetches the fresh user from Duo, and re-indexes it
 *      (`refreshDirectoryUser`, or `removeDirectoryUser` when Duo says it is gone), so the users responders
 *      actually work on are always current between passes.
 * A pass rewrites a user's terms only when the fields they derive from changed, so a steady-state pass is one
 * select and one upsert per page, not a rewrite of ~700k term rows.
 */
import type { Clock } from '../clock.js';
import type { EntityManager } from '../db/database.js';
import type { DuoAdmin, User } from '../duo/types.js';
import type { JobContext, JobHandler, JobQueue } from '../jobs/queue.js';
import type { Logger } from '../log.js';

/** The job kind (and dedupe key) of the periodic full pass. */
export const DIRECTORY_SYNC_JOB = 'directory.sync';
export const DIRECTORY_SYNC_INTERVAL_MS = 60 * 60 * 1000;
/** Duo's page maximum for /admin/v1/users. */
export const DIRECTORY_PAGE_SIZE = 300;
/** 500 ms between page reads: ≤ 2 reads/s = 120/min, well under Duo's ~200/min, leaving room for lookups. */
export const DIRECTORY_PAGE_DELAY_MS = 500;

const MAX_TERM = 255;
/**
 * Prefix of the one non-searchable term per user that holds its lower-cased username, so "is there a user with
 * exactly this username" is one index probe (directory_entry has no index on username). Queries are stripped of
 * control characters, so no prefix search can reach these rows.
 */
const USERNAME_KEY = '\u0001';
/**
 * At most this many matching term rows (the lexicographically closest to the query, straight off the index)
 * are considered per search. Exact for any query matching fewer terms; for a broad one- or two-letter prefix
 * at 100k users it bounds the work to a few hundred index and primary-key reads instead of sorting thousands of
 * users, and the responder narrows the list by typing on.
 */
export const SEARCH_WINDOW = 300;
/** Rows per multi-row statement: 11 values per entry row, 2 per term row, far below Postgres' 65,535 parameters. */
const ENTRY_CHUNK = 1000;
const TERM_CHUNK = 4000;

/** The fields of a Duo user the index reads (any `User`, or the simulator's SimUser, fits). */
export type DirectoryUser = Pick<User, 'user_id' | 'username' | 'aliases' | 'email' | 'realname' | 'status'> &
  /** The users overview's facts (src/usecases/users-overview.ts); absent ones are stored as unknown (null). */
  Partial<Pick<User, 'is_enrolled' | 'last_login' | 'created' | 'last_directory_sync' | 'external_id'>>;

export interface DirectoryHit {
  duoUserId: string;
  username: string;
  realname: string | null;
  email: string | null;
  status: string | null;
}

export interface IndexResult {
  /** Entries inserted or updated. */
  entries: number;
  /** Entries whose terms were (re)written: new users and users whose username, aliases, email or name changed. */
  termsRewritten: number;
}

export interface SyncResult {
  pages: number;
  users: number;
  termsRewritten: number;
  removed: number;
  durationMs: number;
}

export interface SyncDirectoryOptions {
  clock: Clock;
  logger: Logger;
  /** Pause after each full page before reading the next; default 500 ms (≤ 2 page reads/s). */
  pageDelayMs?: number;
  /** 1..300; default 300. */
  pageSize?: number;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Called after each indexed page, outside its transaction (the job checks its lease there). */
  onPage?: (progress: { pages: number; users: number }) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Drops NULs (Postgres text cannot hold them) and cuts to `max` characters without splitting a surrogate pair. */
function clip(s: string, max = MAX_TERM): string {
  const clean = s.includes('\u0000') ? s.replaceAll('\u0000', '') : s;
  if (clean.length <= max) return clean;
  return Array.from(clean).slice(0, max).join('');
}

function aliasValues(aliases: Record<string, string> | null | undefined): string[] {
  if (!aliases) return [];
  return Object.values(aliases).filter((a): a is string => typeof a === 'string' && a.trim() !== '');
}

/** Everything a user can be found by, lower-cased, de-duplicated, at most 255 characters each. */
export function directoryTerms(user: {
  username: string;
  aliases: readonly string[];
  email?: string | null | undefined;
  realname?: string | null | undefined;
}): string[] {
  const out = new Set<string>();
  const add = (raw: string | null | undefined) => {
    if (!raw) return;
    const t = clip(raw.trim().toLowerCase());
    if (t) out.add(t);
  };
  add(user.username);
  for (const a of user.aliases) add(a);
  const email = user.email?.trim();
  if (email) {
    add(email);
    const at = email.lastIndexOf('@');
    const local = at >= 0 ? email.slice(0, at) : email;
    for (const part of local.split(/[._-]+/)) add(part);
  }
  const name = user.realname?.trim();
  if (name) {
    add(name.replace(/\s+/g, ' '));
    for (const word of name.split(/[\s,]+/)) add(word);
  }
  return [...out];
}

/** Escapes LIKE's wildcards (and its escape character) so they match literally. */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

const placeholders = (rows: number, perRow: string) => Array.from({ length: rows }, () => perRow).join(', ');

function withUsernameKey(username: string, terms: string[]): string[] {
  const key = clip(USERNAME_KEY + username.trim().toLowerCase());
  return key.length > USERNAME_KEY.length ? [...terms, key] : terms;
}

/** Lower-cased, trimmed, without control characters (which also keeps queries off the username keys). */
function normalizeQuery(query: string): string {
  return clip(
    query
      .replace(/\p{Cc}/gu, '')
      .trim()
      .toLowerCase(),
  );
}

interface Normalized {
  id: string;
  username: string;
  aliases: string[];
  email: string | null;
  realname: string | null;
  status: string | null;
  isEnrolled: boolean | null;
  lastLogin: Date | null;
  created: Date | null;
  directorySynced: boolean | null;
  terms: string[];
}

const fromUnix = (s: number | null | undefined): Date | null =>
  typeof s === 'number' && Number.isFinite(s) ? new Date(s * 1000) : null;

/** Managed by a directory sync, as src/domain/duo-user.ts isDirectorySynced decides (unknown when Duo said neither). */
function syncedOf(u: DirectoryUser): boolean | null {
  if (u.external_id === undefined && u.last_directory_sync === undefined) return null;
  return Boolean(u.external_id) || u.last_directory_sync != null;
}

function normalize(u: DirectoryUser): Normalized {
  const aliases = aliasValues(u.aliases).map((a) => clip(a));
  const email = u.email ? clip(u.email) : null;
  const realname = u.realname ? clip(u.realname) : null;
  const username = clip(u.username);
  return {
    id: clip(u.user_id),
    username,
    aliases,
    email,
    realname,
    status: u.status ? clip(u.status) : null,
    isEnrolled: typeof u.is_enrolled === 'boolean' ? u.is_enrolled : null,
    lastLogin: fromUnix(u.last_login),
    created: fromUnix(u.created),
    directorySynced: syncedOf(u),
    terms: withUsernameKey(username, directoryTerms({ username, aliases, email, realname })),
  };
}

interface StoredRow {
  duo_user_id: string;
  username: string;
  aliases: unknown;
  email: string | null;
  realname: string | null;
}

function storedTerms(r: StoredRow): string[] {
  const aliases = typeof r.aliases === 'string' ? JSON.parse(r.aliases) : r.aliases;
  return withUsernameKey(
    r.username,
    directoryTerms({
      username: r.username,
      aliases: Array.isArray(aliases) ? aliases.filter((a): a is string => typeof a === 'string') : [],
      email: r.email,
      realname: r.realname,
    }),
  );
}

const sameTerms = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((t, i) => t === b[i]);

/**
 * Upserts the users' entries and replaces their terms, in multi-row statements of up to 1,000 entries,
 * all in one transaction. Terms are only rewritten for new users and users whose indexed fields changed.
 */
export async function indexUsers(em: EntityManager, users: readonly DirectoryUser[], now: Date): Promise<IndexResult> {
  // Last occurrence wins (offset paging can repeat a user); sorted so concurrent writers lock rows in one order.
  const byId = new Map<string, Normalized>();
  for (const u of users) {
    const n = normalize(u);
    byId.set(n.id, n);
  }
  const rows = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (!rows.length) return { entries: 0, termsRewritten: 0 };

  let termsRewritten = 0;
  await em.transactional(async (tx) => {
    const conn = tx.getConnection();
    const ctx = tx.getTransactionContext();
    for (const chunk of chunks(rows, ENTRY_CHUNK)) {
      const ids = chunk.map((r) => r.id);
      // Locks the existing rows, so a per-lookup refresh cannot interleave between this read and the writes.
      const existing: StoredRow[] = await conn.execute(
        `select duo_user_id, username, aliases, email, realname from directory_entry
         where duo_user_id in (${placeholders(ids.length, '?')}) for update`,
        ids,
        'all',
        ctx,
      );
      const stored = new Map(existing.map((r) => [r.duo_user_id, r]));

      await conn.execute(
        `insert into directory_entry (duo_user_id, username, aliases, email, realname, status, refreshed_at,
           is_enrolled, last_login, created, directory_synced)
         values ${placeholders(chunk.length, '(?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?, ?, ?)')}
         on conflict (duo_user_id) do update set
           username = excluded.username, aliases = excluded.aliases, email = excluded.email,
           realname = excluded.realname, status = excluded.status, refreshed_at = excluded.refreshed_at,
           is_enrolled = excluded.is_enrolled, last_login = excluded.last_login, created = excluded.created,
           directory_synced = excluded.directory_synced`,
        chunk.flatMap((r) => [
          r.id,
          r.username,
          JSON.stringify(r.aliases),
          r.email,
          r.realname,
          r.status,
          now,
          r.isEnrolled,
          r.lastLogin,
          r.created,
          r.directorySynced,
        ]),
        'run',
        ctx,
      );

      const changed = chunk.filter((r) => {
        const old = stored.get(r.id);
        return !old || !sameTerms(storedTerms(old), r.terms);
      });
      if (!changed.length) continue;
      termsRewritten += changed.length;
      const replaced = changed.filter((r) => stored.has(r.id)).map((r) => r.id);
      if (replaced.length) {
        await conn.execute(
          `delete from directory_term where duo_user_id in (${placeholders(replaced.length, '?')})`,
          replaced,
          'run',
          ctx,
        );
      }
      const termRows = changed.flatMap((r) => r.terms.map((t) => [t, r.id] as const));
      for (const part of chunks(termRows, TERM_CHUNK)) {
        await conn.execute(
          `insert into directory_term (term, duo_user_id) values ${placeholders(part.length, '(?, ?)')}
           on conflict do nothing`,
          part.flat(),
          'run',
          ctx,
        );
      }
    }
  });
  return { entries: rows.length, termsRewritten };
}

function searchQuery(query: string, limit: number): { sql: string; params: unknown[] } | undefined {
  const q = normalizeQuery(query);
  if (q.length < 1) return undefined;
  const n = Math.max(1, Math.min(100, Math.floor(limit) || 20));
  return {
    sql: `with cand as materialized (
       select m.duo_user_id, bool_or(m.exact) as exact
       from (
         (select t.duo_user_id, false as exact from directory_term t
          where t.term like ? || '%' order by t.term using ~<~ limit ?)
         union all
         (select t.duo_user_id, true from directory_term t where t.term = ?)
       ) m
       group by m.duo_user_id
     )
     select e.duo_user_id, e.username, e.realname, e.email, e.status
     from cand c
     cross join lateral (
       select x.duo_user_id, x.username, x.realname, x.email, x.status
       from directory_entry x where x.duo_user_id = c.duo_user_id offset 0
     ) e
     order by c.exact desc, lower(e.username) collate "C", e.duo_user_id
     limit ?`,
    params: [escapeLike(q), SEARCH_WINDOW, clip(USERNAME_KEY + q), n],
  };
}

/** The query plan of searchDirectory for `query` (tests and the benchmark check it uses the term index). */
export async function explainSearch(em: EntityManager, query: string, opts: { analyze?: boolean } = {}) {
  const search = searchQuery(query, 20);
  if (!search) return [];
  const rows: Array<Record<string, string>> = await em
    .getConnection()
    .execute(`explain ${opts.analyze ? '(analyze, buffers) ' : ''}${search.sql}`, search.params, 'all');
  return rows.map((r) => String(Object.values(r)[0]));
}

/**
 * Typeahead search: users with any term starting with `query` (case-insensitive; % _ and \ match literally),
 * distinct, the exact username first, then by lower-cased username (byte order, so the same on every server),
 * among the first SEARCH_WINDOW matching terms.
 *
 * Plan: an ordered range scan of directory_term_prefix_idx (text_pattern_ops: `term ~>=~ 'ab' and term ~<~ 'ac'`,
 * read in `~<~` order and cut at the window), one index probe for the exact username, then primary-key lookups
 * of the candidates (the `offset 0` keeps the planner from hashing the whole entry table) and a top-N sort.
 */
export async function searchDirectory(em: EntityManager, query: string, limit = 20): Promise<DirectoryHit[]> {
  const search = searchQuery(query, limit);
  if (!search) return [];
  const rows: Array<{
    duo_user_id: string;
    username: string;
    realname: string | null;
    email: string | null;
    status: string | null;
  }> = await em.getConnection().execute(search.sql, search.params, 'all', em.getTransactionContext());
  return rows.map((r) => ({
    duoUserId: r.duo_user_id,
    username: r.username,
    realname: r.realname,
    email: r.email,
    status: r.status,
  }));
}

/** Re-indexes one user with what Duo just returned (the lookup flow calls this after every lookup). */
export async function refreshDirectoryUser(
  em: EntityManager,
  user: DirectoryUser,
  now: Date = new Date(),
): Promise<IndexResult> {
  const r = normalize(user);
  // The usual lookup changes none of the fields the search terms come from: then one statement refreshes the
  // entry. The condition is checked on the row as it is when locked (after any concurrent writer), so a new user
  // or a changed name, alias or email writes nothing here and takes the full path (its terms rewritten).
  const refreshed = (await em.getConnection().execute(
    `insert into directory_entry (duo_user_id, username, aliases, email, realname, status, refreshed_at,
       is_enrolled, last_login, created, directory_synced)
     values (?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?, ?, ?)
     on conflict (duo_user_id) do update set status = excluded.status, refreshed_at = excluded.refreshed_at,
         is_enrolled = excluded.is_enrolled, last_login = excluded.last_login, created = excluded.created,
         directory_synced = excluded.directory_synced
       where directory_entry.username = excluded.username and directory_entry.aliases = excluded.aliases
         and directory_entry.email is not distinct from excluded.email
         and directory_entry.realname is not distinct from excluded.realname
     returning (xmax = 0) as inserted`,
    [
      r.id,
      r.username,
      JSON.stringify(r.aliases),
      r.email,
      r.realname,
      r.status,
      now,
      r.isEnrolled,
      r.lastLogin,
      r.created,
      r.directorySynced,
    ],
    'all',
    em.getTransactionContext(),
  )) as Array<{ inserted: boolean }>;
  if (refreshed.length === 1 && !refreshed[0]!.inserted) return { entries: 1, termsRewritten: 0 };
  return indexUsers(em, [user], now);
}

/** Drops a user Duo no longer knows (its terms go with it: on delete cascade). */
export async function removeDirectoryUser(em: EntityManager, duoUserId: string): Promise<boolean> {
  const res = await em
    .getConnection()
    .execute(`delete from directory_entry where duo_user_id = ?`, [duoUserId], 'run', em.getTransactionContext());
  return Number((res as { affectedRows?: number }).affectedRows ?? 0) > 0;
}

/**
 * One paced full pass over Duo's directory: each page is indexed in its own transaction (the typeahead keeps
 * answering throughout), then entries this pass did not see (refreshed before it started) are removed.
 * A pass that fails part-way removes nothing. The clock must move forward between passes.
 *
 * Offset paging over a directory that changes during the pass can skip a user (a deletion shifts the offsets);
 * such a user drops out of the typeahead until the next pass or its next lookup.
 */
export async function syncDirectory(duo: DuoAdmin, em: EntityManager, opts: SyncDirectoryOptions): Promise<SyncResult> {
  const pageSize = opts.pageSize ?? DIRECTORY_PAGE_SIZE;
  const pageDelayMs = opts.pageDelayMs ?? DIRECTORY_PAGE_DELAY_MS;
  const sleep = opts.sleep ?? defaultSleep;
  const runStart = opts.clock.now();
  const t0 = performance.now();
  let pages = 0;
  let users = 0;
  let termsRewritten = 0;
  for await (const page of duo.iterateUsers({ pageSize })) {
    pages++;
    users += page.length;
    const r = await indexUsers(em, page, opts.clock.now());
    termsRewritten += r.termsRewritten;
    await opts.onPage?.({ pages, users });
    // A short page is the last one: no pause after it. Otherwise pause before the next read.
    if (page.length >= pageSize && pageDelayMs > 0) await sleep(pageDelayMs);
  }
  const res = await em
    .getConnection()
    .execute(`delete from directory_entry where refreshed_at < ?`, [runStart], 'run', em.getTransactionContext());
  const removed = Number((res as { affectedRows?: number }).affectedRows ?? 0);
  const result: SyncResult = { pages, users, termsRewritten, removed, durationMs: Math.round(performance.now() - t0) };
  opts.logger.info('directory sync finished', { ...result });
  return result;
}

export interface DirectorySyncJobArgs {
  duo: DuoAdmin;
  clock: Clock;
  intervalMs?: number;
  pageDelayMs?: number;
  pageSize?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Handler for JobQueue kind 'directory.sync': a full pass, then again in an hour. */
export function createDirectorySyncJob(args: DirectorySyncJobArgs): JobHandler {
  const intervalMs = args.intervalMs ?? DIRECTORY_SYNC_INTERVAL_MS;
  return async (_payload: Record<string, unknown>, ctx: JobContext) => {
    await syncDirectory(args.duo, ctx.em, {
      clock: args.clock,
      logger: ctx.logger,
      ...(args.pageDelayMs !== undefined ? { pageDelayMs: args.pageDelayMs } : {}),
      ...(args.pageSize !== undefined ? { pageSize: args.pageSize } : {}),
      ...(args.sleep ? { sleep: args.sleep } : {}),
      // A pass over 100k users takes minutes: between pages (outside the page's transaction) it checks
      // that the lease is still its own, and stops if another instance has taken the job over.
      onPage: () => ctx.extendLease(),
    });
    return { runAgainAt: new Date(args.clock.now().getTime() + intervalMs) };
  };
}

/** Registers the handler and makes sure one pass is queued (idempotent: deduplicated by kind). */
export async function scheduleDirectorySync(
  jobs: JobQueue,
  em: EntityManager,
  args: DirectorySyncJobArgs & { runAt?: Date },
): Promise<void> {
  jobs.register(DIRECTORY_SYNC_JOB, createDirectorySyncJob(args));
  await jobs.enqueue(em, {
    kind: DIRECTORY_SYNC_JOB,
    dedupeKey: DIRECTORY_SYNC_JOB,
    ...(args.runAt ? { runAt: args.runAt } : {}),
  });
}
