import type { ModalView } from '@slack/types';
import type { User } from '../src/duo/types.js';
import { esc, modalTitle, plain, section, textInput, ticketInput, workingModal } from './common.js';
import { BLOCKS, VIEWS } from './ids.js';

/** `/duo create`: the new user's fields (Duo's: username, full name, email, up to eight aliases). */
export function createUserModal(channelId: string): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.createUser,
    private_metadata: JSON.stringify({ channelId }),
    title: modalTitle('Create Duo user'),
    submit: plain('Create'),
    close: plain('Cancel'),
    blocks: [
      textInput(BLOCKS.username, 'Username', {
        max: 100,
        placeholder: 'the primary login, e.g. narroway',
        hint: 'It should match the login used for the Duo-protected service.',
      }),
      textInput(BLOCKS.realname, 'Full name', { optional: true, max: 100 }),
      textInput(BLOCKS.email, 'Email', {
        optional: true,
        max: 200,
        hint: 'Enrollment and activation emails go to this address.',
      }),
      textInput(BLOCKS.aliases, 'Username aliases', {
        optional: true,
        multiline: true,
        max: 900,
        placeholder: 'one per line, up to 8, e.g. narroway@example.com',
      }),
      ticketInput(),
    ],
  };
}

export const creatingModal = () => workingModal('Create Duo user', 'Creating the user in Duo…', VIEWS.working);

export function createdModal(u: User): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.working,
    title: modalTitle('Create Duo user'),
    close: plain('Done'),
    blocks: [
      section(
        `:white_check_mark: Created *${esc(u.username)}* in Duo (status Active, no device yet). Their card is in the channel, visible to you only${u.email ? ': it offers the enrollment email.' : '; add an email address in Duo to send the enrollment email.'}`,
      ),
    ],
  };
}
