import type { ModalView } from './block-kit.js';
import { type Block, context, modalTitle, plain, section } from './common.js';
import { VIEWS } from './ids.js';

export const mfaResetDoneText = (userId: string) =>
  `:arrows_counterclockwise: <@${userId}>'s step-up enrollment was reset. They can set up a new authenticator with \`/duo mfa\`.`;

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
