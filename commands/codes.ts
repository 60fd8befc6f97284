import { z } from 'zod';
import { DuoUserIdSchema } from '../src/domain/duo-objects.js';
import { fail } from '../src/errors.js';
import { actionListener } from '../src/slack/listener.js';
import { deleteBypassCodes, listBypassCodes } from '../src/usecases/codes.js';
import { parseUserQuery } from '../src/usecases/lookup.js';
import { codesMessage, readingCodesText } from '../views/codes.js';
import { ACTIONS } from '../views/ids.js';
import { buttonValue, type FlowCommands } from './kit.js';

/**
 * `/duo codes <user>` and the card's "Bypass codes": the list as Duo reports it, with Delete (one)
 * and Delete all (after Slack's confirm). Each deletion re-reads the user's codes from Duo first.
 */
const CODE_PATTERN = /^(DU[A-Z0-9]{18}):(D[A-Z0-9]{10,39})$/;
const CODE_REF = z.string().regex(CODE_PATTERN);

export const codesFlow: FlowCommands['codes'] = {
  async run(c, { ack, respond }, rest, { deps }) {
    if (!rest) throw fail('INVALID_INPUT', 'command.no_user', { example: 'codes peggy' });
    const ref = parseUserQuery(rest);
    await ack({ response_type: 'ephemeral', text: readingCodesText(ref) });
    const model = await listBypassCodes(deps, c.em, c.caller, ref);
    await respond({ response_type: 'ephemeral', replace_original: true, ...codesMessage(model) });
  },

  async onCard(c, { respond }, duoUserId, { deps }) {
    const model = await listBypassCodes(deps, c.em, c.caller, duoUserId);
    await respond({ response_type: 'ephemeral', replace_original: false, ...codesMessage(model) });
  },

  register(app, { deps }) {
    app.action(
      ACTIONS.codesDeleteOne,
      actionListener(deps, async (c, { action, respond }) => {
        const [, duoUserId, codeId] = CODE_PATTERN.exec(buttonValue(CODE_REF, action))!;
        const model = await deleteBypassCodes(deps, c.em, c.caller, duoUserId!, codeId!);
        await respond({ response_type: 'ephemeral', replace_original: true, ...codesMessage(model) });
      }),
    );

    app.action(
      ACTIONS.codesDeleteAll,
      actionListener(deps, async (c, { action, respond }) => {
        const model = await deleteBypassCodes(deps, c.em, c.caller, buttonValue(DuoUserIdSchema, action), 'all');
        await respond({ response_type: 'ephemeral', replace_original: true, ...codesMessage(model) });
      }),
    );
  },
};
