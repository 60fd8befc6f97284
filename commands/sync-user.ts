import { fail } from '../src/errors.js';
import { syncOneUser } from '../src/usecases/sync-user.js';
import { syncingText, syncResultMessage } from '../views/sync-user.js';
import type { FlowCommand } from './kit.js';

/** `/duo sync <username> [directory]`: one user from the directory now (Help Desk may, as in Duo). */
export const syncFlow: FlowCommand = {
  async run(c, { ack, respond }, rest, { deps }) {
    const [username, ...directory] = rest.split(/\s+/).filter(Boolean);
    if (!username) throw fail('INVALID_INPUT', 'command.no_user', { example: 'sync niaj' });
    await ack({ response_type: 'ephemeral', text: syncingText(username) });
    const result = await syncOneUser(deps, c.em, c.caller, { username, directory: directory.join(' ') || null });
    await respond({ response_type: 'ephemeral', replace_original: true, ...syncResultMessage(result) });
  },
};
