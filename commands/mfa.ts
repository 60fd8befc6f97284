import type { App, BlockAction } from '@slack/bolt';
import { AppError } from '../src/errors.js';
import { actionListener, type ListenerCtx, viewListener } from '../src/slack/listener.js';
import type { Notifier } from '../src/slack/notifier.js';
import {
  confirmTotpEnrollment,
  resetTotpEnrollment,
  startTotpEnrollment,
  type TotpEnrollment,
  totpStatus,
} from '../src/usecases/step-up.js';
import { ACTIONS, BLOCKS, inputActionId, VIEWS } from '../views/ids.js';
import { mfaConfirmModal, mfaEnrollmentDm } from '../views/mfa.js';
import { MFA_ACTIVE_TEXT, MFA_DM_SENT_TEXT, mfaDoneModal, mfaStatusMessage } from '../views/mfa-result.js';
import type { CommandEnv, SubcommandHandler } from './kit.js';

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

const codeOf = (values: unknown): string => {
  const v = (values as Record<string, Record<string, { value?: string | null }>>)?.[BLOCKS.totp]?.[
    inputActionId(BLOCKS.totp)
  ]?.value;
  return typeof v === 'string' ? v : '';
};

async function status(c: ListenerCtx, { deps }: CommandEnv) {
  const s = await totpStatus(c.em, c.teamId, c.userId);
  const locked = s.lockedUntil && s.lockedUntil.getTime() > deps.clock.now().getTime() ? s.lockedUntil : null;
  return mfaStatusMessage(s.status, locked);
}

export const mfa: SubcommandHandler = async (c, { ack, command, respond }, rest, env) => {
  const { deps, notifier } = env;
  const [word = '', target = ''] = rest.split(/\s+/);
  if (word.toLowerCase() === 'status') {
    await ack({ response_type: 'ephemeral', ...(await status(c, env)) } as never);
    return;
  }
  if (word.toLowerCase() === 'reset') {
    const m = USER_REF.exec(target);
    if (!m)
      throw new AppError('INVALID_INPUT', 'mfa reset needs a user', {
        userMessage: 'Say whose enrollment to reset, e.g. `/duo mfa reset @hank`.',
      });
    const userId = m[1] ?? m[2]!;
    await resetTotpEnrollment(deps, c.em, c.caller, userId);
    await ack({
      response_type: 'ephemeral',
      text: `:arrows_counterclockwise: <@${userId}>'s step-up enrollment was reset. They can set up a new authenticator with \`/duo mfa\`.`,
    });
    return;
  }
  if (word)
    throw new AppError('INVALID_INPUT', 'unknown mfa option', {
      userMessage:
        'Use `/duo mfa` (set up your authenticator), `/duo mfa status`, or `/duo mfa reset @someone` (owners).',
    });
  if ((await totpStatus(c.em, c.teamId, c.userId)).status === 'active') {
    // Replacing an active factor needs a code from it first.
    await ack();
    await notifier.openView(command.trigger_id, mfaConfirmModal('reenroll'));
    return;
  }
  await ack({ response_type: 'ephemeral', text: ':hourglass_flowing_sand: Setting up step-up…' });
  const enrollment = await startTotpEnrollment(deps, c.em, c.caller);
  await sendEnrollment(notifier, c.userId, enrollment);
  await respond({ response_type: 'ephemeral', replace_original: true, text: MFA_DM_SENT_TEXT });
};

export function registerMfa(app: App, env: CommandEnv): void {
  const { deps, notifier } = env;

  app.action<BlockAction>(
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
        await ack({ response_action: 'update', view: mfaDoneModal(MFA_DM_SENT_TEXT) as never });
        await sendEnrollment(notifier, c.userId, enrollment);
        return;
      }
      await confirmTotpEnrollment(deps, c.em, c.caller, code);
      await ack({ response_action: 'update', view: mfaDoneModal(MFA_ACTIVE_TEXT) as never });
    }),
  );
}
