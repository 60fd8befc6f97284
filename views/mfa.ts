import type { ModalView } from './block-kit.js';
import { actions, type Block, button, context, header, modalTitle, plain, section, textInput } from './common.js';
import { ACTIONS, BLOCKS, VIEWS } from './ids.js';

/**
 * Step-up (TOTP) enrollment views. The otpauth:// URI never goes into a message: the Slack layer
 * uploads the QR PNG to the DM as a file, and the text offers the key for manual entry.
 * The DM carries the key, so the Slack layer must not log its payload.
 */

/** "JBSWY3DPEHPK3PXP" → "JBSW Y3DP EHPK 3PXP" (easier to type into an app). */
export const groupKey = (key: string): string =>
  key
    .replace(/\s+/g, '')
    .match(/.{1,4}/g)
    ?.join(' ') ?? '';

export type MfaModalPhase = 'confirm' | 'reenroll';

/** The DM sent once after startTotpEnrollment; the QR image is the file uploaded just above it. */
export function mfaEnrollmentDm(secretForManualEntry: string): { text: string; blocks: Block[] } {
  const key = groupKey(secretForManualEntry);
  const steps =
    `1. Open your authenticator app (Duo Mobile, Google Authenticator, 1Password…) and add an account.\n` +
    `2. Scan the QR code above, or enter this key manually: \`${key}\` (time-based, 6 digits, 30 seconds).\n` +
    `3. Press *Confirm with a code* and enter the 6-digit code the app shows.`;
  return {
    text: `duo-desk step-up: scan the QR code above, or enter this key manually: ${key}. Never share this key or your codes with anyone.`,
    blocks: [
      header('Set up step-up for duo-desk'),
      section(steps),
      context(
        ':lock: Never share this key or your codes with anyone, and never paste a code into a channel. Nobody from the help desk will ask for them.',
      ),
      actions('mfa_enroll_actions', [button('Confirm with a code', ACTIONS.mfaStart, 'confirm', 'primary')]),
      context('Until you confirm, your step-up is not active (a previous authenticator keeps working).'),
    ],
  };
}

/**
 * The code input. 'confirm' asks for a first code from the new authenticator; 'reenroll' asks for
 * a code from the current one before a new one is set up. The phase travels in private_metadata.
 */
export function mfaConfirmModal(phase: MfaModalPhase = 'confirm'): ModalView {
  const intro =
    phase === 'confirm'
      ? 'Enter the 6-digit code your authenticator app shows for *duo-desk* to turn on step-up.'
      : 'You already have an authenticator for duo-desk. Enter a current 6-digit code from it to set up a new one.';
  return {
    type: 'modal',
    callback_id: VIEWS.mfaConfirm,
    private_metadata: phase,
    title: modalTitle(phase === 'confirm' ? 'Confirm step-up' : 'New authenticator'),
    submit: plain(phase === 'confirm' ? 'Confirm' : 'Continue'),
    close: plain('Cancel'),
    blocks: [
      section(intro),
      textInput(BLOCKS.totp, 'Code from your authenticator app', {
        min: 6,
        max: 6,
        placeholder: '6-digit code',
        hint: 'Codes change every 30 seconds and each works once.',
      }),
    ],
  };
}
