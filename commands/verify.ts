import { z } from 'zod';
import { DuoUserIdSchema } from '../src/domain/duo-objects.js';
import { fail } from '../src/errors.js';
import { actionListener, type ListenerCtx, showErrorInModal, viewListener } from '../src/slack/listener.js';
import { publishVerification } from '../src/slack/verification-follower.js';
import { ensureAllowed } from '../src/usecases/access.js';
import { parseUserQuery } from '../src/usecases/lookup.js';
import { sendVerificationPush, startVerification, type VerifyTarget } from '../src/usecases/verify.js';
import { workingModal } from '../views/common.js';
import { ACTIONS, BLOCKS, VIEWS } from '../views/ids.js';
import {
  noPushDeviceModal,
  PICK_PHONE_ERROR,
  phonePickerModal,
  pushSentModal,
  VERIFY_TITLE,
  verifyWorkingText,
} from '../views/verify.js';
import { buttonValue, type CommandEnv, type FlowCommands, formState } from './kit.js';

/**
 * `/duo verify <user>` and the card's Verify button: a working modal opens at once (trigger_id lives
 * 3 s, Duo may be slower), then becomes the phone picker, the "push sent: see your DM" note, the
 * no-push-device explanation, or the error. The code itself goes to the DM only (see
 * src/slack/verification-follower.ts for why); the modal, where the responder is looking, says so.
 */
async function runInModal(c: ListenerCtx, env: CommandEnv, viewId: string, target: VerifyTarget) {
  try {
    const r = await startVerification(env.deps, c.em, c.caller, target);
    if (r.kind === 'noPushDevice') await env.notifier.updateView(viewId, noPushDeviceModal(r.user));
    else if (r.kind === 'needsPhoneChoice') await env.notifier.updateView(viewId, phonePickerModal(r.user, r.phones));
    else {
      await publishVerification(env, c.em, r);
      // The push is out and the DM has the code: a modal the responder already closed is no error.
      await env.notifier
        .updateView(viewId, pushSentModal(r.user, r.phoneLabel))
        .catch((e) => c.logger.info('verify: modal gone before the push was sent', { err: e }));
    }
  } catch (err) {
    await showErrorInModal(env.deps, env.notifier, c, viewId, err, 'verify');
  }
}

const working = (what: Parameters<typeof verifyWorkingText>[0]) =>
  workingModal(VERIFY_TITLE, verifyWorkingText(what), VIEWS.working);

export const verifyFlow: FlowCommands['verify'] = {
  async run(c, { ack, command }, rest, env) {
    const query = parseUserQuery(rest);
    await ack();
    const view = await env.notifier.openView(command.trigger_id, working({ query }));
    await runInModal(c, env, view.id, { query });
  },

  async onCard(c, { body }, duoUserId, env) {
    const view = await env.notifier.openView(body.trigger_id, working('asking'));
    await runInModal(c, env, view.id, { duoUserId });
  },

  register(app, env) {
    // "Send verification push" inside the unlock, status and bypass forms pushes the flow on top of
    // the form, which re-checks the verification when submitted.
    app.action(
      ACTIONS.verifySendFromModal,
      actionListener(env.deps, async (c, { body, action }) => {
        const duoUserId = buttonValue(DuoUserIdSchema, action);
        await ensureAllowed(env.deps, c.em, c.caller, 'user.verify');
        const view = await env.notifier.pushView(body.trigger_id, working('asking'));
        await runInModal(c, env, view.id, { duoUserId });
      }),
    );

    app.view(
      VIEWS.verifyPick,
      viewListener(env.deps, async (c, { ack, view }) => {
        const phoneId = z.string().min(1).max(64).safeParse(formState(view.state.values).choice(BLOCKS.phone));
        if (!phoneId.success) {
          await ack({ response_action: 'errors', errors: { [BLOCKS.phone]: PICK_PHONE_ERROR } });
          return;
        }
        const user = DuoUserIdSchema.safeParse(view.private_metadata);
        if (!user.success) throw fail('INVALID_INPUT', 'form.stale', { reopen: 'user_card' });
        await ack({ response_action: 'update', view: working('sending') });
        const sent = await sendVerificationPush(env.deps, c.em, c.caller, user.data, phoneId.data);
        await publishVerification(env, c.em, sent);
        await env.notifier.updateView(view.id, pushSentModal(sent.user, sent.phoneLabel));
      }),
    );
  },
};
