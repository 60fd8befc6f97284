import type { DirectoryHit } from '../src/usecases/directory-index.js';
import type { ModalView } from './block-kit.js';
import { context, esc, modalTitle, plain, truncate } from './common.js';
import { ACTIONS, BLOCKS, VIEWS } from './ids.js';

export const lookingUpText = (query: string) => `:mag: Looking up \`${esc(query.slice(0, 80))}\` in Duo…`;
export const PICK_USER_ERROR = 'Pick a user from the list.';

/** The search modal of `/duo lookup` with no argument: a typeahead over the local directory index. */
export function lookupModal(channelId: string): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.lookup,
    private_metadata: channelId,
    title: modalTitle('Look up a Duo user'),
    submit: plain('Show'),
    close: plain('Cancel'),
    blocks: [
      {
        type: 'input',
        block_id: BLOCKS.userPicker,
        label: plain('Duo user'),
        element: {
          type: 'external_select',
          action_id: ACTIONS.lookupPicker,
          placeholder: plain('Type a username, alias, email or name'),
          min_query_length: 1,
        },
      },
      context('Searches the directory duo-desk keeps from Duo (refreshed hourly and on every lookup).'),
    ],
  };
}

export function userOptions(hits: DirectoryHit[]) {
  return hits.map((h) => ({
    text: plain(
      truncate(
        `${h.realname ? `${h.realname} ` : ''}(${h.username})${h.status && h.status !== 'active' ? ` · ${h.status}` : ''}`,
        75,
      ),
    ),
    value: h.duoUserId,
    ...(h.email ? { description: plain(truncate(h.email, 75)) } : {}),
  }));
}
