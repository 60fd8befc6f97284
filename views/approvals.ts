import type { ApprovalState } from '../src/domain/approvals.js';
import { ROLE_LABELS, type Role } from '../src/domain/roles.js';
import type {
  AnyKind,
  ApprovalCardModel,
  ApprovalKind,
  ApprovalView,
  PrivateDelivery,
  RequesterNotice,
} from '../src/usecases/approval-model.js';
import type { Message, ModalView } from './block-kit.js';
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
import { verificationText } from './user-card.js';

export const TOTP_FORMAT_ERROR = 'Enter the 6-digit code from your app.';

/**
 * Every approval's Slack surfaces, the same for every kind: the card in the approvals channel
 * (rendered from the request row and its kind's fresh facts, never from what the requester typed
 * alone), the requester's notices, the decision modals, and the one-time private delivery. A kind
 * brings only its words (`KindText`).
 */
export interface KindText<P, C> {
  /** The card's header: "Bypass codes requested". */
  title: string;
  /** What is being asked for, in a few words: "1 code · valid 1 hour · 1 use per code". */
  summary(r: ApprovalView<P>): string;
  /** What the requester calls it in notices: "bypass request". */
  noun: string;
  /** The card's kind-specific fields (mrkdwn), from the request and the facts read for it. */
  fields(r: ApprovalView<P>, facts: C | null): string[];
  /** Under the buttons: what happens on approval. */
  approveNote: string;
  /** Said when nothing was changed (denied, expired, cancelled, failed): "No codes were issued." */
  nothingDone: string;
  /** How a failed change reads, with the error code: "Duo could not create the codes (DUO_UNAVAILABLE)". */
  failure(reason: string): string;
  /** What the card and the requester read once it is done (or active, for a time-boxed change). */
  done(r: ApprovalView<P>): string;
  /** The one-time delivery, for kinds that hand over a secret. */
  delivery?(r: ApprovalView<P>, d: PrivateDelivery): Message;
}

const KIND_TEXT = new Map<string, KindText<never, never>>();

/** Registers a kind's words, typed by the kind itself (views/approval-kinds.ts for the built-in ones). */
export function defineKindText<P, C>(kind: ApprovalKind<P, C>, text: KindText<P, C>): void {
  KIND_TEXT.set(kind.name, text as unknown as KindText<never, never>);
}

/** The words of a kind (erased types: the request and facts come from the same kind). */
export function kindText(name: string): KindText<unknown, unknown> {
  const t = KIND_TEXT.get(name);
  if (!t) throw new Error(`approval kind ${name} has no card text (views/approval-kinds.ts)`);
  return t as unknown as KindText<unknown, unknown>;
}

/** Every kind the engine knows has its words (checked at start-up). */
export const missingKindTexts = (kinds: readonly AnyKind[]) =>
  kinds.filter((k) => !KIND_TEXT.has(k.name)).map((k) => k.name);

const who = (id: string | null | undefined) => (id ? `<@${id}>` : 'someone');
const at = (d: Date | null | undefined) => (d ? ` ${slackDate(d)}` : '');
const targetName = (r: ApprovalView) => (r.target ? `\`${esc(r.target.username)}\`` : '');
const forTarget = (r: ApprovalView) => (r.target ? ` for ${targetName(r)}` : '');

const POLICY_TEXT = {
  none: 'No second approval needed for this role (settings).',
  second_person: 'Needs a second person: an Owner, an Administrator or an approver, never the requester.',
  second_owner: 'Weakens the controls: needs a second Owner, after their step-up.',
  delay:
    'Weakens the controls and no second Owner can approve it: it takes effect after an announced delay unless an Owner cancels.',
} as const;

/** What happened to the request, in one line. */
export function outcomeText(r: ApprovalView): string {
  const t = kindText(r.kind);
  const state: ApprovalState = r.state;
  switch (state) {
    case 'requested':
      return `:hourglass_flowing_sand: Waiting for an approver. Expires ${slackDate(r.expiresAt)}.`;
    case 'scheduled':
      return `:hourglass_flowing_sand: Takes effect ${slackDate(r.executeAfter ?? r.expiresAt)} unless an Owner cancels it.`;
    case 'approved':
    case 'executing':
      return `:hourglass_flowing_sand: Approved by ${who(r.decidedBy)}${at(r.decidedAt)}; making the change…`;
    case 'done':
    case 'active':
    case 'ending':
    case 'ended':
      return `:white_check_mark: ${r.decidedBy && r.decidedBy !== r.requesterUserId ? `Approved by ${who(r.decidedBy)}${at(r.decidedAt)}. ` : ''}${t.done(r)}`;
    case 'failed':
      return r.decidedBy
        ? `:x: Approved by ${who(r.decidedBy)}${at(r.decidedAt)}, but ${t.failure(esc(r.failureReason ?? 'error'))}. ${t.nothingDone} Nothing was retried.`
        : `:x: Withdrawn: ${esc(r.failureReason ?? 'failed')}.`;
    case 'unknown':
      return `:warning: Approved by ${who(r.decidedBy)}${at(r.decidedAt)}, but Duo's answer was lost: ${esc(r.failureReason ?? '')}. Nothing was retried.`;
    case 'denied':
      return `:no_entry: Denied by ${who(r.decidedBy)}${at(r.decidedAt)}: “${esc(r.decisionNote ?? '')}”`;
    case 'expired':
      return r.failureReason
        ? `:x: Withdrawn: ${esc(r.failureReason)}.`
        : `:hourglass: Expired${at(r.expiresAt)}: nobody decided in time.`;
    case 'cancelled':
      return r.decidedBy && r.decidedBy !== r.requesterUserId
        ? `:leftwards_arrow_with_hook: Cancelled by ${who(r.decidedBy)}${at(r.decidedAt)}.`
        : `:leftwards_arrow_with_hook: Cancelled by the requester${at(r.decidedAt)}.`;
  }
}

/** The buttons a request in this state offers (each is authorized again on click). */
function cardButtons(r: ApprovalView): Block[] {
  if (r.state === 'requested')
    return [
      actions('approval_actions', [
        button('Approve', ACTIONS.approvalApprove, r.id, 'primary'),
        button('Deny', ACTIONS.approvalDeny, r.id, 'danger'),
      ]),
      context(`Approving asks for a code from your authenticator app. ${kindText(r.kind).approveNote}`),
    ];
  if (r.state === 'scheduled')
    return [actions('approval_actions', [button('Cancel this change', ACTIONS.requestCancel, r.id, 'danger')])];
  if (r.state === 'active')
    return [actions('approval_actions', [button('End it now', ACTIONS.approvalEnd, r.id, 'danger')])];
  return [];
}

export function approvalCardMessage(m: ApprovalCardModel): Message {
  const r = m.request;
  const t = kindText(r.kind);
  const role = ROLE_LABELS[r.requesterRole as Role] ?? esc(r.requesterRole);
  const fields = [
    ...t.fields(r, m.facts),
    `*Requested by*\n${who(r.requesterUserId)} (${role})`,
    `*Asked for*\n${t.summary(r)}`,
    `*Ticket*\n${r.ticket ? esc(r.ticket) : '_none_'}`,
  ].slice(0, 10);
  const blocks: Block[] = [
    header(t.title),
    { type: 'section', fields: fields.map(mrkdwn) },
    section(`*Reason*\n${esc(r.reason)}`),
    context(POLICY_TEXT[r.policy]),
  ];
  const open = r.state === 'requested' || r.state === 'scheduled' || r.state === 'active';
  blocks.push(open ? context(outcomeText(r)) : section(outcomeText(r)), ...cardButtons(r));
  return { text: `${t.title}${forTarget(r).replace(/`/g, '')} by <@${r.requesterUserId}>: ${r.state}`, blocks };
}

/** The caller-verification field shared by kinds about a Duo user. */
export const verificationField = (r: ApprovalView, v: Parameters<typeof verificationText>[0]) =>
  `*Caller verification*\n${r.verificationId ? verificationText(v) : 'Not required by the settings'}`;

const simple = (text: string): Message => ({
  text: text.replace(/<@(\w+)>/g, '@$1').replace(/[`“”*]/g, ''),
  blocks: [section(text)],
});

/** Every message the requester gets about their request (a one-time delivery excepted). */
export function requesterMessage(r: ApprovalView, notice: RequesterNotice): Message {
  const t = kindText(r.kind);
  const what = `your ${t.noun}${forTarget(r)}`;
  switch (notice.kind) {
    case 'submitted':
      return {
        text: `Your ${t.noun}${forTarget(r).replace(/`/g, '')} is waiting for approval.`,
        blocks: [
          section(
            `:outbox_tray: Your ${t.noun}${forTarget(r)} (${t.summary(r)}) is waiting for a second person. It expires ${slackDate(r.expiresAt)} if nobody decides.`,
          ),
          actions('approval_request_actions', [button('Cancel request', ACTIONS.requestCancel, r.id, 'danger')]),
        ],
      };
    case 'scheduled':
      return {
        text: `Your ${t.noun} takes effect later unless an owner cancels it.`,
        blocks: [
          section(
            `:hourglass_flowing_sand: Your ${t.noun}${forTarget(r)} (${t.summary(r)}) weakens the controls and no second Owner can approve it, so it takes effect ${slackDate(r.executeAfter ?? r.expiresAt)}. The audit channel was told; any Owner can cancel it until then.`,
          ),
          actions('approval_request_actions', [button('Cancel request', ACTIONS.requestCancel, r.id, 'danger')]),
        ],
      };
    case 'cancelled':
      return simple(
        `:leftwards_arrow_with_hook: ${r.decidedBy === r.requesterUserId ? 'You cancelled' : `${who(r.decidedBy)} cancelled`} ${what}. ${t.nothingDone}`,
      );
    case 'denied':
      return simple(`:no_entry: ${who(r.decidedBy)} denied ${what}: “${esc(r.decisionNote ?? '')}”. ${t.nothingDone}`);
    case 'expired':
      return simple(
        r.failureReason
          ? `:x: ${capital(what)} was withdrawn: ${esc(r.failureReason)}. ${t.nothingDone}`
          : `:hourglass: ${capital(what)} expired: nobody decided in time. ${t.nothingDone} Ask again if it is still needed.`,
      );
    case 'failed':
      return simple(
        `:x: ${r.decidedBy && r.decidedBy !== r.requesterUserId ? `${who(r.decidedBy)} approved ${what}, but` : 'For'} ${t.failure(esc(r.failureReason ?? 'error'))}. ${t.nothingDone} Nothing was retried. Try again in a while.`,
      );
    case 'unknown':
      return simple(
        `:warning: ${r.decidedBy && r.decidedBy !== r.requesterUserId ? `${who(r.decidedBy)} approved ${what}, but` : 'For'} Duo's answer was lost: ${esc(r.failureReason ?? 'the change may or may not have happened')}. Nothing was retried: look the user up before asking again.`,
      );
    case 'done':
    case 'active':
      return {
        ...simple(`:white_check_mark: ${capital(what)}: ${t.done(r)}`),
        ...(notice.kind === 'active'
          ? {
              blocks: [
                section(`:white_check_mark: ${capital(what)}: ${t.done(r)}`),
                actions('approval_request_actions', [button('End it now', ACTIONS.approvalEnd, r.id, 'danger')]),
              ],
            }
          : {}),
      };
    case 'ended':
      return simple(`:checkered_flag: ${capital(what)}: ${t.done(r)}`);
  }
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

const totpInput = () =>
  textInput(BLOCKS.totp, 'Code from your authenticator app', {
    min: 6,
    max: 7,
    placeholder: '6-digit code',
    hint: 'Step-up: proves it is you at the keyboard. Codes change every 30 seconds and each works once.',
  });

export function approveModal(r: ApprovalView): ModalView {
  const t = kindText(r.kind);
  return {
    type: 'modal',
    callback_id: VIEWS.approve,
    private_metadata: r.id,
    title: modalTitle('Approve'),
    submit: plain('Approve'),
    close: plain('Cancel'),
    blocks: [
      section(
        `Approve *${t.summary(r)}*${forTarget(r)}, requested by ${who(r.requesterUserId)}?\n>${esc(r.reason).replace(/\n/g, '\n>')}`,
      ),
      totpInput(),
      context(t.approveNote),
    ],
  };
}

/** The code input again, after a refused code (the request's details are on the card). */
export function approveRetryModal(requestId: string, why: string): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.approve,
    private_metadata: requestId,
    title: modalTitle('Approve'),
    submit: plain('Approve'),
    close: plain('Cancel'),
    blocks: [section(why), totpInput()],
  };
}

export function denyModal(r: ApprovalView): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.deny,
    private_metadata: r.id,
    title: modalTitle('Deny'),
    submit: plain('Deny'),
    close: plain('Cancel'),
    blocks: [
      section(`Deny the ${kindText(r.kind).noun}${forTarget(r)} by ${who(r.requesterUserId)}?`),
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

export function approveResultModal(r: ApprovalView): ModalView {
  const done = r.state === 'done' || r.state === 'active';
  return doneModal('Approval', done ? `:white_check_mark: Approved. ${kindText(r.kind).done(r)}` : outcomeText(r));
}

export const denyResultModal = (r: ApprovalView) =>
  doneModal('Denial', `:no_entry: Denied. ${who(r.requesterUserId)} was told why.`);

export const decisionWorkingModal = (what: 'checking' | 'denied'): ModalView =>
  doneModal(
    'Approval',
    `:hourglass_flowing_sand: ${what === 'checking' ? 'Checking your code…' : 'Denied. Telling the requester…'}`,
  );

/** A one-time delivery, by the kind's words. */
export function deliveryMessage(r: ApprovalView, d: PrivateDelivery): Message {
  const t = kindText(r.kind);
  if (!t.delivery) throw new Error(`approval kind ${r.kind} delivers nothing`);
  return t.delivery(r, d);
}

/** A one-time delivery in the requester's own open form (a modal does not persist). */
export function deliveryModal(r: ApprovalView, d: PrivateDelivery): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.working,
    title: modalTitle(kindText(r.kind).title),
    close: plain('Done'),
    blocks: deliveryMessage(r, d).blocks ?? [],
  };
}
