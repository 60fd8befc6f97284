import { STATUS_LABELS } from '../src/domain/duo-user.js';
import { USER_FILTER_LABELS, USER_FILTERS, type UserFilter } from '../src/domain/users-overview.js';
import type {
  ListedUser,
  UsersCursor,
  UsersExportFile,
  UsersOverview,
  UsersPage,
} from '../src/usecases/users-overview.js';
import type { ModalView } from './block-kit.js';
import {
  actions,
  type Block,
  button,
  context,
  esc,
  modalTitle,
  option,
  plain,
  reasonInput,
  section,
  selectInput,
  slackDate,
  textInput,
  truncate,
} from './common.js';
import { ACTIONS, BLOCKS, inputActionId, SLASH_COMMAND, VIEWS } from './ids.js';

/**
 * `/duo users`: the counts (each a button that opens its filter), a filter's page (previous / next, export,
 * back to the counts). Button values are references (a filter, a position in the list): the handlers authorize
 * and read the index again.
 */
const n = (x: number) => x.toLocaleString('en-US');

/** A page button's value: the filter and the row the page starts after (a) or before (b). */
export const pageValue = (filter: UserFilter, dir: 'a' | 'b', at: UsersCursor) =>
  JSON.stringify({ f: filter, [dir]: [at.key, at.id] });

/** The bulk status button's value: the filter and the page's first row (the form lists up to 100 from there). */
export const bulkValue = (filter: UserFilter, start: UsersCursor) =>
  JSON.stringify({ f: filter, s: [start.key, start.id] });

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
    ...(p.start && p.filter !== 'trash'
      ? [button('Change status…', ACTIONS.usersBulk, bulkValue(p.filter, p.start))]
      : []),
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

/** private_metadata of the bulk status form: the filter and the channel of the page (references only). */
export interface BulkFormMeta {
  f: UserFilter;
  channelId: string;
}

/** The bulk status form: up to 100 users of the filter from the page's first row, Active or Disabled, reason, code. */
export function bulkStatusModal(p: UsersPage, meta: BulkFormMeta): ModalView {
  const label = USER_FILTER_LABELS[p.filter];
  return {
    type: 'modal',
    callback_id: VIEWS.usersBulk,
    title: modalTitle('Change status'),
    submit: plain('Ask for approval'),
    close: plain('Cancel'),
    private_metadata: JSON.stringify(meta),
    blocks: [
      section(
        `Change the status of users of *${label}* (up to 100 at once, from this page on). A second person approves; each user is read from Duo again before the change. Users managed by directory sync are never disabled.`,
      ),
      {
        type: 'input',
        block_id: BLOCKS.bulkUsers,
        label: plain('Users'),
        element: {
          type: 'multi_static_select',
          action_id: inputActionId(BLOCKS.bulkUsers),
          placeholder: plain('Pick users'),
          options: p.users
            .slice(0, 100)
            .map((u) =>
              option(truncate(`${u.username}${u.directorySynced ? ' (directory sync)' : ''}`, 75), u.duoUserId),
            ),
        },
      },
      selectInput(BLOCKS.status, 'New status', [option('Active', 'active'), option('Disabled', 'disabled')]),
      reasonInput('Why these users, and who asked'),
      textInput(BLOCKS.totp, 'Code from your authenticator app', { max: 7, placeholder: '6-digit code' }),
    ],
  };
}

export function bulkSubmittedModal(state: string, count: number, approvalChannel: string | undefined): ModalView {
  const text =
    state === 'pending'
      ? `:outbox_tray: Your status change for ${count} ${count === 1 ? 'user' : 'users'} is waiting for a second person's approval${approvalChannel ? ` in <#${approvalChannel}>` : ''}. Nothing changes until then; you will be told each user's outcome.`
      : state === 'done'
        ? ':white_check_mark: Done: see the outcome per user on the approval card.'
        : `:warning: The request ended as ${esc(state)}: see the approval card.`;
  return {
    type: 'modal',
    callback_id: VIEWS.usersBulk,
    title: modalTitle('Change status'),
    close: plain('Close'),
    blocks: [section(text)],
  };
}
