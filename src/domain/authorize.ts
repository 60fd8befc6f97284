import { type BypassParams, isDefaultBypassParams } from './bypass-policy.js';
import { type DeviceFacts, type DeviceRefusal, deviceRefusal } from './devices.js';
import { type DuoCeilingName, duoValue, helpDeskMaxValiditySecs, type Policy } from './duo-settings.js';
import { type Actor, ROLES_BELOW_ADMINISTRATOR, type Role } from './roles.js';
import type { SettingName } from './settings.js';

/**
 * The one place that decides what a responder may do. Mirrors the role requirements in Duo's
 * "Manage Users" documentation, plus duo-desk's own rules (two-person approval, audit access).
 * Deny by default: an action not listed here is refused. A denial says which rule refused and what
 * would allow the action (roles, a setting); views/ turns that into words.
 */
export type Action =
  | 'user.lookup'
  | 'user.verify'
  | 'user.unlock'
  | 'user.reenable'
  | 'user.set_status'
  | 'bypass.request'
  | 'approval.decide'
  | 'approval.cancel'
  | 'approval.end'
  | 'bypass_codes.list'
  | 'bypass_codes.delete'
  | 'user.enroll'
  | 'audit.read'
  | 'audit.export'
  | 'responders.manage'
  | 'settings.manage'
  | 'device.reactivate'
  | 'device.sms_passcodes'
  | 'device.remove'
  | 'users.read'
  | 'users.export'
  | 'user.sync'
  | 'user.create'
  | 'user.edit'
  | 'user.restore'
  | 'user.trash'
  | 'user.delete';

export type Target =
  | { kind: 'none' }
  | {
      kind: 'status';
      toStatus: 'active' | 'bypass' | 'disabled';
      directorySynced: boolean;
      /** The user's status and lockout reason now, when known (the exact check on Duo's state has them). */
      from?: string;
      lockoutReason?: string | null;
    }
  | { kind: 'bypass'; params: BypassParams }
  /** Trash, restore, delete: whether a directory sync manages the account. */
  | { kind: 'account'; directorySynced: boolean }
  /** Editing a user: the fields the edit changes, and whether a directory manages the user. */
  | { kind: 'edit'; fields: readonly EditField[]; directorySynced: boolean }
  | { kind: 'approval'; requesterUserId: string; approvers: 'second_person' | 'second_owner' }
  | {
      kind: 'responder';
      currentRole: Role | null;
      newRole: Role | null;
      /** The approver flag before and after the change (unchanged when only listing or revoking). */
      approverBefore?: boolean;
      approverAfter?: boolean;
    }
  | { kind: 'device'; facts: DeviceFacts };

/** A user's fields duo-desk edits (Duo: POST /admin/v1/users/[user_id]). */
export type EditField = 'realname' | 'email' | 'notes' | 'aliases' | 'enable_auto_prompt';
/** Duo: Help Desk changes the full name, the email address and the notes only. */
export const HELP_DESK_EDIT_FIELDS: readonly EditField[] = ['realname', 'email', 'notes'];
/** Fields a directory sync manages: read-only for a synced user (changed in the source directory). */
export const DIRECTORY_FIELDS: readonly EditField[] = ['realname', 'email', 'aliases'];

/** Why an action was refused, and what would allow it. */
export type DenialRule =
  /** The actor's role may not do this at all. */
  | 'role'
  /** A setting keeps this role from it (`setting`), or a role that the setting does not restrict. */
  | 'setting'
  /** Help desk may ask only for the default bypass-code parameters unless a setting allows more. */
  | 'default_codes_only'
  /** Codes that never expire are for owners only. */
  | 'no_expiry_owner_only'
  /** The directory owns this user's disabled status. */
  | 'directory_synced'
  /** A requester never decides their own request. */
  | 'own_request'
  /** Deciding needs the Owner or Administrator role, or the approver flag. */
  | 'not_approver'
  /** Administrators manage only roles below Administrator. */
  | 'admin_below_admin_only'
  /** Only owners grant the approver flag. */
  | 'approver_flag_owner_only'
  /** Read-only and Application Manager responders may never approve. */
  | 'approver_flag_not_for_role'
  /** The device or its user does not allow this device action (`device` says why). */
  | 'device'
  /** A Trust Monitor lockout ("Admin disabled") is lifted by an Owner or Administrator only. */
  | 'trust_monitor_lockout'
  /** Help Desk may set only Locked Out or Disabled users to Active (not Bypass to Active). */
  | 'help_desk_unlock_only'
  /** Duo's own settings forbid it (`duoSetting`), whatever duo-desk's allow; or they were never read. */
  | 'duo_setting'
  /** Help Desk edits the full name, email and notes only (not aliases or the authentication experience). */
  | 'help_desk_fields'
  /** The directory manages this field of a synced user. */
  | 'directory_field'
  /** Only a directory sync sends a synced user to the Trash or restores them. */
  | 'directory_account'
  /** The action was asked without the target it needs, or is unknown (a bug, or a forged request). */
  | 'malformed';

export interface Denial {
  rule: DenialRule;
  /** Roles that may do this (under the current settings). */
  roles: Role[];
  /** The setting that would allow it for this role, when there is one. */
  setting?: SettingName;
  /** For rule 'device': what about the device or its user refuses it. */
  device?: DeviceRefusal;
  /** Duo's setting that forbids it, and its value as read ('unknown' when never read). */
  duoSetting?: DuoCeilingName;
  duoValue?: string;
}

export type Decision = { allowed: true } | ({ allowed: false } & Denial);

const ALL: Role[] = ['owner', 'administrator', 'application_manager', 'user_manager', 'help_desk', 'read_only'];
const STATUS_ROLES: Role[] = ['owner', 'administrator', 'user_manager', 'help_desk'];
const MANAGER_ROLES: Role[] = ['owner', 'administrator', 'user_manager'];

const allow: Decision = { allowed: true };
const deny = (rule: DenialRule, roles: Role[] = [], setting?: SettingName): Decision => ({
  allowed: false,
  rule,
  roles,
  ...(setting ? { setting } : {}),
});
const byRoles = (actor: Actor, roles: Role[]): Decision => (roles.includes(actor.role) ? allow : deny('role', roles));
const roleOr = (actor: Actor, roles: Role[], rule: DenialRule): Decision =>
  roles.includes(actor.role) ? allow : deny(rule, roles);

/** Duo's lockout_reason for a user locked out from Trust Monitor. */
export const TRUST_MONITOR_LOCKOUT = 'Admin disabled';

/**
 * Duo's ceiling: refuses what Duo's own settings forbid (or could forbid, while they were never read).
 * Returns null when Duo allows it (or no ceiling is in play).
 */
function duoForbids(settings: Policy, name: DuoCeilingName, allowed: (c: NonNullable<Policy['duo']>) => boolean) {
  if (settings.duo === undefined) return null;
  if (settings.duo === null) return { duoSetting: name, duoValue: 'unknown' };
  return allowed(settings.duo) ? null : { duoSetting: name, duoValue: duoValue(settings.duo, name) };
}
const denyDuo = (forbidden: { duoSetting: DuoCeilingName; duoValue: string }, roles: Role[]): Decision => ({
  allowed: false,
  rule: 'duo_setting',
  roles,
  ...forbidden,
});

export function authorize(actor: Actor, action: Action, target: Target, settings: Policy): Decision {
  switch (action) {
    case 'user.lookup':
      return byRoles(actor, ALL);
    case 'user.verify':
      return byRoles(actor, ALL);
    case 'user.unlock':
      // Duo's Lockout reason "Admin disabled": locked from Trust Monitor, an administrator's decision.
      if (target.kind === 'status' && target.lockoutReason === TRUST_MONITOR_LOCKOUT)
        return roleOr(actor, ['owner', 'administrator'], 'trust_monitor_lockout');
      return byRoles(actor, STATUS_ROLES);
    case 'user.reenable':
      // A synced user's Disabled status comes from the source directory (Duo: not changeable here).
      if (target.kind === 'status' && target.directorySynced) return deny('directory_synced');
      return byRoles(actor, STATUS_ROLES);
    case 'user.set_status':
      return authorizeStatus(actor, target, settings);
    case 'bypass.request':
      return authorizeBypassRequest(actor, target, settings);
    case 'approval.decide':
      return authorizeDecision(actor, target);
    case 'approval.cancel':
      // The requester withdraws their own request; any owner may stop anyone's.
      if (target.kind !== 'approval') return deny('malformed');
      return target.requesterUserId === actor.userId ? allow : byRoles(actor, ['owner']);
    case 'approval.end':
      // Ending a time-boxed change early: the requester, or anyone who could have approved it.
      if (target.kind !== 'approval') return deny('malformed');
      return target.requesterUserId === actor.userId ? allow : authorizeDecision(actor, target);
    case 'bypass_codes.list':
      return byRoles(actor, STATUS_ROLES);
    case 'bypass_codes.delete':
      return byRoles(actor, STATUS_ROLES);
    case 'user.enroll':
      if (actor.role === 'help_desk') {
        const duo = duoForbids(settings, 'helpdesk_can_send_enroll_email', (c) => c.helpdeskCanSendEnrollEmail);
        if (duo) return denyDuo(duo, MANAGER_ROLES);
        return settings.help_desk_can_send_enrollment_email
          ? allow
          : deny('setting', MANAGER_ROLES, 'help_desk_can_send_enrollment_email');
      }
      return byRoles(actor, MANAGER_ROLES);
    case 'audit.read':
      return byRoles(actor, ['owner', 'administrator', 'read_only']);
    case 'audit.export':
      return byRoles(actor, ['owner', 'administrator']);
    case 'settings.manage':
      return byRoles(actor, ['owner']);
    case 'responders.manage':
      return authorizeResponderChange(actor, target);
    case 'device.reactivate':
      return authorizeDevice(actor, 'reactivate', target);
    case 'device.sms_passcodes':
      return authorizeDevice(actor, 'sms_passcodes', target);
    case 'device.remove':
      return authorizeDevice(actor, 'remove', target);
    // The Users page and its export: every role that may look users up (Duo's Listing Users names none).
    case 'users.read':
      return byRoles(actor, ALL);
    case 'users.export':
      return byRoles(actor, ALL);
    case 'user.sync':
      // Duo: Help Desk may not run full syncs, but may create or update one user with a single-user sync.
      return byRoles(actor, STATUS_ROLES);
    case 'user.create':
      // Duo: "Creating Users Manually", Owner, Administrator or User Manager.
      return byRoles(actor, MANAGER_ROLES);
    case 'user.edit':
      return authorizeEdit(actor, target);
    case 'user.delete':
      // Duo: from the Trash, synced users too (Owner, Administrator, User Manager, Help Desk).
      return byRoles(actor, STATUS_ROLES);
    case 'user.trash':
    case 'user.restore':
      // Duo: Owner, Administrator, User Manager or Help Desk; a synced user is trashed or restored by a sync only.
      if (target.kind === 'account' && target.directorySynced) return deny('directory_account');
      return byRoles(actor, STATUS_ROLES);
    default:
      return deny('malformed');
  }
}

function authorizeStatus(actor: Actor, target: Target, settings: Policy): Decision {
  if (target.kind !== 'status') return deny('malformed');
  // Locked Out / Disabled to Active are user.unlock / user.reenable; any other change to Active (Bypass to
  // Active) is for the roles that may change status to anything (Duo: Help Desk sets only those two to Active).
  if (target.toStatus === 'active')
    return actor.role === 'help_desk' ? deny('help_desk_unlock_only', MANAGER_ROLES) : byRoles(actor, MANAGER_ROLES);
  if (target.toStatus === 'disabled') {
    if (target.directorySynced) return deny('directory_synced');
    return byRoles(actor, MANAGER_ROLES);
  }
  // bypass: turns off two-factor for the user everywhere
  if (actor.role === 'user_manager') {
    const duo = duoForbids(settings, 'user_managers_can_put_users_in_bypass', (c) => c.userManagersCanPutUsersInBypass);
    if (duo) return denyDuo(duo, ['owner', 'administrator']);
    if (!settings.user_managers_can_apply_bypass_status)
      return deny('setting', ['owner', 'administrator'], 'user_managers_can_apply_bypass_status');
  }
  return byRoles(actor, MANAGER_ROLES);
}

function authorizeBypassRequest(actor: Actor, target: Target, settings: Policy): Decision {
  if (target.kind !== 'bypass') return deny('malformed');
  const p = target.params;
  if (p.validSecs === 0 && actor.role !== 'owner') return deny('no_expiry_owner_only', ['owner']);
  if (actor.role === 'help_desk') {
    const duo = duoForbids(settings, 'helpdesk_bypass', (c) => c.helpdeskBypass !== 'deny');
    if (duo) return denyDuo(duo, MANAGER_ROLES);
    const expiry = duoForbids(settings, 'helpdesk_bypass_expiration', (c) => {
      const max = helpDeskMaxValiditySecs(c);
      return max === null || (p.validSecs > 0 && p.validSecs <= max);
    });
    if (expiry) return denyDuo(expiry, MANAGER_ROLES);
    if (!settings.help_desk_can_create_bypass_codes)
      return deny('setting', MANAGER_ROLES, 'help_desk_can_create_bypass_codes');
    if (!isDefaultBypassParams(p) && !settings.help_desk_can_customize_bypass_codes)
      return deny('default_codes_only', MANAGER_ROLES, 'help_desk_can_customize_bypass_codes');
    return allow;
  }
  return byRoles(actor, MANAGER_ROLES);
}

/** Roles that may never hold the approver flag (Duo's own roles that cannot change users). */
export const NEVER_APPROVERS: readonly Role[] = ['read_only', 'application_manager'];

function authorizeDecision(actor: Actor, target: Target): Decision {
  if (target.kind !== 'approval') return deny('malformed');
  if (target.requesterUserId === actor.userId) return deny('own_request');
  if (target.approvers === 'second_owner') return byRoles(actor, ['owner']);
  if (
    actor.role === 'owner' ||
    actor.role === 'administrator' ||
    (actor.approver && !NEVER_APPROVERS.includes(actor.role))
  )
    return allow;
  return deny('not_approver', ['owner', 'administrator']);
}

function authorizeResponderChange(actor: Actor, target: Target): Decision {
  if (actor.role !== 'owner' && actor.role !== 'administrator') return deny('role', ['owner', 'administrator']);
  if (target.kind !== 'responder') return allow; // listing
  const grantsFlag = target.approverAfter === true && target.approverBefore !== true;
  if (target.approverAfter && target.newRole && NEVER_APPROVERS.includes(target.newRole))
    return deny('approver_flag_not_for_role', []);
  if (grantsFlag && actor.role !== 'owner') return deny('approver_flag_owner_only', ['owner']);
  if (actor.role === 'owner') return allow;
  const touches = [target.currentRole, target.newRole].filter((r): r is Role => r !== null);
  if (touches.every((r) => ROLES_BELOW_ADMINISTRATOR.includes(r))) return allow;
  return deny('admin_below_admin_only', ['owner']);
}

/**
 * Device help: Duo's "Manage Users" gives activating Duo Mobile, SMS passcodes and the user's phones to
 * Owner, Administrator, User Manager and Help Desk. Then the device and its user must allow the action
 * (src/domain/devices.ts); a device that does not (a landline asked for SMS) is refused here too, so a
 * forged button gets nothing the card did not offer.
 */
function authorizeDevice(actor: Actor, action: 'reactivate' | 'sms_passcodes' | 'remove', target: Target): Decision {
  if (!STATUS_ROLES.includes(actor.role)) return deny('role', STATUS_ROLES);
  if (target.kind === 'none') return allow; // the flow's entry: which devices allow it is decided per device
  if (target.kind !== 'device') return deny('malformed');
  const why = deviceRefusal(action, target.facts);
  return why ? { allowed: false, rule: 'device', roles: [], device: why } : allow;
}

function authorizeEdit(actor: Actor, target: Target): Decision {
  if (target.kind === 'none') return byRoles(actor, STATUS_ROLES); // opening the form
  if (target.kind !== 'edit') return deny('malformed');
  const denied = byRoles(actor, STATUS_ROLES);
  if (!denied.allowed) return denied;
  if (target.directorySynced && target.fields.some((f) => DIRECTORY_FIELDS.includes(f))) return deny('directory_field');
  if (actor.role === 'help_desk' && target.fields.some((f) => !HELP_DESK_EDIT_FIELDS.includes(f)))
    return deny('help_desk_fields', MANAGER_ROLES);
  return allow;
}
