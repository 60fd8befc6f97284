import { fail } from '../src/errors.js';
import { requestTrash } from '../src/usecases/trash-user.js';
import type { FlowCommand } from './kit.js';

/** `/duo trash <user> <reason>`: the request goes to the approvals channel (or is done, for an exempt role). */
export const trashUserFlow: FlowCommand = {
  async run(c, { ack, respond, command }, rest, { deps, approvals }) {
    const [ref, ...words] = rest.split(/\s+/).filter(Boolean);
    if (!ref) throw fail('INVALID_INPUT', 'command.no_user', { example: 'trash frank Left the company' });
    await ack({ response_type: 'ephemeral', text: ':hourglass_flowing_sand: Asking to send the user to the Trash…' });
    const submitted = await requestTrash(deps, c.em, c.caller, approvals, {
      ref,
      reason: words.join(' ') || null,
      requestChannel: command.channel_id,
    });
    const name = submitted.request.target?.username ?? ref;
    const text =
      submitted.outcome === 'pending'
        ? `:hourglass_flowing_sand: Sending \`${name}\` to the Trash waits for a second person in the approvals channel. Nothing changed yet.`
        : submitted.outcome === 'done'
          ? `:wastebasket: \`${name}\` is in the Trash: disabled now; Duo deletes them after its Trash duration unless restored.`
          : `The request ended as ${submitted.outcome}.`;
    await respond({ response_type: 'ephemeral', replace_original: true, text });
  },
};
