import type { IBypassRequest } from '../src/db/entities.js';
import { ROLE_LABELS, type Role } from '../src/domain/roles.js';
import type { ApproveResult } from '../src/usecases/bypass-approval.js';
import type { ApprovalCardModel } from '../src/usecases/bypass-issue.js';
import type { ModalView } from './block-kit.js';
import { paramsText } from './bypass.js';
import {
  actions,
  type Block,
  button,
  context,
  esc,
  header,
  modalTitle,
  mrkdwn,
  plain,
  section,
  slackDate,
  textInput,
} from './common.js';
import { ACTIONS, BLOCKS, VIEWS } from './ids.js';
import { statusText, verificationText } from './user-card.js';

/** The approval card, the approver's modals and their results. Pure builders. */

const who = (id: string | null | undefined) => (id ? `<@${id}>` : 'someone');
const at = (d: Date | null | undefined) => (d ? ` ${slackDate(d)}` : '');

function devicesOf(m: ApprovalCardModel): string {
  const u = m.user;
  if (!u) return '_Duo could not be read just now_';
  const phones = (u.phones ?? []).length;
  const tokens = (u.tokens ?? []).length;
  const keys = (u.webauthncredentials ?? []).length;
  const parts = [
    phones ? `${phones} phone${phones === 1 ? '' : 's'}` : '',
    tokens ? `${tokens} hardware token${tokens === 1 ? '' : 's'}` : '',
    keys ? `${keys} security key${keys === 1 ? '' : 's'}` : '',
  ].filter(Boolean);
  return parts.join(', ') || '_none_';
}

/** What happened to the request, in one line (no buttons once decided). */
export function outcomeText(r: IBypassRequest): string {
  switch (r.status) {
    case 'pending':
      return `:hourglass_flowing_sand: Waiting for an approver. Expires ${slackDate(r.expiresAt)}.`;
    case 'approved':
      return `:hourglass_flowing_sand: Approved by ${who(r.decidedBy)}${at(r.decidedAt)}; creating the codes in Duo…`;
    case 'issued':
      return `:white_check_mark: Approved by ${who(r.decidedBy)}${at(r.decidedAt)}. Codes issued and delivered to ${who(r.requesterUserId)} only.${r.failureReason ? ` (${esc(r.failureReason)})` : ''}`;
    case 'failed':
      return r.decidedBy
        ? `:x: Approved by ${who(r.decidedBy)}${at(r.decidedAt)}, but Duo failed (${esc(r.failureReason ?? 'error')}). No codes were issued; nothing was retried.`
        : `:x: Withdrawn: ${esc(r.failureReason ?? 'failed')}.`;
    case 'unknown':
      return `:warning: Approved by ${who(r.decidedBy)}${at(r.decidedAt)}, but Duo's answer was lost: ${esc(r.failureReason ?? '')}. Nothing was retried.`;
    case 'denied':
      return `:no_entry: Denied by ${who(r.decidedBy)}${at(r.decidedAt)}: “${esc(r.decisionNote ?? '')}”`;
    case 'expired':
      return `:hourglass: Expired${at(r.expiresAt)}: nobody decided in time.`;
    case 'cancelled':
      return `:leftwards_arrow_with_hook: Cancelled by the requester${at(r.decidedAt)}.`;
  }
}

export function approvalCardMessage(m: ApprovalCardModel): { text: string; blocks: Block[] } {
  const r = m.request;
  const u = m.user;
  const name = u ? `${esc(u.realname || u.username)} (\`${esc(u.username)}\`)` : `\`${esc(r.username)}\``;
  const role = ROLE_LABELS[r.requesterRole as Role] ?? esc(r.requesterRole);
  const verification = r.verificationId ? verificationText(m.verification) : 'Not required by the settings';
  const fields = [
    `*User*\n${name}`,
    `*Status*\n${u ? statusText(u.status, u.lockout_reason) : '_unknown_'}`,
    `*Enrolled devices*\n${devicesOf(m)}`,
    `*Existing bypass codes*\n${m.existingCodes ?? '_unknown_'}`,
    `*Requested by*\n${who(r.requesterUserId)} (${role})`,
    `*Asked for*\n${paramsText(r)}`,
    `*Ticket*\n${r.ticket ? esc(r.ticket) : '_none_'}`,
    `*Caller verification*\n${verification}`,
  ].map(mrkdwn);
  const blocks: Block[] = [
    header('Bypass codes requested'),
    { type: 'section', fields },
    section(`*Reason*\n${esc(r.reason)}`),
  ];
  if (r.status === 'pending') {
    blocks.push(context(outcomeText(r)));
    blocks.push(
      actions('approval_actions', [
        button('Approve', ACTIONS.approvalApprove, r.id, 'primary'),
        button('Deny', ACTIONS.approvalDeny, r.id, 'danger'),
      ]),
    );
    blocks.push(context('Approving asks for a code from your authenticator app. The codes go to the requester only.'));
  } else blocks.push(section(outcomeText(r)));
  return { text: `Bypass codes for ${r.username} requested by <@${r.requesterUserId}>: ${r.status}`, blocks };
}

const totpInput = () =>
  textInput(BLOCKS.totp, 'Code from your authenticator app', {
    min: 6,
    max: 7,
    placeholder: '6-digit code',
    hint: 'Step-up: proves it is you at the keyboard. Codes change every 30 seconds and each works once.',
  });

export function approveModal(r: IBypassRequest): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.approve,
    private_metadata: r.id,
    title: modalTitle('Approve bypass codes'),
    submit: plain('Approve'),
    close: plain('Cancel'),
    blocks: [
      section(
        `Approve *${paramsText(r)}* for \`${esc(r.username)}\`, requested by ${who(r.requesterUserId)}?\n>${esc(r.reason).replace(/\n/g, '\n>')}`,
      ),
      totpInput(),
      context('The codes are created at once and go to the requester only; you will not see them.'),
    ],
  };
}

/** The code input again, after a refused code (the request's details are on the card). */
export function approveRetryModal(requestId: string, why: string): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.approve,
    private_metadata: requestId,
    title: modalTitle('Approve bypass codes'),
    submit: plain('Approve'),
    close: plain('Cancel'),
    blocks: [section(why), totpInput()],
  };
}

export function denyModal(r: IBypassRequest): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.deny,
    private_metadata: r.id,
    title: modalTitle('Deny bypass codes'),
    submit: plain('Deny'),
    close: plain('Cancel'),
    blocks: [
      section(`Deny the request for \`${esc(r.username)}\` by ${who(r.requesterUserId)}?`),
      textInput(BLOCKS.denyReason, 'Why', { multiline: true, max: 500, hint: 'The requester sees this.' }),
    ],
  };
}

const doneModal = (title: string, text: string): ModalView => ({
  type: 'modal',
  callback_id: VIEWS.working,
  title: modalTitle(title),
  close: plain('Close'),
  blocks: [section(text)],
});

export function approveResultModal(res: ApproveResult): ModalView {
  const r = res.request;
  const i = res.issue;
  const text =
    i.outcome === 'issued'
      ? `:white_check_mark: Approved. ${paramsText(r)} created in Duo for \`${esc(r.username)}\`${i.deliveredVia ? ` and delivered to ${who(r.requesterUserId)} only` : `, but delivery to ${who(r.requesterUserId)} failed: ask them to delete the codes (\`/duo codes ${esc(r.username)}\`) and request again`}.`
      : i.outcome === 'failed'
        ? `:x: Approved, but Duo could not create the codes (${esc(i.errorCode)}). ${who(r.requesterUserId)} was told; no codes exist and nothing was retried.`
        : `:warning: Approved, but Duo's answer was lost (${esc(i.errorCode)}): the codes may or may not exist (the user has ${i.codesNow ?? 'an unknown number of'} codes now). ${who(r.requesterUserId)} was told; nothing was retried.`;
  return doneModal('Bypass approval', text);
}

export const denyResultModal = (r: IBypassRequest) =>
  doneModal('Bypass denial', `:no_entry: Denied. ${who(r.requesterUserId)} was told why.`);

export const decisionWorkingModal = (what: 'checking' | 'denied'): ModalView => ({
  ...doneModal(
    'Bypass approval',
    `:hourglass_flowing_sand: ${what === 'checking' ? 'Checking your code…' : 'Denied. Telling the requester…'}`,
  ),
  close: plain('Close'),
});
