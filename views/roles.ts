import { ROLE_LABELS, type Role } from '../src/domain/roles.js';
import type {
  ChangeSummary,
  RoleEditModel,
  RolesHomeModel,
  SettingEditModel,
  SettingRow,
} from '../src/usecases/roles-admin.js';
import type { InputBlockElement, ModalView } from './block-kit.js';
import {
  actions,
  type Block,
  button,
  context,
  divider,
  header,
  modalTitle,
  plain,
  section,
  slackDate,
  textInput,
  truncate,
} from './common.js';
import { ACTIONS, BLOCKS, inputActionId, VIEWS } from './ids.js';

/**
 * The `/duo roles` modals. Buttons carry only references (a Slack user id, a setting name) and the
 * pushed forms keep only the root view id (and the setting name) in private_metadata: the handlers
 * load and authorize everything again on submit.
 */

/** The role option that revokes (only offered when editing an existing responder). */
export const REVOKE_VALUE = 'none';
export const APPROVER_VALUE = 'approver';
/** Modals hold at most 100 blocks; the home keeps room for the header, settings and notes. */
export const MAX_RESPONDERS_SHOWN = 40;

export interface RoleEditMetadata {
  root: string;
}
export interface SettingEditMetadata {
  root: string;
  setting: string;
}

const roleOption = (role: Role) => ({ text: plain(ROLE_LABELS[role]), value: role });
const revokeOption = () => ({ text: plain('No role (revoke)'), value: REVOKE_VALUE });
const approverOption = () => ({
  text: plain('Approver'),
  description: plain('May approve or deny bypass-code requests (after TOTP step-up)'),
  value: APPROVER_VALUE,
});

function responderLine(r: RolesHomeModel['responders'][number]): string {
  const flags = [
    ROLE_LABELS[r.role],
    r.approver ? 'approver' : null,
    r.totpActive ? ':lock: TOTP on' : 'TOTP not enrolled',
  ].filter(Boolean);
  return `<@${r.userId}>  ·  ${flags.join('  ·  ')}`;
}

function settingLine(s: SettingRow): string {
  return `*${s.name}*: \`${s.value}\`${duoLine(s)}\n${truncate(s.describe, 200)}\n_:shield: ${capitalize(WEAKENS_TEXT[s.weakens])} weakens the controls: step-up and a second Owner (or an announced delay)._`;
}

/** Duo's own setting beside duo-desk's: the stricter wins. */
function duoLine(s: SettingRow): string {
  if (!s.duo) return '';
  const values = s.duo.map((d) => `\`${d.name}\` = \`${d.value}\``).join(', ');
  const when = s.duoReadAt ? `read ${slackDate(s.duoReadAt)}` : 'never read: needs the Admin API settings grant';
  return `  ·  Duo: ${values} (${when}; the stricter wins)`;
}

const capitalize = (t: string) => t.charAt(0).toUpperCase() + t.slice(1);

/** The notice above the refreshed list after a change. */
export function changeNotice(s: ChangeSummary): string {
  switch (s.kind) {
    case 'pending': {
      const r = s.submitted.request;
      if (s.submitted.outcome === 'pending')
        return `This change weakens the controls: it waits for a second Owner to approve it in the approvals channel (after their step-up). Nothing changed yet.`;
      if (s.submitted.outcome === 'scheduled')
        return `This change weakens the controls and no second Owner can approve it: it takes effect ${slackDate(r.executeAfter ?? r.expiresAt)} unless an Owner cancels it. The audit channel was told.`;
      return `The change ended as ${r.state}.`;
    }
    case 'revoked':
      return `Revoked ${s.role} from <@${s.userId}>.`;
    case 'granted':
      return `Granted ${s.role} to <@${s.userId}>.`;
    case 'changed':
      return `<@${s.userId}> is now ${s.role} (was ${s.before}).`;
    case 'setting':
      return `\`${s.name}\`: ${s.before} → ${s.after}`;
  }
}

export function rolesHomeModal(m: RolesHomeModel, change?: ChangeSummary): ModalView {
  const shown = m.responders.slice(0, MAX_RESPONDERS_SHOWN);
  const blocks: Block[] = [
    ...(change ? [section(`:white_check_mark: ${changeNotice(change)}`)] : []),
    context(
      `You are *${ROLE_LABELS[m.actor.role]}*. ${
        m.actor.role === 'owner'
          ? 'You may grant, change and revoke any role, and change settings.'
          : 'You may grant, change and revoke roles below Administrator.'
      } Every change is audited.`,
    ),
    header('Responders'),
    ...shown.map((r) =>
      section(responderLine(r), r.manageable ? { accessory: button('Edit', ACTIONS.rolesEdit, r.userId) } : {}),
    ),
    ...(m.responders.length > shown.length
      ? [context(`…and ${m.responders.length - shown.length} more (\`npx duo-desk roles list\` shows all).`)]
      : []),
    ...(m.responders.length === 0 ? [context('No responders yet.')] : []),
  ];
  if (m.grantableRoles.length)
    blocks.push(actions('roles_actions', [button('Add responder', ACTIONS.rolesAdd, 'add', 'primary')]));
  if (m.settings) {
    blocks.push(divider(), header('Settings'));
    for (const s of m.settings)
      blocks.push(section(settingLine(s), { accessory: button('Edit', ACTIONS.settingsEdit, s.name) }));
  }
  return {
    type: 'modal',
    callback_id: VIEWS.rolesHome,
    title: modalTitle('duo-desk roles'),
    close: plain('Done'),
    blocks,
  };
}

/** Step-up and a reason, for the changes that turn out to be guarded (the form cannot know in advance). */
function guardInputs(hint: string): Block[] {
  return [
    textInput(BLOCKS.totp, 'Code from your authenticator app', {
      optional: true,
      min: 6,
      max: 7,
      placeholder: '6-digit code',
      hint,
    }),
    textInput(BLOCKS.reason, 'Why', {
      optional: true,
      multiline: true,
      max: 500,
      hint: 'The approving Owner reads this.',
    }),
  ];
}

export function roleEditModal(m: RoleEditModel, rootViewId: string): ModalView {
  const r = m.responder;
  const roleOptions = [...m.grantableRoles.map(roleOption), ...(r ? [revokeOption()] : [])];
  const current = r && m.grantableRoles.includes(r.role) ? roleOption(r.role) : undefined;
  const metadata: RoleEditMetadata = { root: rootViewId };
  return {
    type: 'modal',
    callback_id: VIEWS.roleEdit,
    private_metadata: JSON.stringify(metadata),
    title: modalTitle(r ? 'Edit responder' : 'Add responder'),
    submit: plain('Save'),
    close: plain('Back'),
    blocks: [
      {
        type: 'input',
        block_id: BLOCKS.roleUser,
        label: plain('Person'),
        element: {
          type: 'users_select',
          action_id: inputActionId(BLOCKS.roleUser),
          placeholder: plain('Pick a person in this workspace'),
          ...(r ? { initial_user: r.userId } : {}),
        },
      },
      {
        type: 'input',
        block_id: BLOCKS.roleRole,
        label: plain('Role'),
        element: {
          type: 'static_select',
          action_id: inputActionId(BLOCKS.roleRole),
          placeholder: plain('Choose a role'),
          options: roleOptions,
          ...(current ? { initial_option: current } : {}),
        },
        hint: plain(
          m.actor.role === 'owner'
            ? 'Roles follow Duo Admin Panel roles.'
            : 'Administrators may grant only roles below Administrator.',
        ),
      },
      {
        type: 'input',
        block_id: BLOCKS.roleApprover,
        optional: true,
        label: plain('Two-person approval'),
        element: {
          type: 'checkboxes',
          action_id: inputActionId(BLOCKS.roleApprover),
          options: [approverOption()],
          ...(r?.approver ? { initial_options: [approverOption()] } : {}),
        },
      },
      ...guardInputs(
        'Granting the Owner or Administrator role, or the approver flag, needs your step-up code and a second Owner (or an announced delay).',
      ),
      ...(r
        ? [
            context(
              r.totpActive
                ? ':lock: TOTP step-up is enrolled.'
                : 'TOTP step-up is not enrolled: an approver must run `/duo mfa` before approving.',
            ),
          ]
        : [context('The person must be a member of this workspace. Their role applies from the next request.')]),
    ],
  };
}

export function settingEditModal(m: SettingEditModel, rootViewId: string): ModalView {
  const s = m.setting;
  const metadata: SettingEditMetadata = { root: rootViewId, setting: s.name };
  const option = (v: string) => ({ text: plain(v), value: v });
  const element: InputBlockElement =
    s.kind === 'number'
      ? {
          type: 'number_input',
          action_id: inputActionId(BLOCKS.settingValue),
          is_decimal_allowed: false,
          initial_value: s.value,
          ...(s.min !== undefined ? { min_value: String(s.min) } : {}),
          ...(s.max !== undefined ? { max_value: String(s.max) } : {}),
        }
      : {
          type: 'static_select',
          action_id: inputActionId(BLOCKS.settingValue),
          options: s.choices.map(option),
          ...(s.choices.includes(s.value) ? { initial_option: option(s.value) } : {}),
        };
  return {
    type: 'modal',
    callback_id: VIEWS.settingEdit,
    private_metadata: JSON.stringify(metadata),
    title: modalTitle('Change setting'),
    submit: plain('Save'),
    close: plain('Back'),
    blocks: [
      section(`*${s.name}*\n${s.describe}`),
      {
        type: 'input',
        block_id: BLOCKS.settingValue,
        label: plain('Value'),
        element,
        ...(s.kind === 'number' && s.min !== undefined && s.max !== undefined
          ? { hint: plain(`A whole number from ${s.min} to ${s.max}.`) }
          : {}),
      },
      context(`Currently \`${s.value}\`. The change is audited and applies from the next request.`),
      ...guardInputs(
        `A change that weakens the controls (here: ${WEAKENS_TEXT[s.weakens]}) needs your step-up code and a second Owner, or waits out an announced delay.`,
      ),
    ],
  };
}

const WEAKENS_TEXT = {
  on: 'turning it on',
  off: 'turning it off',
  raise: 'raising it',
  lower: 'lowering it',
  raise_or_zero: 'raising it, or 0',
  more_exemptions: 'exempting more roles',
} as const;
