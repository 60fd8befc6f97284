import { fail } from '../src/errors.js';
import { requestDeletion } from '../src/usecases/delete-users.js';
import type { FlowCommand } from './kit.js';

/** `/duo delete <user>[,<user>…] <reason>`: permanent deletion of users in the Trash, after approval. */
export const deleteUsersFlow: FlowCommand = {
  async run(c, { ack, respond, command }, rest, { deps, approvals }) {
    const [list, ...words] = rest.split(/\s+/).filter(Boolean);
    const refs = (list ?? '').split(',').filter(Boolean);
    if (!refs.length) throw fail('INVALID_INPUT', 'command.no_user', { example: 'delete olivia Duplicate account' });
    await ack({ response_type: 'ephemeral', text: ':hourglass_flowing_sand: Asking to delete permanently…' });
    const submitted = await requestDeletion(deps, c.em, c.caller, approvals, {
      refs,
      reason: words.join(' ') || null,
      requestChannel: command.channel_id,
    });
    const who = refs.length === 1 ? `\`${refs[0]}\`` : `${refs.length} users`;
    const text =
      submitted.outcome === 'pending'
        ? `:hourglass_flowing_sand: Deleting ${who} permanently waits for ${submitted.request.policy === 'second_owner' ? 'an owner' : 'a second person'} in the approvals channel. Nothing changed yet. :warning: Their phones and endpoints not shared with another user go too; added back, they must re-enroll.`
        : submitted.outcome === 'scheduled'
          ? `:hourglass_flowing_sand: No other owner can approve: deleting ${who} takes effect after the announced delay unless an owner cancels it.`
          : submitted.outcome === 'done'
            ? `:wastebasket: Deleted ${who} permanently.`
            : `The request ended as ${submitted.outcome}.`;
    await respond({ response_type: 'ephemeral', replace_original: true, text });
  },
};
