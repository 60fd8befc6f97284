import { STATUS_LABELS } from '../src/domain/duo-user.js';
import type { SettableUserStatus } from '../src/duo/types.js';
import type { Submitted } from '../src/usecases/approval-engine.js';
import type { EnrollModalModel } from '../src/usecases/enrollment.js';
import type { StatusChanged, StatusModalModel } from '../src/usecases/status.js';
import type { VerificationState } from '../src/usecases/verification-policy.js';
import type { ModalView } from './block-kit.js';
import {
  actions,
  type Block,
  button,
  context,
  esc,
  modalTitle,
  option,
  plain,
  reasonInput,
  section,
  slackDate,
  textInput,
  ticketInput,
} from './common.js';
import { ACTIONS, BLOCKS, inputActionId, SLASH_COMMAND, VIEWS } from './ids.js';
import { statusText, verificationText } from './user-card.js';

/**
 * The unlock, change-status and enrollment modals and their result views. private_metadata holds
 * only the Duo user id and the channel to answer in; the submit handler re-checks everything.
 */
export interface StatusModalMeta {
  duoUserId: string;
  channelId: string;
}

export const STATUS_OPTION_TEXT: Record<SettableUserStatus, string> = {
  active: 'Active (two-factor required)',
  bypass: 'Bypass (NO two-factor)',
  disabled: 'Disabled (cannot log in)',
};

export const BYPASS_WARNING =
  ':rotating_light: *Bypass turns off two-factor for this user everywhere*: anyone with the password gets in. Use it only briefly, for a reason you write down, and set the user back to Active afterwards.';

const meta = (m: StatusModalMeta) => JSON.stringify({ duoUserId: m.duoUserId, channelId: m.channelId });

const totpInput = (optional: boolean, bypass = false) =>
  textInput(BLOCKS.totp, 'Code from your authenticator app', {
    optional,
    min: 6,
    max: 7,
    placeholder: '6-digit code',
    hint: !optional
      ? 'Unlocking needs step-up: enter the current code for duo-desk.'
      : bypass
        ? 'Needed for Bypass (step-up), and when setting the user back to Active if the settings ask for it.'
        : 'Needed only when setting the user back to Active (step-up).',
  });

function userHeader(m: StatusModalModel): Block[] {
  const u = m.user;
  const name = u.realname ? `${esc(u.realname)} (${esc(u.username)})` : esc(u.username);
  const blocks: Block[] = [section(`*${name}*\nCurrent status: ${statusText(u.status, u.lockout_reason)}`)];
  if (m.directorySynced)
    blocks.push(
      context(':arrows_counterclockwise: Managed by directory sync: the source directory may change it back.'),
    );
  return blocks;
}

/** The verification state for a guarded change, and the way to get one when it is missing. */
function verificationBlocksFor(
  v: VerificationState,
  user: StatusModalModel['user'],
  minutes: number,
  what: 'Unlocking' | 'Bypass status',
): Block[] {
  if (!v.required)
    return [context(`:information_source: No caller verification is required for this here (setting is 0 minutes).`)];
  if (v.satisfied)
    return [
      section(
        `:white_check_mark: *Caller verified* by you with a Duo Push, ${slackDate(v.verification.answeredAt ?? v.verification.sentAt)}; valid until ${slackDate(v.expiresAt)}.`,
      ),
    ];
  return [
    section(
      `:warning: *Not verified.* ${what} needs a Duo Push approved by *${esc(user.username)}*, sent by you in the last ${minutes} minutes.\nLatest: ${verificationText(v.latest)}`,
    ),
    actions('verify_from_modal', [
      button('Send verification push', ACTIONS.verifySendFromModal, user.user_id, 'primary'),
    ]),
    context(
      `Or run \`${SLASH_COMMAND} verify ${esc(user.username)}\`, have the caller read back the code, then submit this form.`,
    ),
  ];
}

export const verificationBlocks = (m: StatusModalModel): Block[] =>
  verificationBlocksFor(m.verification, m.user, m.verificationMinutes, 'Unlocking');

const minutesText = (n: number) => (n % 60 === 0 ? `${n / 60} hour${n === 60 ? '' : 's'}` : `${n} minutes`);
const DURATIONS = [15, 30, 60, 120, 240, 480, 720, 1440];

/** Bypass status: its time box, step-up and verification, and who approves. */
function bypassBlocks(m: StatusModalModel): Block[] {
  const b = m.bypass;
  if (!b) return [];
  const choices = DURATIONS.filter((d) => d <= b.maxMinutes);
  const options = choices.map((d) => option(minutesText(d), d));
  return [
    section(BYPASS_WARNING),
    {
      type: 'input',
      block_id: BLOCKS.duration,
      label: plain('Bypass for'),
      optional: true,
      element: {
        type: 'static_select',
        action_id: inputActionId(BLOCKS.duration),
        options,
        initial_option: options.find((o) => o.value === String(b.defaultMinutes)) ?? options[0]!,
      },
      hint: plain(`Only for Bypass: it ends by itself after this time (at most ${minutesText(b.maxMinutes)}).`),
    },
    context(
      b.approvalRequired
        ? 'Bypass needs the caller verified, your step-up code, and a second person approves it in the approvals channel.'
        : 'Bypass needs the caller verified and your step-up code; your role needs no second approval (settings).',
    ),
    ...verificationBlocksFor(b.verification, m.user, b.verificationMinutes, 'Bypass status'),
  ];
}

export function unlockModal(m: StatusModalModel, where: StatusModalMeta): ModalView {
  const what = m.user.status === 'disabled' ? 're-enables' : 'unlocks';
  return {
    type: 'modal',
    callback_id: VIEWS.unlock,
    private_metadata: meta(where),
    title: modalTitle(m.user.status === 'disabled' ? 'Re-enable user' : 'Unlock user'),
    submit: plain(m.user.status === 'disabled' ? 'Re-enable' : 'Unlock'),
    close: plain('Cancel'),
    blocks: [
      ...userHeader(m),
      context(`This ${what} *${esc(m.user.username)}* in Duo: their status becomes Active.`),
      ...verificationBlocks(m),
      reasonInput(),
      ticketInput(),
      ...(m.stepUp ? [totpInput(false)] : []),
    ],
  };
}

export function statusModal(m: StatusModalModel, where: StatusModalMeta): ModalView {
  const options = m.allowed.map((s) => ({ text: plain(STATUS_OPTION_TEXT[s]), value: s }));
  return {
    type: 'modal',
    callback_id: VIEWS.status,
    private_metadata: meta(where),
    title: modalTitle('Change status'),
    submit: plain('Change status'),
    close: plain('Cancel'),
    blocks: [
      ...userHeader(m),
      {
        type: 'input',
        block_id: BLOCKS.status,
        label: plain('New status'),
        element: {
          type: 'static_select',
          action_id: inputActionId(BLOCKS.status),
          options,
          ...(options.length === 1 ? { initial_option: options[0] } : {}),
        },
        hint: plain('Only the statuses your role may set for this user are listed.'),
      },
      ...bypassBlocks(m),
      ...(m.activeIsUnlock
        ? [
            context('Setting this user back to *Active* is an unlock: the caller must be verified.'),
            ...verificationBlocks(m),
          ]
        : []),
      reasonInput(),
      ticketInput(),
      ...(m.stepUp || m.bypass ? [totpInput(true, m.bypass !== null)] : []),
    ],
  };
}

export function enrollModal(m: EnrollModalModel, where: StatusModalMeta): ModalView {
  const name = m.realname ? `${esc(m.realname)} (${esc(m.username)})` : esc(m.username);
  return {
    type: 'modal',
    callback_id: VIEWS.enroll,
    private_metadata: meta(where),
    title: modalTitle('Send enrollment email'),
    submit: plain('Send email'),
    close: plain('Cancel'),
    blocks: [
      section(`Send Duo's enrollment email to *${name}* at *${esc(m.email)}*?`),
      context(
        ':shield: Whoever opens that mailbox can enroll a device for this user. The address comes from Duo; if the caller asks for another address, stop: it must be changed in Duo or the directory.',
      ),
      ticketInput(),
    ],
  };
}

const doneModal = (title: string, text: string, note?: string): ModalView => ({
  type: 'modal',
  callback_id: VIEWS.working,
  title: modalTitle(title),
  close: plain('Close'),
  blocks: [section(text), ...(note ? [context(note)] : [])],
});

export function statusDoneModal(r: StatusChanged): ModalView {
  const from = STATUS_LABELS[r.from] ?? r.from;
  const to = STATUS_LABELS[r.to] ?? r.to;
  return doneModal(
    'Status changed',
    `:white_check_mark: *${esc(r.username)}* is now *${to}* in Duo (was ${from}).`,
    r.card
      ? 'The refreshed user card was sent to you privately. The change is in the audit trail.'
      : 'The change is in the audit trail. Duo could not be read again just now: look the user up to see the card.',
  );
}

/** After a bypass-status request: waiting for a second person, or in effect until its end. */
export function bypassStatusModal(s: Submitted, approvalChannel: string | undefined): ModalView {
  const r = s.request;
  const who = `*${esc(r.target?.username ?? '')}*`;
  const text =
    s.outcome === 'pending'
      ? `:outbox_tray: Bypass status for ${who} is waiting for a second person${approvalChannel ? ` in <#${approvalChannel}>` : ''}. Nothing changes until it is approved; you will be told.`
      : s.outcome === 'active'
        ? `:rotating_light: ${who} is in *bypass status* until ${slackDate(r.activeUntil ?? r.expiresAt)}, then back to Active by itself. The audit channel was alerted.`
        : s.outcome === 'scheduled'
          ? `:hourglass_flowing_sand: Bypass status for ${who} takes effect later unless an owner cancels it.`
          : `:x: Bypass status for ${who} was not set (${esc(r.failureReason ?? s.outcome)}).`;
  return doneModal('Bypass status', text, 'The request and every step of it are in the audit trail.');
}

export function enrollDoneModal(r: { username: string; email: string }): ModalView {
  return doneModal(
    'Enrollment email sent',
    `:envelope: Duo sent the enrollment email to *${esc(r.username)}* at *${esc(r.email)}*.`,
    'The link in it is valid for 30 days. The send is in the audit trail.',
  );
}

/** Per flow: the modal title, the example in "say which user", and the working text while Duo is read. */
export const STATUS_FLOW_TEXT = {
  unlock: { title: 'Unlock user', example: 'unlock bob', reading: 'Reading the user from Duo…' },
  status: { title: 'Change status', example: 'status carol', reading: 'Reading the user from Duo…' },
  enroll: { title: 'Send enrollment email', example: 'enroll frank', reading: 'Reading the user from Duo…' },
} as const;

export const PICK_STATUS_ERROR = 'Pick a status.';

export const statusWorkingText = (flow: 'unlock' | 'status' | 'enroll') =>
  flow === 'enroll'
    ? 'Asking Duo to send the enrollment email…'
    : flow === 'unlock'
      ? 'Unlocking the user in Duo…'
      : 'Changing the status in Duo…';
