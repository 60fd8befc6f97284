import { STATUS_LABELS } from '../src/domain/duo-user.js';
import { USER_FILTER_LABELS, USER_FILTERS, type UserFilter } from '../src/domain/users-overview.js';
import type {
  ListedUser,
  UsersCursor,
  UsersExportFile,
  UsersOverview,
  UsersPage,
} from '../src/usecases/users-overview.js';
import { actions, type Block, button, context, esc, section, slackDate, truncate } from './common.js';
import { ACTIONS, SLASH_COMMAND } from './ids.js';

/**
 * `/duo users`: the counts (each a button that opens its filter), a filter's page (previous / next, export,
 * back to the counts). Button values are references (a filter, a position in the list): the handlers authorize
 * and read the index again.
 */
const n = (x: number) => x.toLocaleString('en-US');

/** A page button's value: the filter and the row the page starts after (a) or before (b). */
export const pageValue = (filter: UserFilter, dir: 'a' | 'b', at: UsersCursor) =>
  JSON.stringify({ f: filter, [dir]: [at.key, at.id] });

export const exportValue = (filter: UserFilter, format: 'csv' | 'json') => JSON.stringify({ f: filter, fmt: format });

export function usersOverviewMessage(o: UsersOverview): { text: string; blocks: Block[] } {
  const lines = USER_FILTERS.map((f) => `*${USER_FILTER_LABELS[f]}:* ${n(o.counts[f])}`);
  const blocks: Block[] = [
    section(`:busts_in_silhouette: *Duo users*\n${lines.join('\n')}`),
    actions(
      'users_filters',
      USER_FILTERS.map((f) => button(`${USER_FILTER_LABELS[f]} (${n(o.counts[f])})`, ACTIONS.usersFilter, f)),
    ),
    context(
      [
        o.indexedAt
          ? `From duo-desk's directory index, refreshed from Duo hourly and on every lookup (last write ${slackDate(o.indexedAt)}).`
          : "duo-desk's directory index is empty: the first pass over Duo's users has not finished yet.",
        o.unknownFacts
          ? `${n(o.unknownFacts)} users were indexed before the overview existed: their enrollment and logins count after the next pass.`
          : '',
        `Inactive: no login for 30 days. Users in the Trash count only there. Export: ${SLASH_COMMAND} users export csv|json [filter].`,
      ]
        .filter(Boolean)
        .join(' '),
    ),
  ];
  return { text: `Duo users: ${n(o.counts.all)} in total`, blocks };
}

function userLine(u: ListedUser): string {
  const status = u.status ? (STATUS_LABELS[u.status] ?? u.status) : 'unknown';
  const facts = [
    u.realname ? esc(truncate(u.realname, 80)) : '',
    u.email ? esc(truncate(u.email, 120)) : '',
    status,
    u.isEnrolled === false ? 'not enrolled' : '',
    u.lastLogin ? `last login ${slackDate(u.lastLogin)}` : 'never logged in',
    u.directorySynced ? 'directory sync' : '',
  ].filter(Boolean);
  return `*${esc(truncate(u.username, 100))}* · ${facts.join(' · ')}`;
}

export function usersPageMessage(p: UsersPage): { text: string; blocks: Block[] } {
  const label = USER_FILTER_LABELS[p.filter];
  const blocks: Block[] = [
    section(
      p.users.length
        ? `:busts_in_silhouette: *${label}*: ${n(p.total)} ${p.total === 1 ? 'user' : 'users'}; ${p.users.length} on this page, by username.`
        : `:busts_in_silhouette: *${label}*: ${p.total ? 'no more users on this page (the list changed).' : 'no users.'}`,
    ),
  ];
  for (const u of p.users) blocks.push(section(userLine(u)));
  const nav = [
    ...(p.prev ? [button('◀ Previous', ACTIONS.usersPage, pageValue(p.filter, 'b', p.prev))] : []),
    ...(p.next ? [button('Next ▶', ACTIONS.usersPage, pageValue(p.filter, 'a', p.next))] : []),
    button('Export CSV', ACTIONS.usersExport, exportValue(p.filter, 'csv')),
    button('Export JSON', ACTIONS.usersExport, exportValue(p.filter, 'json')),
    button('Back to the counts', ACTIONS.usersOverview, 'overview'),
  ];
  blocks.push(actions('users_page_actions', nav));
  blocks.push(context('Each page reads the index as it is now. Exports arrive as a file in your DMs, to you only.'));
  return { text: `${label}: ${n(p.total)} users`, blocks };
}

export function usersExportPreparing(format: 'csv' | 'json', filter: UserFilter): string {
  return `:hourglass_flowing_sand: Preparing the export of *${USER_FILTER_LABELS[filter]}* (${format.toUpperCase()})… it will arrive as a file in your DMs.`;
}

export function usersExportSent(file: Pick<UsersExportFile, 'filename' | 'rows'>): string {
  return `:white_check_mark: Sent \`${esc(file.filename)}\` (${n(file.rows)} ${file.rows === 1 ? 'user' : 'users'}) to your DMs.`;
}

export function usersExportFileInfo(file: Pick<UsersExportFile, 'format' | 'rows' | 'filter'>) {
  return {
    title: `Duo users: ${USER_FILTER_LABELS[file.filter]} (${file.format.toUpperCase()})`,
    comment: `Your duo-desk users export: ${n(file.rows)} ${file.rows === 1 ? 'user' : 'users'} (${USER_FILTER_LABELS[file.filter]}), times in UTC. It holds no secrets, but names and emails: treat it as confidential.`,
  };
}
