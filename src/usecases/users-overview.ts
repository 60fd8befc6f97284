import { csvCell } from '../audit/export.js';
import {
  inactiveBefore,
  USER_FILTERS,
  USERS_EXPORT_MAX,
  USERS_PAGE_SIZE,
  type UserFilter,
} from '../domain/users-overview.js';
import { fail } from '../errors.js';
import { authorizeOrThrow, requireActor } from './access.js';
import type { Caller, Deps, EntityManager } from './deps.js';

declare module '../errors.js' {
  interface Problems {
    /** The filter has more users than one export holds. */
    'users.export_too_large': { rows: number; max: number };
    /** `/duo users …` with an unknown filter or export format. */
    'users.bad_args': { issue: 'filter' | 'format' };
  }
}

/**
 * `/duo users`: the seed's counts, each filter's paged list and its export, read from the directory index
 * (src/usecases/directory-index.ts), never from Duo: Duo has no count or filter endpoint, and listing 100,000
 * users through GET /admin/v1/users takes 334 signed page reads under its rate limits. The index is as fresh as its
 * last full pass (hourly) plus every lookup since; the overview says when it was last refreshed.
 *
 * Every page is read afresh (keyset paging on lower-cased username, then user id): a page shows the index as it
 * is when the page is asked for, and a user added or removed between pages neither repeats nor shifts the rest.
 */

/** The SQL condition of each filter (the same as inFilter in src/domain/users-overview.ts); `?` is the 30-day cut. */
const NOT_TRASH = `status is distinct from 'pending deletion'`;
const WHERE: Record<UserFilter, { sql: string; cut: number }> = {
  all: { sql: NOT_TRASH, cut: 0 },
  not_enrolled: { sql: `${NOT_TRASH} and is_enrolled = false`, cut: 0 },
  inactive: { sql: `${NOT_TRASH} and (last_login < ? or (last_login is null and created < ?))`, cut: 2 },
  trash: { sql: `status = 'pending deletion'`, cut: 0 },
  bypass: { sql: `status = 'bypass'`, cut: 0 },
  locked_out: { sql: `status = 'locked out'`, cut: 0 },
};

const whereOf = (filter: UserFilter, now: Date) => {
  const w = WHERE[filter];
  const cut = inactiveBefore(now);
  return { sql: w.sql, params: Array.from({ length: w.cut }, () => cut) };
};

export type UserCounts = Record<UserFilter, number>;

export interface UsersOverview {
  counts: UserCounts;
  /** When the index was last written (the last pass or lookup); null when it is empty. */
  indexedAt: Date | null;
  /** Entries indexed before the index kept the overview's facts (until the next full pass). */
  unknownFacts: number;
}

/** The seed's counts in one scan of the index (about 30 ms at 100,000 users). */
export async function countUsers(em: EntityManager, now: Date): Promise<UsersOverview> {
  const cols = USER_FILTERS.map((f) => `count(*) filter (where ${WHERE[f].sql})::int as "${f}"`).join(',\n ');
  const params = USER_FILTERS.flatMap((f) => whereOf(f, now).params);
  const [row] = (await em.getConnection().execute(
    `select ${cols},
       count(*) filter (where is_enrolled is null)::int as "unknown",
       max(refreshed_at) as "indexedAt"
     from directory_entry`,
    params,
    'all',
    em.getTransactionContext(),
  )) as Array<Record<string, unknown>>;
  const counts = Object.fromEntries(USER_FILTERS.map((f) => [f, Number(row?.[f] ?? 0)])) as UserCounts;
  const at = row?.indexedAt;
  return {
    counts,
    indexedAt: at ? new Date(at as string) : null,
    unknownFacts: Number(row?.unknown ?? 0),
  };
}

export interface ListedUser {
  duoUserId: string;
  username: string;
  realname: string | null;
  email: string | null;
  status: string | null;
  isEnrolled: boolean | null;
  lastLogin: Date | null;
  created: Date | null;
  directorySynced: boolean | null;
}

/** A position in a filtered list: the lower-cased username and user id of a row (a reference, not authority). */
export interface UsersCursor {
  key: string;
  id: string;
}

export interface UsersPageRequest {
  filter: UserFilter;
  /** Rows after this one (next page), or before it (previous page); neither: the first page. */
  after?: UsersCursor | undefined;
  before?: UsersCursor | undefined;
  /** Rows from this one on (this row included): the bulk status form's list starts at its page's first row. */
  from?: UsersCursor | undefined;
}

export interface UsersPage {
  filter: UserFilter;
  users: ListedUser[];
  /** Users in the filter now. */
  total: number;
  /** The first row shown (the bulk status form starts its list there). */
  start: UsersCursor | null;
  /** Set when there is a page after / before this one. */
  next: UsersCursor | null;
  prev: UsersCursor | null;
}

interface Row {
  duo_user_id: string;
  username: string;
  realname: string | null;
  email: string | null;
  status: string | null;
  is_enrolled: boolean | null;
  last_login: Date | string | null;
  created: Date | string | null;
  directory_synced: boolean | null;
  k: string;
}

const COLUMNS = `duo_user_id, username, realname, email, status, is_enrolled, last_login, created, directory_synced,
  lower(username) collate "C" as k`;
const ORDER_KEY = `(lower(username) collate "C", duo_user_id)`;
const date = (v: Date | string | null) => (v === null ? null : new Date(v));

const toListed = (r: Row): ListedUser => ({
  duoUserId: r.duo_user_id,
  username: r.username,
  realname: r.realname,
  email: r.email,
  status: r.status,
  isEnrolled: r.is_enrolled,
  lastLogin: date(r.last_login),
  created: date(r.created),
  directorySynced: r.directory_synced,
});

/** One page of a filter: keyset order (lower-cased username in byte order, then id), straight off an index. */
export async function pageUsers(
  em: EntityManager,
  req: UsersPageRequest,
  now: Date,
  size = USERS_PAGE_SIZE,
): Promise<UsersPage> {
  const conn = em.getConnection();
  const ctx = em.getTransactionContext();
  const w = whereOf(req.filter, now);
  const backwards = !req.after && !req.from && Boolean(req.before);
  const at = req.after ?? req.from ?? req.before;
  const op = req.after ? '>' : req.from ? '>=' : '<';
  const keyset = at ? ` and ${ORDER_KEY} ${op} (? collate "C", ?)` : '';
  const dir = backwards ? 'desc' : 'asc';
  const rows = (await conn.execute(
    `select ${COLUMNS} from directory_entry where ${w.sql}${keyset}
     order by lower(username) collate "C" ${dir}, duo_user_id ${dir} limit ?`,
    [...w.params, ...(at ? [at.key, at.id] : []), size + 1],
    'all',
    ctx,
  )) as Row[];
  const more = rows.length > size;
  const shown = rows.slice(0, size);
  if (backwards) shown.reverse();
  const [{ n }] = (await conn.execute(
    `select count(*)::int as n from directory_entry where ${w.sql}`,
    w.params,
    'all',
    ctx,
  )) as [{ n: number }];
  const first = shown[0];
  const last = shown.at(-1);
  const cursorOf = (r: Row): UsersCursor => ({ key: r.k, id: r.duo_user_id });
  // Forward: a next page if more rows came back; a previous one if this page started after a row.
  // Backward: a previous page if more rows came back; a next one always (the row it started before).
  const hasNext = backwards ? true : more;
  const hasPrev = backwards ? more : Boolean(at);
  return {
    filter: req.filter,
    users: shown.map(toListed),
    total: n,
    start: first ? cursorOf(first) : null,
    next: hasNext && last ? cursorOf(last) : null,
    prev: hasPrev && first ? cursorOf(first) : null,
  };
}

/** Every user of a filter, in list order (the export). */
export async function allUsersIn(em: EntityManager, filter: UserFilter, now: Date): Promise<ListedUser[]> {
  const w = whereOf(filter, now);
  const rows = (await em
    .getConnection()
    .execute(
      `select ${COLUMNS} from directory_entry where ${w.sql} order by lower(username) collate "C", duo_user_id limit ?`,
      [...w.params, USERS_EXPORT_MAX + 1],
      'all',
      em.getTransactionContext(),
    )) as Row[];
  if (rows.length > USERS_EXPORT_MAX)
    throw fail('INVALID_INPUT', 'users.export_too_large', { rows: rows.length, max: USERS_EXPORT_MAX });
  return rows.map(toListed);
}

// Use cases (authorized on the responder loaded now, audited)

async function reader(deps: Deps, em: EntityManager, caller: Caller, action: 'users.read' | 'users.export') {
  const actor = await requireActor(deps, em, caller);
  await authorizeOrThrow(deps, em, caller, actor, action, { kind: 'none' });
  return actor;
}

export async function usersOverview(deps: Deps, em: EntityManager, caller: Caller): Promise<UsersOverview> {
  const actor = await reader(deps, em, caller, 'users.read');
  const overview = await countUsers(em, deps.clock.now());
  await deps.audit.record(em, {
    teamId: actor.teamId,
    actor: { userId: actor.userId, role: actor.role },
    action: 'users.overview_viewed',
    outcome: 'success',
    correlationId: caller.correlationId,
    params: { ...overview.counts },
  });
  return overview;
}

export async function usersPage(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  req: UsersPageRequest,
  size = USERS_PAGE_SIZE,
): Promise<UsersPage> {
  const actor = await reader(deps, em, caller, 'users.read');
  const page = await pageUsers(em, req, deps.clock.now(), size);
  await deps.audit.record(em, {
    teamId: actor.teamId,
    actor: { userId: actor.userId, role: actor.role },
    action: 'users.listed',
    outcome: 'success',
    correlationId: caller.correlationId,
    params: { filter: req.filter, shown: page.users.length, total: page.total },
  });
  return page;
}

export interface UsersExportFile {
  filename: string;
  content: string;
  format: 'csv' | 'json';
  filter: UserFilter;
  rows: number;
}

/** What an export holds per user: the Users table's columns. No secrets: the index keeps none. */
const EXPORT_COLUMNS = [
  'user_id',
  'username',
  'realname',
  'email',
  'status',
  'is_enrolled',
  'last_login',
  'created',
  'directory_synced',
] as const;

const exportRecord = (u: ListedUser): Record<(typeof EXPORT_COLUMNS)[number], unknown> => ({
  user_id: u.duoUserId,
  username: u.username,
  realname: u.realname,
  email: u.email,
  status: u.status,
  is_enrolled: u.isEnrolled,
  last_login: u.lastLogin?.toISOString() ?? null,
  created: u.created?.toISOString() ?? null,
  directory_synced: u.directorySynced,
});

/** CSV (every cell quoted; a cell starting with = + - @ tab or CR gets a leading ') or JSON of exactly the filter. */
export function renderUsersExport(users: readonly ListedUser[], format: 'csv' | 'json'): string {
  if (format === 'json') return `${JSON.stringify(users.map(exportRecord), null, 1)}\n`;
  const lines = [EXPORT_COLUMNS.join(',')];
  for (const u of users) {
    const r = exportRecord(u);
    lines.push(EXPORT_COLUMNS.map((c) => csvCell(r[c])).join(','));
  }
  return `${lines.join('\n')}\n`;
}

export async function exportUsers(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  input: { filter: UserFilter; format: 'csv' | 'json' },
): Promise<UsersExportFile> {
  const actor = await reader(deps, em, caller, 'users.export');
  const now = deps.clock.now();
  const users = await allUsersIn(em, input.filter, now);
  const content = renderUsersExport(users, input.format);
  await deps.audit.record(em, {
    teamId: actor.teamId,
    actor: { userId: actor.userId, role: actor.role },
    action: 'users.exported',
    outcome: 'success',
    correlationId: caller.correlationId,
    params: { filter: input.filter, format: input.format, rows: users.length },
  });
  const stamp = now.toISOString().replace(/[-:]|\.\d+/g, '');
  return {
    filename: `duo-desk-users-${input.filter.replace('_', '-')}-${stamp}.${input.format}`,
    content,
    format: input.format,
    filter: input.filter,
    rows: users.length,
  };
}
