import type { App } from '@slack/bolt';
import { z } from 'zod';
import { fail } from '../src/errors.js';
import {
  type CommandArgs,
  type ListenerCtx,
  showErrorInModal,
  viewClosedListener,
  viewListener,
} from '../src/slack/listener.js';
import {
  abandonTotpEnrollment,
  attachEnrollmentDisplay,
  confirmTotpEnrollment,
  type StartedEnrollment,
  startTotpEnrollment,
  totpStatus,
} from '../src/usecases/step-up.js';
import { prepareStepUpReset, requestStepUpReset } from '../src/usecases/stepup-reset.js';
import { workingModal } from '../views/common.js';
import { BLOCKS, VIEWS } from '../views/ids.js';
import { MFA_TITLE, MFA_WORKING_TEXT, mfaEnrollmentModal, mfaReenrollModal } from '../views/mfa.js';
import {
  MFA_ACTIVE_TEXT,
  mfaDoneModal,
  mfaResetModal,
  mfaResetSubmittedText,
  mfaStatusMessage,
} from '../views/mfa-result.js';
import { type CommandEnv, type FlowCommands, formState, parsePrivateMetadata } from './kit.js';

/**
 * `/duo mfa` enrolls the calling responder's authenticator app for step-up, bound to their own Duo
 * account: a working modal opens at once, the use case sends a Duo Push to the responder's own phone,
 * and the modal becomes the one place the key is shown (the QR as an image of a file shared with no
 * channel, the key as text, the code input). Confirming needs the push approved and a first valid code;
 * the modal is then replaced and the file deleted (by a durable job, at the latest when the attempt
 * expires). With an active enrollment it asks for a current code first (re-enrollment).
 * `/duo mfa status` shows the state; `/duo mfa reset @someone` is for owners. Keys and codes are never logged.
 */
const USER_REF = /^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$/;

const codeOf = (values: unknown): string => formState(values).text(BLOCKS.totp) ?? '';
const working = () => workingModal(MFA_TITLE, MFA_WORKING_TEXT, VIEWS.working);

/** Uploads the QR (shared with no channel), records where it and the modal are, then shows the key there. */
async function showEnrollment(c: ListenerCtx, { notifier }: CommandEnv, viewId: string, e: StartedEnrollment) {
  await attachEnrollmentDisplay(c.em, c.caller, e.enrollmentId, { viewId });
  const qrFileId = await notifier.uploadUnshared({
    filename: 'duo-desk-step-up.png',
    content: e.qrPng,
    title: 'duo-desk step-up QR code',
    altText: 'QR code for your authenticator app',
  });
  await attachEnrollmentDisplay(c.em, c.caller, e.enrollmentId, { qrFileId });
  await notifier.updateView(viewId, mfaEnrollmentModal({ ...e, qrFileId }));
}

async function status(c: ListenerCtx, { deps }: CommandEnv) {
  const s = await totpStatus(c.em, c.teamId, c.userId);
  const locked = s.lockedUntil && s.lockedUntil.getTime() > deps.clock.now().getTime() ? s.lockedUntil : null;
  return mfaStatusMessage(s.status, locked);
}

async function run(c: ListenerCtx, { ack, command }: CommandArgs, rest: string, env: CommandEnv) {
  const { deps, notifier } = env;
  const [word = '', target = ''] = rest.split(/\s+/);
  if (word.toLowerCase() === 'status') {
    await ack({ response_type: 'ephemeral', ...(await status(c, env)) });
    return;
  }
  if (word.toLowerCase() === 'reset') {
    const m = USER_REF.exec(target);
    if (!m) throw fail('INVALID_INPUT', 'mfa.reset_needs_user', {});
    const userId = m[1] ?? m[2]!;
    await prepareStepUpReset(deps, c.em, c.caller, userId);
    await ack();
    await notifier.openView(command.trigger_id, mfaResetModal(userId, command.channel_id));
    return;
  }
  if (word) throw fail('INVALID_INPUT', 'mfa.unknown_option', {});
  await ack();
  if ((await totpStatus(c.em, c.teamId, c.userId)).status === 'active') {
    // Replacing an active factor needs a code from it first.
    await notifier.openView(command.trigger_id, mfaReenrollModal());
    return;
  }
  const view = await notifier.openView(command.trigger_id, working());
  try {
    await showEnrollment(c, env, view.id, await startTotpEnrollment(deps, c.em, c.caller));
  } catch (err) {
    await showErrorInModal(deps, notifier, c, view.id, err, 'mfa');
  }
}

function register(app: App, env: CommandEnv): void {
  const { deps } = env;

  app.view(
    VIEWS.mfaConfirm,
    viewListener(deps, async (c, { ack, view }) => {
      // A wrong current code is a field error; once it passed, the modal works while Slack and Duo answer.
      const enrollment = await startTotpEnrollment(
        deps,
        c.em,
        c.caller,
        { currentCode: codeOf(view.state.values) },
        { accepted: () => ack({ response_action: 'update', view: working() }) },
      );
      await showEnrollment(c, env, view.id, enrollment);
    }),
  );

  app.view(
    VIEWS.mfaEnroll,
    viewListener(deps, async (c, { ack, view }) => {
      await confirmTotpEnrollment(deps, c.em, c.caller, codeOf(view.state.values));
      await ack({ response_action: 'update', view: mfaDoneModal(MFA_ACTIVE_TEXT) });
    }),
  );

  app.view(
    { callback_id: VIEWS.mfaEnroll, type: 'view_closed' },
    viewClosedListener(deps, async (c) => {
      await abandonTotpEnrollment(deps, c.em, c.caller);
    }),
  );
}

const resetMeta = z.object({ userId: z.string().regex(/^[UW][A-Z0-9]{2,}$/), channelId: z.string().max(30) }).strict();

/** `/duo mfa reset @someone`: the owner's step-up code and a reason, then the guarded reset. */
function registerReset(app: App, { deps, approvals }: CommandEnv): void {
  app.view(
    VIEWS.mfaReset,
    viewListener(deps, async (c, { ack, view }) => {
      const meta = parsePrivateMetadata(resetMeta, view.private_metadata, 'roles');
      const form = formState(view.state.values);
      const submitted = await requestStepUpReset(deps, c.em, c.caller, approvals, {
        targetUserId: meta.userId,
        totp: form.text(BLOCKS.totp),
        reason: form.text(BLOCKS.reason),
        requestChannel: meta.channelId || null,
      });
      await ack({ response_action: 'update', view: mfaDoneModal(mfaResetSubmittedText(meta.userId, submitted)) });
    }),
  );
}

export const mfaFlow: FlowCommands['mfa'] = {
  run,
  register(app, env) {
    register(app, env);
    registerReset(app, env);
  },
};
