import type { App } from '@slack/bolt';
import { fail } from '../src/errors.js';
import { actionListener, type CommandArgs, type ListenerCtx, viewListener } from '../src/slack/listener.js';
import type { Notifier } from '../src/slack/notifier.js';
import {
  confirmTotpEnrollment,
  resetTotpEnrollment,
  startTotpEnrollment,
  type TotpEnrollment,
  totpStatus,
} from '../src/usecases/step-up.js';
import { ACTIONS, BLOCKS, VIEWS } from '../views/ids.js';
import { mfaConfirmModal, mfaEnrollmentDm } from '../views/mfa.js';
import {
  MFA_ACTIVE_TEXT,
  MFA_DM_SENT_TEXT,
  MFA_SETTING_UP_TEXT,
  mfaDoneModal,
  mfaResetDoneText,
  mfaStatusMessage,
} from '../views/mfa-result.js';
import { type CommandEnv, type FlowCommands, formState } from './kit.js';

/**
 * `/duo mfa` enrolls the calling responder's authenticator app for step-up: the QR code as a file in
 * their DM, the key for manual entry, and a Confirm button; active after a first valid code. With an
 * active enrollment it asks for a current code first (re-enrollment). `/duo mfa status` shows the
 * state; `/duo mfa reset @someone` is for owners. Keys and codes are never logged.
 */
const USER_REF = /^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$/;

/** The QR code first (as a file), then the key and the Confirm button. */
async function sendEnrollment(notifier: Notifier, userId: string, e: TotpEnrollment): Promise<void> {
  await notifier.uploadToUser(userId, {
    filename: 'duo-desk-step-up.png',
    content: e.qrPng,
    title: 'duo-desk step-up QR code',
    comment: 'Scan this with your authenticator app. Never share it.',
  });
  await notifier.dm(userId, mfaEnrollmentDm(e.secretForManualEntry));
}

const codeOf = (values: unknown): string => formState(values).text(BLOCKS.totp) ?? '';

async function status(c: ListenerCtx, { deps }: CommandEnv) {
  const s = await totpStatus(c.em, c.teamId, c.userId);
  const locked = s.lockedUntil && s.lockedUntil.getTime() > deps.clock.now().getTime() ? s.lockedUntil : null;
  return mfaStatusMessage(s.status, locked);
}

async function run(c: ListenerCtx, { ack, command, respond }: CommandArgs, rest: string, env: CommandEnv) {
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
    await resetTotpEnrollment(deps, c.em, c.caller, userId);
    await ack({ response_type: 'ephemeral', text: mfaResetDoneText(userId) });
    return;
  }
  if (word) throw fail('INVALID_INPUT', 'mfa.unknown_option', {});
  if ((await totpStatus(c.em, c.teamId, c.userId)).status === 'active') {
    // Replacing an active factor needs a code from it first.
    await ack();
    await notifier.openView(command.trigger_id, mfaConfirmModal('reenroll'));
    return;
  }
  await ack({ response_type: 'ephemeral', text: MFA_SETTING_UP_TEXT });
  const enrollment = await startTotpEnrollment(deps, c.em, c.caller);
  await sendEnrollment(notifier, c.userId, enrollment);
  await respond({ response_type: 'ephemeral', replace_original: true, text: MFA_DM_SENT_TEXT });
}

function register(app: App, env: CommandEnv): void {
  const { deps, notifier } = env;

  app.action(
    ACTIONS.mfaStart,
    actionListener(deps, async (_c, { body }) => {
      await notifier.openView(body.trigger_id, mfaConfirmModal('confirm'));
    }),
  );

  app.view(
    VIEWS.mfaConfirm,
    viewListener(deps, async (c, { ack, view }) => {
      const code = codeOf(view.state.values);
      if (view.private_metadata === 'reenroll') {
        const enrollment = await startTotpEnrollment(deps, c.em, c.caller, { currentCode: code });
        await ack({ response_action: 'update', view: mfaDoneModal(MFA_DM_SENT_TEXT) });
        await sendEnrollment(notifier, c.userId, enrollment);
        return;
      }
      await confirmTotpEnrollment(deps, c.em, c.caller, code);
      await ack({ response_action: 'update', view: mfaDoneModal(MFA_ACTIVE_TEXT) });
    }),
  );
}

export const mfaFlow: FlowCommands['mfa'] = { run, register };
