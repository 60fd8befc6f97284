import type { App } from '@slack/bolt';
import { z } from 'zod';
import { AppError } from '../src/errors.js';
import { actionListener, type ListenerCtx, showErrorInModal, viewListener } from '../src/slack/listener.js';
import { publishVerification } from '../src/slack/verification-follower.js';
import { ensureAllowed } from '../src/usecases/access.js';
import { parseUserQuery } from '../src/usecases/lookup.js';
import { sendVerificationPush, startVerification, type VerifyTarget } from '../src/usecases/verify.js';
import { workingModal } from '../views/common.js';
import { ACTIONS, BLOCKS, inputActionId, VIEWS } from '../views/ids.js';
import { noPushDeviceModal, phonePickerModal, pushSentModal } from '../views/verify.js';
import type { CommandEnv, SubcommandHandler } from './kit.js';

/**
 * `/duo verify <user>` and the card's Verify button: a working modal opens at once (trigger_id lives
 * 3 s, Duo may be slower), then becomes the phone picker, the "push sent: see your DM" note, the
 * no-push-device explanation, or the error. The code itself goes to the DM only (see
 * src/slack/verification-follower.ts for why); the modal, where the responder is looking, says so,
 * which is why no extra ephemeral "see your DM" note is posted in the channel.
 */
const TITLE = 'Verify with Duo Push';
const duoUserId = z.string().regex(/^DU[A-Z0-9]{18}$/);

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
      return;
    }
  } catch (err) {
    await showErrorInModal(env.deps, env.notifier, c, viewId, err, 'verify');
  }
}

export const verify: SubcommandHandler = async (c, { ack, command }, rest, env) => {
  const query = parseUserQuery(rest);
  await ensureAllowed(env.deps, c.em, c.caller, 'user.verify');
  await ack();
  const view = await env.notifier.openView(
    command.trigger_id,
    workingModal(TITLE, `Looking up \`${query.slice(0, 80)}\` in Duo…`, VIEWS.working),
  );
  await runInModal(c, env, view.id, { query });
};

const pickedPhone = z.object({
  [BLOCKS.phone]: z.object({
    [inputActionId(BLOCKS.phone)]: z.object({ selected_option: z.object({ value: z.string().min(1).max(64) }) }),
  }),
});

export function registerVerify(app: App, env: CommandEnv): void {
  // The card's Verify button opens the flow; "Send verification push" inside the unlock, status and
  // bypass forms pushes it on top of the form, which re-checks the verification when submitted.
  for (const [actionId, open] of [
    [ACTIONS.cardVerify, (t: string, v: unknown) => env.notifier.openView(t, v)],
    [ACTIONS.verifySendFromModal, (t: string, v: unknown) => env.notifier.pushView(t, v)],
  ] as const) {
    app.action(
      actionId,
      actionListener(env.deps, async (c, { body, action }) => {
        const id = duoUserId.parse((action as { value?: string }).value);
        await ensureAllowed(env.deps, c.em, c.caller, 'user.verify');
        const view = await open(body.trigger_id, workingModal(TITLE, 'Asking Duo…', VIEWS.working));
        await runInModal(c, env, view.id, { duoUserId: id });
      }),
    );
  }

  app.view(
    VIEWS.verifyPick,
    viewListener(env.deps, async (c, { ack, view }) => {
      const phone = pickedPhone.safeParse(view.state.values);
      if (!phone.success) {
        await ack({
          response_action: 'errors',
          errors: { [BLOCKS.phone]: 'Pick the phone the caller has with them.' },
        });
        return;
      }
      const user = duoUserId.safeParse(view.private_metadata);
      if (!user.success) throw new AppError('INVALID_INPUT', 'verify picker metadata is not a Duo user id');
      await ack({ response_action: 'update', view: workingModal(TITLE, 'Sending the push…', VIEWS.working) as never });
      const phoneId = phone.data[BLOCKS.phone][inputActionId(BLOCKS.phone)].selected_option.value;
      const sent = await sendVerificationPush(env.deps, c.em, c.caller, user.data, phoneId);
      await publishVerification(env, c.em, sent);
      await env.notifier.updateView(view.id, pushSentModal(sent.user, sent.phoneLabel));
    }),
  );
}
