import type { DeviceAction } from '../src/domain/devices.js';
import type { ConfirmationView } from '../src/usecases/device-confirmation.js';
import type { DeviceFormModel } from '../src/usecases/devices.js';
import type { Message, ModalView } from './block-kit.js';
import {
  actions,
  type Block,
  button,
  context,
  divider,
  esc,
  modalTitle,
  option,
  plain,
  reasonInput,
  section,
  selectInput,
  slackDate,
  textInput,
  ticketInput,
} from './common.js';
import { ACTIONS, BLOCKS, inputActionId, VIEWS } from './ids.js';

/** Device help: the per-device buttons, the forms, the employee's DM and the words around them. */

export const DEVICE_BUTTON: Record<DeviceAction, { text: string; actionId: string; style?: 'danger' }> = {
  reactivate: { text: 'Reactivate Duo Mobile', actionId: ACTIONS.deviceReactivate },
  sms_passcodes: { text: 'Send SMS passcodes', actionId: ACTIONS.deviceSmsPasscodes },
  remove: { text: 'Remove device', actionId: ACTIONS.deviceRemove, style: 'danger' },
};

const TITLE: Record<DeviceAction, string> = {
  reactivate: 'Reactivate Duo Mobile',
  sms_passcodes: 'Send SMS passcodes',
  remove: 'Remove device',
};
const CALLBACK: Record<DeviceAction, string> = {
  reactivate: VIEWS.deviceReactivate,
  sms_passcodes: VIEWS.deviceSmsPasscodes,
  remove: VIEWS.deviceRemove,
};

/** A button's value: the Duo user and the phone (references: the use case loads and authorizes both). */
export const deviceButtonValue = (duoUserId: string, phoneId: string) => `${duoUserId}:${phoneId}`;

/** The user card's per-device rows of buttons. */
export function deviceCardBlocks(
  duoUserId: string,
  devices: Array<{ phoneId: string; label: string; actions: DeviceAction[] }>,
): Block[] {
  return devices
    .filter((d) => d.actions.length)
    .slice(0, 10)
    .flatMap((d, i) => [
      context(`*Device help* · ${esc(d.label)}`),
      actions(
        `device_actions_${i}`,
        d.actions.map((a) =>
          button(
            DEVICE_BUTTON[a].text,
            DEVICE_BUTTON[a].actionId,
            deviceButtonValue(duoUserId, d.phoneId),
            DEVICE_BUTTON[a].style,
          ),
        ),
      ),
    ]);
}

const maskEmail = (e: string | null | undefined) => {
  if (!e) return 'no address';
  const [name = '', domain = ''] = e.split('@');
  return `${name.slice(0, 1)}…@${domain}`;
};

function warning(m: DeviceFormModel): string {
  switch (m.action) {
    case 'reactivate':
      return m.channel === 'sms'
        ? `:warning: *The old Duo Mobile credentials on this device stop working at once.* A new activation link goes by SMS to the number already on the phone (${esc(m.phoneLabel)}), with the link to install Duo Mobile. You never see the link; it is not posted anywhere in Slack.`
        : `:warning: *The old Duo Mobile credentials on this tablet stop working at once.* It has no number: Duo's enrollment email goes to the address Duo already has (${esc(maskEmail(m.user.email))}). You never see the link.`;
    case 'sms_passcodes':
      return `:warning: *Older SMS passcodes stop working:* the new batch replaces them. They go only to the number on file (${esc(m.phoneLabel)}).`;
    case 'remove':
      return `:warning: The device (${esc(m.phoneLabel)}) is removed from the user: it can no longer be used to log in. A second person approves first.${m.facts.otherDevices === 0 ? ' *It is their only device:* removing it needs the enrollment email below, so they can enroll a new one.' : ''}`;
  }
}

function employeeLine(m: DeviceFormModel): string {
  if (!m.employee.found) {
    const why = {
      no_account: 'no Slack account has the Duo user’s email',
      guest: 'the matching Slack account is a guest',
      external: 'the matching Slack account is a Slack Connect (external) user',
      deactivated: 'the matching Slack account is deactivated or a bot',
    }[m.employee.why];
    return `:no_entry_sign: *No way to verify in Slack:* ${why}. Without a Duo Push verification, this needs a second person's approval.`;
  }
  const c = m.confirmation;
  if (!c)
    return `Lost phone? *Verify another way*: <@${m.employee.userId}> (their own Slack account) confirms in a DM.`;
  switch (c.state) {
    case 'sent':
      return `:hourglass_flowing_sand: Asked <@${c.employeeUserId}> in Slack ${slackDate(c.sentAt)}; the question expires ${slackDate(c.expiresAt)}. Submit once they confirm.`;
    case 'confirmed':
      return `:white_check_mark: <@${c.employeeUserId}> confirmed in their own Slack ${slackDate(c.answeredAt ?? c.sentAt)}.`;
    case 'rejected':
      return `:rotating_light: <@${c.employeeUserId}> said *this wasn't them*. Device help for this user is stopped.`;
    default:
      return `:hourglass: The Slack confirmation expired unanswered. Ask again.`;
  }
}

const VALIDITY = [24, 12, 8, 4, 1];

export function deviceFormModal(
  m: DeviceFormModel,
  meta: { duoUserId: string; phoneId: string; channelId: string },
): ModalView {
  const g = m.guards;
  const blocks: Block[] = [
    section(
      `*${TITLE[m.action]}* for ${esc(m.user.realname || m.user.username)} (\`${esc(m.user.username)}\`)\n${esc(m.phoneLabel)}`,
    ),
    section(warning(m)),
    divider(),
  ];
  if (g.verificationMinutes !== null) {
    blocks.push(
      section(
        `*Caller verification* (counts ${g.verificationMinutes} min)\nDuo Push: ${m.push.required && m.push.satisfied ? `:white_check_mark: approved ${slackDate(m.push.verification.answeredAt ?? m.push.verification.sentAt)}` : 'none valid'}`,
      ),
    );
    blocks.push(section(employeeLine(m)));
    if (m.employee.found && m.confirmation?.state !== 'confirmed' && m.confirmation?.state !== 'rejected')
      blocks.push(
        actions('device_verify', [button('Verify another way', ACTIONS.deviceVerifyOther, m.action, 'primary')]),
      );
  }
  if (m.action === 'reactivate')
    blocks.push(
      selectInput(
        BLOCKS.validity,
        'Activation link valid for',
        VALIDITY.filter((h) => h <= m.maxValidHours).map((h) => option(`${h} hour${h === 1 ? '' : 's'}`, h)),
        `At most ${m.maxValidHours} hours (setting device_activation_valid_hours).`,
      ),
    );
  if (m.action === 'remove' && m.user.email)
    blocks.push({
      type: 'input',
      block_id: BLOCKS.enrollAfter,
      optional: true,
      label: plain('Afterwards'),
      element: {
        type: 'checkboxes',
        action_id: inputActionId(BLOCKS.enrollAfter),
        options: [option(`Send Duo's enrollment email to ${maskEmail(m.user.email)}`, 'yes')],
      },
    });
  blocks.push(reasonInput(), ticketInput());
  if (g.stepUp) blocks.push(textInput(BLOCKS.totp, 'Code from your authenticator app', { max: 6 }));
  blocks.push(
    context(
      m.action === 'sms_passcodes'
        ? 'Sent at once after the checks; audited with your reason.'
        : g.approval === 'none'
          ? 'No second approval needed for your role (settings); audited with your reason.'
          : 'A second person approves in the approval channel first (or when nobody could verify the caller).',
    ),
  );
  return {
    type: 'modal',
    callback_id: CALLBACK[m.action],
    title: modalTitle(TITLE[m.action]),
    submit: plain(m.action === 'sms_passcodes' ? 'Send' : 'Request'),
    close: plain('Cancel'),
    private_metadata: JSON.stringify(meta),
    blocks,
  };
}

export const deviceDoneModal = (action: DeviceAction, text: string): ModalView => ({
  type: 'modal',
  title: modalTitle(TITLE[action]),
  close: plain('Close'),
  blocks: [section(text)],
});

const ASKED: Record<DeviceAction, string> = {
  reactivate: 'reactivate Duo Mobile on',
  sms_passcodes: 'send SMS passcodes to',
  remove: 'remove from your Duo account',
};

/** The DM to the employee's own Slack account. */
export function employeeConfirmMessage(c: ConfirmationView, phoneLabel: string): Message {
  const text = `<@${c.responderUserId}> from the help desk is about to ${ASKED[c.action]} your device (${esc(phoneLabel)}) for Duo user \`${esc(c.username)}\`. Did you ask for this?`;
  return {
    text: 'duo-desk: please confirm a help-desk request',
    blocks: [
      section(`:shield: ${text}`),
      context(
        `Answer within 10 minutes (until ${slackDate(c.expiresAt)}). If you did not call the help desk, press "This wasn't me".`,
      ),
      actions('device_confirm_actions', [
        button('Confirm, it was me', ACTIONS.deviceConfirm, c.id, 'primary'),
        button("This wasn't me", ACTIONS.deviceNotMe, c.id, 'danger'),
      ]),
    ],
  };
}

export function employeeSettledMessage(c: ConfirmationView, outcome: 'confirmed' | 'rejected' | 'expired'): Message {
  const text = {
    confirmed: ':white_check_mark: Thanks: you confirmed the help-desk request.',
    rejected:
      ':rotating_light: Thanks: the request was stopped and the security team was alerted. Nothing was changed on your account.',
    expired: ':hourglass: This question expired; nothing was changed. The help desk can ask again.',
  }[outcome];
  return { text, blocks: [section(text), context(`Duo user \`${esc(c.username)}\``)] };
}

export function responderConfirmationMessage(c: ConfirmationView, outcome: 'confirmed' | 'rejected'): Message {
  const text =
    outcome === 'confirmed'
      ? `:white_check_mark: <@${c.employeeUserId}> confirmed in their own Slack: submit the form for \`${esc(c.username)}\` now.`
      : `:rotating_light: <@${c.employeeUserId}> said *this wasn't them*: device help for \`${esc(c.username)}\` is stopped and the audit channel was alerted. Do not proceed; the caller may be an impostor.`;
  return { text, blocks: [section(text)] };
}

export const STOPPED_TEXT =
  ":rotating_light: The employee said *this wasn't them*. The request is stopped and the audit channel was alerted. Do not proceed: the caller may be an impostor.";
