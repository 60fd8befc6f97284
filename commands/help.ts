import { availableSubcommands } from '../src/usecases/help.js';
import { helpMessage } from '../views/help.js';
import type { SubcommandHandler } from './kit.js';

export const help: SubcommandHandler = async (c, { ack }, _rest, { deps }) => {
  const { actor, names } = await availableSubcommands(deps, c.em, c.caller);
  await ack({ response_type: 'ephemeral', ...helpMessage(actor, names) } as never);
};
