import { type BypassParams, describeUses, describeValidity } from '../src/domain/bypass-policy.js';
import { STATUS_LABELS } from '../src/domain/duo-user.js';
import type { Submitted } from '../src/usecases/approval-engine.js';
import type { ApprovalView } from '../src/usecases/approval-model.js';
import type { BypassFormModel } from '../src/usecases/bypass.js';
import type { VerificationState } from '../src/usecases/verification-policy.js';
import type { Message, ModalView } from './block-kit.js';
import {
  type Block,
  button,
  context,
  esc,
  header,
  modalTitle,
  option,
  plain,
  section,
  selectInput,
  slackDate,
  textInput,
} from './common.js';
import { ACTIONS, BLOCKS, VIEWS } from './ids.js';

/**
 * The requester's side of bypass codes: the request form, what it turns into, and the one message
 * that carries the codes. The approval card and the notices are every kind's (views/approvals.ts).
 */
export const BYPASS_FORM_TITLE = 'Request bypass codes';
export const PICK_PARAMS_ERROR = 'Pick the number, validity and uses.';
export const bypassWorkingText = (what: 'reading' | 'recording') =>
  what === 'reading' ? 'Reading the user from Duo…' : 'Recording your request…';

export interface BypassModalMeta {
  duoUserId: string;
  channelId: string;
}

export const paramsText = (r: { count: number; validSecs: number; reuseCount: number }) =>
  `${r.count} code${r.count === 1 ? '' : 's'} · ${r.validSecs === 0 ? 'no expiry' : `valid ${describeValidity(r.validSecs)}`} · ${describeUses(r.reuseCount)}`;

export function verificationBlocks(v: VerificationState, duoUserId: string, username: string): Block[] {
  if (!v.required) return [context('The settings require no caller verification for bypass codes.')];
  if (v.satisfied)
    return [
      section(
        `:white_check_mark: You verified the caller with a Duo Push ${slackDate(v.verification.answeredAt ?? v.verification.sentAt)}; that counts until ${slackDate(v.expiresAt)}.`,
      ),
    ];
  return [
    section(
      `:warning: *Verify the caller first.* A bypass request needs a Duo Push that you sent to \`${esc(username)}\` and they approved recently. Until then this form is refused.`,
      { accessory: button('Send a verification push', ACTIONS.verifySendFromModal, duoUserId, 'primary') },
    ),
    context(`Or run \`/duo verify ${esc(username)}\`, have the caller read back the code, then submit.`),
  ];
}

export function bypassRequestModal(m: BypassFormModel, meta: BypassModalMeta): ModalView {
  const u = m.user;
  const { counts, validities, reuses } = m.choices;
  const fixed = counts.length === 1 && validities.length === 1 && reuses.length === 1;
  const blocks: Block[] = [
    section(
      `*${esc(u.realname || u.username)}* (\`${esc(u.username)}\`) · ${STATUS_LABELS[u.status] ?? esc(u.status)} · ${m.existingCodes} existing bypass code${m.existingCodes === 1 ? '' : 's'}`,
    ),
    ...verificationBlocks(m.verification, u.user_id, u.username),
    selectInput(
      BLOCKS.count,
      'Number of codes',
      counts.map((n) => option(`${n} code${n === 1 ? '' : 's'}`, n)),
    ),
    selectInput(
      BLOCKS.validity,
      'Valid for',
      validities.map((s) => option(s === 0 ? 'No expiry (owners only)' : describeValidity(s), s)),
    ),
    selectInput(
      BLOCKS.reuse,
      'Uses per code',
      reuses.map((n) => option(describeUses(n), n)),
    ),
    ...(fixed ? [context('Your role may request one single-use code valid for 1 hour.')] : []),
    textInput(BLOCKS.reason, 'Reason', { multiline: true, max: 500 }),
    textInput(BLOCKS.ticket, 'Ticket', { max: 100, optional: true }),
  ];
  if (m.stepUpRequired)
    blocks.push({
      ...textInput(BLOCKS.totp, 'Code from your authenticator app', { max: 6 }),
      hint: plain('Step-up: the settings ask for a current code to request bypass codes.'),
    });
  blocks.push(
    context(
      m.approvalRequired
        ? `A second person approves in the approval channel; undecided requests expire after ${m.approvalTimeoutMinutes} minutes. The codes come to you only.`
        : 'Your role needs no second approval: the codes are created at once and come to you only.',
    ),
  );
  return {
    type: 'modal',
    callback_id: VIEWS.bypass,
    private_metadata: JSON.stringify(meta),
    title: modalTitle(BYPASS_FORM_TITLE),
    submit: plain(m.approvalRequired ? 'Request' : 'Create codes'),
    close: plain('Cancel'),
    blocks,
  };
}

/** What the form turns into once the request went through (codes that needed no approval are shown here, once). */
export function bypassSubmittedModal(r: Submitted, approvalChannel: string | undefined): ModalView {
  const req = r.request;
  const target = `\`${esc(req.target?.username ?? '')}\``;
  const text = {
    pending: `:outbox_tray: Your request (${paramsText(req.params as BypassParams)}) for ${target} is waiting for approval${approvalChannel ? ` in <#${approvalChannel}>` : ''}. You will be told of the outcome; you can cancel it from the message you just got.`,
    scheduled: `:hourglass_flowing_sand: Your request for ${target} takes effect later unless an owner cancels it.`,
    done:
      r.via === 'modal'
        ? `:white_check_mark: The codes for ${target} were created and shown to you in this form once.`
        : `:white_check_mark: The codes for ${target} were created and sent to you privately (they are shown once, only to you).`,
    active: `:white_check_mark: Done for ${target}.`,
    failed: `:x: Duo could not create the codes (${esc(req.failureReason ?? 'error')}). No codes were issued and nothing was retried.`,
    unknown: `:warning: Duo's answer was lost: the codes may or may not exist. ${esc(req.failureReason ?? '')} Nothing was retried: check \`/duo codes ${esc(req.target?.username ?? '')}\` before asking again.`,
  }[r.outcome];
  return {
    type: 'modal',
    callback_id: VIEWS.bypass,
    title: modalTitle('Bypass codes'),
    close: plain('Close'),
    blocks: [section(text)],
  };
}

/**
 * The only place the codes ever appear. They are in the blocks only, not in the notification text,
 * so they do not show in push-notification previews. `viaDm`: a DM is deleted after ten minutes, and says so.
 */
export function codesDeliveryMessage(
  req: ApprovalView<BypassParams>,
  codes: readonly string[],
  validUntil: Date | null,
  viaDm: boolean,
): Message {
  const list = codes.map((c) => `\`${c}\``).join('   ');
  const expiry = validUntil ? `valid until ${slackDate(validUntil)}` : 'no expiry';
  const username = req.target?.username ?? '';
  return {
    text: `Your bypass codes for ${username} are ready (only you can see them).`,
    blocks: [
      header(`Bypass codes for ${username}`),
      section(`${list}\n${expiry} · ${describeUses(req.params.reuseCount)}`),
      context(
        `${req.decidedBy && req.decidedBy !== req.requesterUserId ? `Approved by <@${req.decidedBy}>. ` : ''}Only you can see this, and it is shown once: duo-desk keeps no copy.${viaDm ? ' This message deletes itself in 10 minutes.' : ''} Read the codes to the verified caller only; never paste them anywhere.`,
      ),
    ],
  };
}

/** The codes in the requester's own open form (no approval was needed): a modal does not persist. */
export function codesModal(
  req: ApprovalView<BypassParams>,
  codes: readonly string[],
  validUntil: Date | null,
): ModalView {
  const m = codesDeliveryMessage(req, codes, validUntil, false);
  return {
    type: 'modal',
    callback_id: VIEWS.working,
    title: modalTitle('Bypass codes'),
    close: plain('Done'),
    blocks: m.blocks ?? [],
  };
}
