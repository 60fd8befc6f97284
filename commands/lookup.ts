import type { App } from '@slack/bolt';
import { z } from 'zod';
import { optionsListener, viewListener } from '../src/slack/listener.js';
import { ensureAllowed } from '../src/usecases/access.js';
import { lookupUser, searchUsers } from '../src/usecases/lookup.js';
import { ACTIONS, BLOCKS, VIEWS } from '../views/ids.js';
import { lookupModal, userOptions } from '../views/lookup.js';
import { userCard } from '../views/user-card.js';
import type { CommandEnv, SubcommandHandler } from './kit.js';

/** `/duo lookup <user>` answers with the card; with no argument it opens the search modal. */
export const lookup: SubcommandHandler = async (c, { ack, respond, command }, rest, { deps, notifier }) => {
  if (!rest) {
    await ensureAllowed(deps, c.em, c.caller, 'user.lookup');
    await ack();
    await notifier.openView(command.trigger_id, lookupModal(command.channel_id));
    return;
  }
  await ack({ response_type: 'ephemeral', text: `:mag: Looking up \`${rest.slice(0, 80)}\` in Duo…` });
  const model = await lookupUser(deps, c.em, c.caller, rest);
  await respond({ response_type: 'ephemeral', replace_original: true, ...userCard(model) } as never);
};

const pickedUser = z.object({
  [BLOCKS.userPicker]: z.object({
    [ACTIONS.lookupPicker]: z.object({ selected_option: z.object({ value: z.string().regex(/^DU[A-Z0-9]+$/) }) }),
  }),
});

export function registerLookup(app: App, { deps, notifier }: CommandEnv): void {
  app.options(
    ACTIONS.lookupPicker,
    optionsListener(deps, async (c, { ack, options }) => {
      const hits = await searchUsers(deps, c.em, c.caller, options.value ?? '');
      await ack({ options: userOptions(hits) as never });
    }),
  );

  app.view(
    VIEWS.lookup,
    viewListener(deps, async (c, { ack, view }) => {
      const parsed = pickedUser.safeParse(view.state.values);
      if (!parsed.success) {
        await ack({ response_action: 'errors', errors: { [BLOCKS.userPicker]: 'Pick a user from the list.' } });
        return;
      }
      await ack();
      const model = await lookupUser(
        deps,
        c.em,
        c.caller,
        parsed.data[BLOCKS.userPicker][ACTIONS.lookupPicker].selected_option.value,
      );
      await notifier.tellPrivately(c.userId, view.private_metadata, userCard(model));
    }),
  );
}
