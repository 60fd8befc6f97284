import type { Submitted } from '../src/usecases/approval-engine.js';
import type { ModalView } from './block-kit.js';
import { type Block, context, modalTitle, plain, section, slackDate, textInput } from './common.js';
import { BLOCKS, VIEWS } from './ids.js';

/** After the owner's reset request: done (never, in practice: resets are guarded), waiting, or scheduled. */
export function mfaResetSubmittedText(userId: string, s: Submitted): string {
  if (s.outcome === 'done')
    return `:arrows_counterclockwise: <@${userId}>'s step-up enrollment was reset. They can set up a new authenticator with \`/duo mfa\`.`;
  if (s.outcome === 'pending')
    return `:outbox_tray: Resetting <@${userId}>'s step-up waits for a second Owner to approve it in the approvals channel.`;
  if (s.outcome === 'scheduled')
    return `:hourglass_flowing_sand: No second Owner can approve this, so <@${userId}>'s step-up is reset ${slackDate(s.request.executeAfter ?? s.request.expiresAt)} unless an Owner cancels it. The audit channel was told.`;
  return `:x: The reset did not happen (${s.request.state}).`;
}

/** The owner's step-up code and a reason before another responder's step-up is reset. */
export function mfaResetModal(userId: string, channelId: string): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.mfaReset,
    private_metadata: JSON.stringify({ userId, channelId }),
    title: modalTitle('Reset step-up'),
    submit: plain('Reset'),
    close: plain('Cancel'),
    blocks: [
      section(
        `Reset <@${userId}>'s step-up enrollment? Their authenticator stops working for duo-desk; they enroll a new one with \`/duo mfa\`.`,
      ),
      context(
        'This removes a guard from someone, so it needs your own step-up code, and a second Owner (or an announced delay).',
      ),
      textInput(BLOCKS.totp, 'Code from your authenticator app', { min: 6, max: 7, placeholder: '6-digit code' }),
      textInput(BLOCKS.reason, 'Why', { multiline: true, max: 500, hint: 'e.g. lost their phone (ticket INC-…)' }),
    ],
  };
}

/** What `/duo mfa` answers besides the enrollment and code modals (views/mfa.ts). Pure builders. */
export function mfaDoneModal(text: string): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.working,
    title: modalTitle('Step-up'),
    close: plain('Close'),
    blocks: [section(text)],
  };
}

export const MFA_ACTIVE_TEXT =
  ':white_check_mark: Step-up is on. duo-desk will ask for a code from your authenticator app before you approve bypass codes (and where the settings ask for it).';

export function mfaStatusMessage(
  status: 'none' | 'pending' | 'active',
  lockedUntil: Date | null,
): {
  text: string;
  blocks: Block[];
} {
  const line = {
    none: 'You have no authenticator set up for duo-desk step-up. Run `/duo mfa` to set one up.',
    pending:
      'You started setting up an authenticator but have not confirmed it yet. Approve the Duo Push and enter a code in the set-up window, or run `/duo mfa` to start again.',
    active: 'Your step-up is on. To move it to a new phone, run `/duo mfa` and enter a code from the current one.',
  }[status];
  const lock = lockedUntil
    ? ` Step-up is locked after repeated wrong codes until ${lockedUntil.toISOString().slice(11, 16)} UTC.`
    : '';
  return {
    text: `${line}${lock}`,
    blocks: [
      section(`${line}${lock}`),
      context('Lost your phone? An Owner can reset your enrollment: `/duo mfa reset @you`.'),
    ],
  };
}
