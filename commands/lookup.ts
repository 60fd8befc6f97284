import { DuoUserIdSchema } from '../src/domain/duo-objects.js';
import { optionsListener, viewListener } from '../src/slack/listener.js';
import { lookupUser, searchUsers } from '../src/usecases/lookup.js';
import { ACTIONS, BLOCKS, VIEWS } from '../views/ids.js';
import { lookingUpText, lookupModal, PICK_USER_ERROR, userOptions } from '../views/lookup.js';
import { userCard } from '../views/user-card.js';
import { type FlowCommand, formState } from './kit.js';

/** `/duo lookup <user>` answers with the card; with no argument it opens the search modal. */
export const lookupFlow: FlowCommand = {
  async run(c, { ack, respond, command }, rest, { deps, notifier }) {
    if (!rest) {
      await ack();
      await notifier.openView(command.trigger_id, lookupModal(command.channel_id));
      return;
    }
    await ack({ response_type: 'ephemeral', text: lookingUpText(rest) });
    const model = await lookupUser(deps, c.em, c.caller, rest);
    await respond({ response_type: 'ephemeral', replace_original: true, ...userCard(model) });
  },

  register(app, { deps, notifier }) {
    app.options(
      ACTIONS.lookupPicker,
      optionsListener(deps, async (c, { ack, options }) => {
        const hits = await searchUsers(deps, c.em, c.caller, options.value ?? '');
        await ack({ options: userOptions(hits) });
      }),
    );

    app.view(
      VIEWS.lookup,
      viewListener(deps, async (c, { ack, view }) => {
        const picked = DuoUserIdSchema.safeParse(
          formState(view.state.values).choice(BLOCKS.userPicker, ACTIONS.lookupPicker),
        );
        if (!picked.success) {
          await ack({ response_action: 'errors', errors: { [BLOCKS.userPicker]: PICK_USER_ERROR } });
          return;
        }
        await ack();
        const model = await lookupUser(deps, c.em, c.caller, picked.data);
        await notifier.tellPrivately(c.userId, view.private_metadata, userCard(model));
      }),
    );
  },
};
