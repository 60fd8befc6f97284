import type { App, BlockAction } from '@slack/bolt';
import { z } from 'zod';
import { AppError } from '../src/errors.js';
import { actionListener } from '../src/slack/listener.js';
import { deleteBypassCodes, listBypassCodes } from '../src/usecases/codes.js';
import { parseUserQuery } from '../src/usecases/lookup.js';
import { codesMessage } from '../views/codes.js';
import { ACTIONS, SLASH_COMMAND } from '../views/ids.js';
import type { CommandEnv, SubcommandHandler } from './kit.js';

/**
 * `/duo codes <user>` and the card's "Bypass codes": the list as Duo reports it, with Delete (one)
 * and Delete all (after Slack's confirm). Each deletion re-reads the user's codes from Duo first.
 */
const DUO_USER_ID = z.string().regex(/^DU[A-Z0-9]{10,30}$/);
const CODE_PATTERN = /^(DU[A-Z0-9]{10,30}):(D[A-Z0-9]{10,39})$/;
const CODE_REF = z.string().regex(CODE_PATTERN);

function buttonValue<T>(schema: z.ZodType<T>, action: unknown): T {
  const parsed = z.object({ value: schema }).safeParse(action);
  if (!parsed.success)
    throw new AppError('INVALID_INPUT', 'bad button value', { userMessage: 'That button is no longer valid.' });
  return parsed.data.value;
}

export const codes: SubcommandHandler = async (c, { ack, respond }, rest, { deps }) => {
  if (!rest)
    throw new AppError('INVALID_INPUT', 'no user given', {
      userMessage: `Say which Duo user, e.g. \`${SLASH_COMMAND} codes peggy\`.`,
    });
  const ref = parseUserQuery(rest);
  await ack({
    response_type: 'ephemeral',
    text: `:mag: Reading the bypass codes of \`${ref.slice(0, 80)}\` from Duo…`,
  });
  const model = await listBypassCodes(deps, c.em, c.caller, ref);
  await respond({ response_type: 'ephemeral', replace_original: true, ...codesMessage(model) } as never);
};

export function registerCodes(app: App, { deps }: CommandEnv): void {
  app.action<BlockAction>(
    ACTIONS.cardCodes,
    actionListener(deps, async (c, { action, respond }) => {
      const model = await listBypassCodes(deps, c.em, c.caller, buttonValue(DUO_USER_ID, action));
      await respond({ response_type: 'ephemeral', replace_original: false, ...codesMessage(model) } as never);
    }),
  );

  app.action<BlockAction>(
    ACTIONS.codesDeleteOne,
    actionListener(deps, async (c, { action, respond }) => {
      const [, duoUserId, codeId] = CODE_PATTERN.exec(buttonValue(CODE_REF, action))!;
      const model = await deleteBypassCodes(deps, c.em, c.caller, duoUserId!, codeId!);
      await respond({ response_type: 'ephemeral', replace_original: true, ...codesMessage(model) } as never);
    }),
  );

  app.action<BlockAction>(
    ACTIONS.codesDeleteAll,
    actionListener(deps, async (c, { action, respond }) => {
      const model = await deleteBypassCodes(deps, c.em, c.caller, buttonValue(DUO_USER_ID, action), 'all');
      await respond({ response_type: 'ephemeral', replace_original: true, ...codesMessage(model) } as never);
    }),
  );
}
