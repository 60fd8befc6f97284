import { fail } from '../src/errors.js';
import { restoreUser } from '../src/usecases/restore-user.js';
import { section } from '../views/common.js';
import { userCard } from '../views/user-card.js';
import type { FlowCommands } from './kit.js';

const RESTORED =
  ':recycle: Restored from the Trash. Duo keeps the user *Disabled* until someone sets them Active (the card offers it).';

/** `/duo restore <user>` and the card's "Restore from Trash": the user comes back Disabled. */
export const restoreUserFlow: FlowCommands['restore'] = {
  async run(c, { ack, respond }, rest, { deps }) {
    if (!rest) throw fail('INVALID_INPUT', 'command.no_user', { example: 'restore olivia' });
    await ack({ response_type: 'ephemeral', text: ':hourglass_flowing_sand: Restoring from the Trash…' });
    const card = userCard(await restoreUser(deps, c.em, c.caller, rest));
    await respond({
      response_type: 'ephemeral',
      replace_original: true,
      text: card.text,
      blocks: [section(RESTORED), ...card.blocks],
    });
  },

  async onCard(c, { respond }, duoUserId, { deps }) {
    const card = userCard(await restoreUser(deps, c.em, c.caller, duoUserId));
    await respond({
      response_type: 'ephemeral',
      replace_original: false,
      text: card.text,
      blocks: [section(RESTORED), ...card.blocks],
    });
  },
};
