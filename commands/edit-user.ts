import { z } from 'zod';
import { DuoUserIdSchema } from '../src/domain/duo-objects.js';
import { fail } from '../src/errors.js';
import { viewListener } from '../src/slack/listener.js';
import { editUser, prepareEdit } from '../src/usecases/edit-user.js';
import { editDoneModal, editModal } from '../views/edit-user.js';
import { BLOCKS, VIEWS } from '../views/ids.js';
import { userCard } from '../views/user-card.js';
import { channelOf, type FlowCommands, formState, parsePrivateMetadata, quietly } from './kit.js';

const Meta = z.object({ duoUserId: DuoUserIdSchema, channelId: z.string().max(30) }).strict();

/** `/duo edit <user>` and the card's "Edit user": the form, then the change (a new email of an enrolled user: approval). */
export const editUserFlow: FlowCommands['edit'] = {
  async run(c, { ack, command }, rest, { deps, notifier }) {
    if (!rest) throw fail('INVALID_INPUT', 'command.no_user', { example: 'edit frank' });
    const model = await prepareEdit(deps, c.em, c.caller, rest);
    await ack();
    await notifier.openView(command.trigger_id, editModal(model, command.channel_id));
  },

  async onCard(c, { body }, duoUserId, { deps, notifier }) {
    const model = await prepareEdit(deps, c.em, c.caller, duoUserId);
    await notifier.openView((body as { trigger_id: string }).trigger_id, editModal(model, channelOf(body)));
  },

  register(app, { deps, notifier, approvals }) {
    app.view(
      VIEWS.editUser,
      viewListener(deps, async (c, { ack, view }) => {
        const where = parsePrivateMetadata(Meta, view.private_metadata, 'user_card');
        const form = formState(view.state.values);
        const auto = form.choice(BLOCKS.autoPrompt);
        const result = await editUser(deps, c.em, c.caller, approvals, {
          duoUserId: where.duoUserId,
          realname: form.text(BLOCKS.realname) ?? (view.blocks.some((b) => b.block_id === BLOCKS.realname) ? '' : null),
          email: form.text(BLOCKS.email) ?? (view.blocks.some((b) => b.block_id === BLOCKS.email) ? '' : null),
          notes: form.text(BLOCKS.notes) ?? (view.blocks.some((b) => b.block_id === BLOCKS.notes) ? '' : null),
          aliases: form.text(BLOCKS.aliases) ?? (view.blocks.some((b) => b.block_id === BLOCKS.aliases) ? '' : null),
          enableAutoPrompt: auto === null ? null : auto === 'on',
          reason: form.text(BLOCKS.reason),
          ticket: form.text(BLOCKS.ticket),
          totp: form.text(BLOCKS.totp),
          requestChannel: where.channelId,
        });
        await ack({ response_action: 'update', view: editDoneModal(result) });
        if (result.card)
          await quietly(c, 'post the card', () =>
            notifier.tellPrivately(c.userId, where.channelId, userCard(result.card!)),
          );
      }),
    );
  },
};
