import type { ModalView } from './block-kit.js';
import { context, esc, modalTitle, plain, section, slackDate, textInput } from './common.js';
import { BLOCKS, VIEWS } from './ids.js';

/**
 * Step-up (TOTP) enrollment views. The key never goes into a message: it is shown once, in the
 * responder's own modal (the QR as an image of a file shared with no channel, the key as text), and that
 * modal is replaced when the enrollment is confirmed, abandoned or expires. No notification text carries
 * it, and the Slack layer must not log a view's payload.
 */

/** "JBSWY3DPEHPK3PXP" → "JBSW Y3DP EHPK 3PXP" (easier to type into an app). */
export const groupKey = (key: string): string =>
  key
    .replace(/\s+/g, '')
    .match(/.{1,4}/g)
    ?.join(' ') ?? '';

export interface EnrollmentModalModel {
  qrFileId: string;
  secretForManualEntry: string;
  /** The responder's own Duo account and the phone its confirming push went to. */
  username: string;
  phoneLabel: string;
  expiresAt: Date;
}

export const MFA_TITLE = 'Set up step-up';
export const MFA_WORKING_TEXT = 'Setting up step-up: sending a Duo Push to your own phone…';

/** The one place the key is shown: approve the push, add the key, confirm with a first code. */
export function mfaEnrollmentModal(m: EnrollmentModalModel): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.mfaEnroll,
    title: modalTitle(MFA_TITLE),
    submit: plain('Turn on'),
    close: plain('Cancel'),
    notify_on_close: true,
    blocks: [
      section(
        `*1.* Approve the Duo Push sent to your phone (${esc(m.phoneLabel)}). It proves that this is you, on your own Duo account *${esc(m.username)}*. If you did not start this, deny it.`,
      ),
      section('*2.* Scan this QR code with your authenticator app (Duo Mobile, Google Authenticator, 1Password…):'),
      { type: 'image', slack_file: { id: m.qrFileId }, alt_text: 'QR code for your authenticator app' },
      section(
        `Or enter this key manually: \`${groupKey(m.secretForManualEntry)}\` (time-based, 6 digits, 30 seconds).`,
      ),
      textInput(BLOCKS.totp, 'Code from your authenticator app', {
        min: 6,
        max: 6,
        placeholder: '6-digit code',
        hint: '3. Enter the code your app shows for duo-desk.',
      }),
      context(
        `:lock: The key is shown only here: it disappears when you turn step-up on, close this, or at ${slackDate(m.expiresAt)}. Never share it or your codes; nobody from the help desk will ask for them.`,
      ),
    ],
  };
}

/** What replaces the key when an enrollment ended without being confirmed here. */
export function mfaEnrollmentEndedModal(why: 'expired' | 'replaced'): ModalView {
  const line =
    why === 'expired'
      ? 'This step-up set-up was not confirmed in time and was withdrawn: its key no longer works.'
      : 'This step-up set-up was replaced (a newer one was started, or an Owner reset it): its key no longer works.';
  return {
    type: 'modal',
    callback_id: VIEWS.working,
    title: modalTitle(MFA_TITLE),
    close: plain('Close'),
    blocks: [section(`${line} Run \`/duo mfa\` to start again.`)],
  };
}

/** Replacing an active authenticator starts with a current code from it. */
export function mfaReenrollModal(): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.mfaConfirm,
    title: modalTitle('New authenticator'),
    submit: plain('Continue'),
    close: plain('Cancel'),
    blocks: [
      section(
        'You already have an authenticator for duo-desk. Enter a current 6-digit code from it to set up a new one.',
      ),
      textInput(BLOCKS.totp, 'Code from your authenticator app', {
        min: 6,
        max: 6,
        placeholder: '6-digit code',
        hint: 'Codes change every 30 seconds and each works once.',
      }),
    ],
  };
}
