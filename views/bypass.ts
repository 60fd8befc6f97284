import type { IBypassRequest } from '../src/db/entities.js';
import { describeUses, describeValidity } from '../src/domain/bypass-policy.js';
import { STATUS_LABELS } from '../src/domain/duo-user.js';
import type { BypassFormModel, BypassRequestResult } from '../src/usecases/bypass.js';
import type { RequesterNotice } from '../src/usecases/bypass-issue.js';
import type { VerificationState } from '../src/usecases/verification-policy.js';
import type { Message, ModalView } from './block-kit.js';
import {
  actions,
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
 * The requester's side of bypass codes: the request form, the status message with Cancel, every
 * outcome notice, and the one message that carries the codes. Pure builders.
 */
export const BYPASS_FORM_TITLE = 'Request bypass codes';
export const PICK_PARAMS_ERROR = 'Pick the number, validity and uses.';
export const TOTP_FORMAT_ERROR = 'Enter the 6-digit code from your app.';
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

/** What the form turns into once the request went through. */
export function bypassSubmittedModal(r: BypassRequestResult, approvalChannel: string | undefined): ModalView {
  const req = r.request;
  const text = {
    pending: `:outbox_tray: Your request (${paramsText(req)}) for \`${esc(req.username)}\` is waiting for approval${approvalChannel ? ` in <#${approvalChannel}>` : ''}. You will be told of the outcome; you can cancel it from the message you just got.`,
    issued: `:white_check_mark: The codes for \`${esc(req.username)}\` were created and sent to you privately (they are shown once, only to you).`,
    failed: `:x: Duo could not create the codes (${esc(req.failureReason ?? 'error')}). No codes were issued and nothing was retried.`,
    unknown: `:warning: Duo's answer was lost: the codes may or may not exist. ${esc(req.failureReason ?? '')} Nothing was retried: check \`/duo codes ${esc(req.username)}\` before asking again.`,
  }[r.outcome];
  return {
    type: 'modal',
    callback_id: VIEWS.bypass,
    title: modalTitle('Bypass codes'),
    close: plain('Close'),
    blocks: [section(text)],
  };
}

const who = (id: string | null | undefined) => (id ? `<@${id}>` : 'someone');

/** Every message the requester gets about their request (the codes themselves excepted). */
export function requesterMessage(req: IBypassRequest, notice: RequesterNotice): Message {
  const target = `\`${esc(req.username)}\``;
  switch (notice.kind) {
    case 'submitted': {
      const text = `:outbox_tray: Your bypass request for ${target} (${paramsText(req)}) is waiting for a second person. It expires ${slackDate(req.expiresAt)} if nobody decides.`;
      return {
        text: `Your bypass request for ${req.username} is waiting for approval.`,
        blocks: [
          section(text),
          actions('bypass_request_actions', [button('Cancel request', ACTIONS.requestCancel, req.id, 'danger')]),
        ],
      };
    }
    case 'cancelled':
      return simple(
        `:leftwards_arrow_with_hook: You cancelled your bypass request for ${target}. No codes were issued.`,
      );
    case 'denied':
      return simple(
        `:no_entry: ${who(req.decidedBy)} denied your bypass request for ${target}: “${esc(req.decisionNote ?? '')}”. No codes were issued.`,
      );
    case 'expired':
      return simple(
        `:hourglass: Your bypass request for ${target} expired: nobody decided in time. No codes were issued; ask again if they are still needed.`,
      );
    case 'failed':
      return simple(
        `:x: ${who(req.decidedBy)} approved your bypass request for ${target}, but Duo could not create the codes (${esc(req.failureReason ?? 'error')}). No codes were issued and nothing was retried. Try again in a while.`,
      );
    case 'unknown':
      return simple(
        `:warning: ${who(req.decidedBy)} approved your bypass request for ${target}, but Duo's answer was lost: the codes may or may not exist (the user has ${notice.codesNow ?? 'an unknown number of'} codes now). Nothing was retried and no codes can be shown: check \`/duo codes ${esc(req.username)}\` and delete unknown ones before asking again.`,
      );
  }
}

const simple = (text: string): Message => ({
  text: text.replace(/<@(\w+)>/g, '@$1').replace(/[`“”]/g, ''),
  blocks: [section(text)],
});

/**
 * The only place the codes ever appear. They are in the blocks only, not in the notification text,
 * so they do not show in push-notification previews.
 */
export function codesDeliveryMessage(req: IBypassRequest, codes: readonly string[], validUntil: Date | null): Message {
  const list = codes.map((c) => `\`${c}\``).join('   ');
  const expiry = validUntil ? `valid until ${slackDate(validUntil)}` : 'no expiry';
  return {
    text: `Your bypass codes for ${req.username} are ready (only you can see them).`,
    blocks: [
      header(`Bypass codes for ${req.username}`),
      section(`${list}\n${expiry} · ${describeUses(req.reuseCount)}`),
      context(
        `${req.decidedBy && req.decidedBy !== req.requesterUserId ? `Approved by <@${req.decidedBy}>. ` : ''}Only you can see this, and it is shown once: duo-desk keeps no copy. Read the codes to the verified caller only; never paste them anywhere.`,
      ),
    ],
  };
}
