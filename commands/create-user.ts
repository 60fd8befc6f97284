import { z } from 'zod';
import { viewListener } from '../src/slack/listener.js';
import { createUser } from '../src/usecases/create-user.js';
import { createdModal, createUserModal, creatingModal } from '../views/create-user.js';
import { BLOCKS, VIEWS } from '../views/ids.js';
import { userCard } from '../views/user-card.js';
import { type FlowCommand, formState, parsePrivateMetadata, quietly } from './kit.js';

const Meta = z.object({ channelId: z.string().max(30) }).strict();

/** `/duo create`: the form, then Duo's new user and their card (which offers the enrollment email). */
export const createUserFlow: FlowCommand = {
  async run(_c, { ack, command }, _rest, { notifier }) {
    await ack();
    await notifier.openView(command.trigger_id, createUserModal(command.channel_id));
  },

  register(app, { deps, notifier }) {
    app.view(
      VIEWS.createUser,
      viewListener(deps, async (c, { ack, view }) => {
        const where = parsePrivateMetadata(Meta, view.private_metadata, 'user_card');
        const form = formState(view.state.values);
        const card = await createUser(
          deps,
          c.em,
          c.caller,
          {
            username: form.text(BLOCKS.username),
            realname: form.text(BLOCKS.realname),
            email: form.text(BLOCKS.email),
            aliases: form.text(BLOCKS.aliases),
            ticket: form.text(BLOCKS.ticket),
          },
          { accepted: () => ack({ response_action: 'update', view: creatingModal() }) },
        );
        await quietly(c, 'show the result', () => notifier.updateView(view.id, createdModal(card.user)));
        await quietly(c, 'post the card', () => notifier.tellPrivately(c.userId, where.channelId, userCard(card)));
      }),
    );
  },
};
