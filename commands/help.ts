import { availableFlows } from '../src/usecases/flows.js';
import { helpMessage } from '../views/help.js';
import type { FlowCommand } from './kit.js';

/** `/duo help` (and `/duo` alone): what this responder's role allows, from the flow descriptors. */
export const helpFlow: FlowCommand = {
  async run(c, { ack }, _rest, { deps }) {
    const { actor, flows, guards } = await availableFlows(deps, c.em, c.caller);
    await ack({ response_type: 'ephemeral', ...helpMessage(actor, flows, guards) });
  },
};
