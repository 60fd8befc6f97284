import { type BypassParams, isDefaultBypassParams } from './bypass-policy.js';
import { type Actor, ROLE_LABELS, ROLES_BELOW_ADMINISTRATOR, type Role } from './roles.js';
import type { Settings } from './settings.js';

/**
 * The one place that decides what a responder may do. Mirrors the role requirements in Duo's
 * "Manage Users" documentation, plus duo-desk's own rules (two-person approval, audit access).
 * Deny by default: an action not listed here is refused.
 */
export type Action =
  | 'user.lookup'
  | 'user.verify'
  | 'user.unlock'
  | 'user.reenable'
  | 'user.set_status'
  | 'bypass.request'
  | 'bypass.approve'
  | 'bypass_codes.list'
  | 'bypass_codes.delete'
  | 'user.enroll'
  | 'audit.read'
  | 'audit.export'
  | 'responders.manage'
  | 'settings.manage';

export type Target =
  | { kind: 'none' }
  | { kind: 'status'; toStatus: 'active' | 'bypass' | 'disabled'; directorySynced: boolean }
  | { kind: 'bypass'; params: BypassParams }
  | { kind: 'approval'; requesterUserId: string }
  | { kind: 'responder'; currentRole: Role | null; newRole: Role | null };

export type Decision = { allowed: true } | { allowed: false; reason: string; allowedBy: string };

const ALL: Role[] = ['owner', 'administrator', 'application_manager', 'user_manager', 'help_desk', 'read_only'];
const STATUS_ROLES: Role[] = ['owner', 'administrator', 'user_manager', 'help_desk'];
const MANAGER_ROLES: Role[] = ['owner', 'administrator', 'user_manager'];

const allow: Decision = { allowed: true };
const deny = (reason: string, allowedBy: string): Decision => ({ allowed: false, reason, allowedBy });
const roleList = (roles: Role[]) => roles.map((r) => ROLE_LABELS[r]).join(', ');
const byRoles = (actor: Actor, roles: Role[], what: string): Decision =>
  roles.includes(actor.role)
    ? allow
    : deny(`${ROLE_LABELS[actor.role]} responders cannot ${what}.`, `the ${roleList(roles)} role`);

export function authorize(actor: Actor, action: Action, target: Target, settings: Settings): Decision {
  switch (action) {
    case 'user.lookup':
      return byRoles(actor, ALL, 'look up users');
    case 'user.verify':
      return byRoles(actor, ALL, 'send verification pushes');
    case 'user.unlock':
      return byRoles(actor, STATUS_ROLES, 'unlock users');
    case 'user.reenable':
      return byRoles(actor, STATUS_ROLES, 're-enable users');
    case 'user.set_status':
      return authorizeStatus(actor, target, settings);
    case 'bypass.request':
      return authorizeBypassRequest(actor, target, settings);
    case 'bypass.approve':
      return authorizeApproval(actor, target);
    case 'bypass_codes.list':
      return byRoles(actor, STATUS_ROLES, "list users' bypass codes");
    case 'bypass_codes.delete':
      return byRoles(actor, STATUS_ROLES, 'delete bypass codes');
    case 'user.enroll':
      if (actor.role === 'help_desk')
        return settings.help_desk_can_send_enrollment_email
          ? allow
          : deny(
              'Help desk responders may not send enrollment emails here.',
              'the setting help_desk_can_send_enrollment_email, or the Owner, Administrator, User Manager role',
            );
      return byRoles(actor, MANAGER_ROLES, 'send enrollment emails');
    case 'audit.read':
      return byRoles(actor, ['owner', 'administrator', 'read_only'], 'read the audit history');
    case 'audit.export':
      return byRoles(actor, ['owner', 'administrator'], 'export the audit history');
    case 'settings.manage':
      return byRoles(actor, ['owner'], 'change settings');
    case 'responders.manage':
      return authorizeResponderChange(actor, target);
    default:
      return deny('This action is not allowed.', 'nothing (unknown action)');
  }
}

function authorizeStatus(actor: Actor, target: Target, settings: Settings): Decision {
  if (target.kind !== 'status') return deny('A status change needs a target status.', 'nothing');
  if (target.toStatus === 'active') return byRoles(actor, STATUS_ROLES, 'change user status');
  if (target.toStatus === 'disabled') {
    if (target.directorySynced)
      return deny(
        'This user is managed by directory sync: their disabled status comes from the source directory.',
        'a change in the source directory (Duo does not allow it here)',
      );
    return byRoles(actor, MANAGER_ROLES, 'disable users');
  }
  // bypass: turns off two-factor for the user everywhere
  if (actor.role === 'user_manager' && !settings.user_managers_can_apply_bypass_status)
    return deny(
      'User managers may not apply bypass status here.',
      'the setting user_managers_can_apply_bypass_status, or the Owner or Administrator role',
    );
  return byRoles(actor, MANAGER_ROLES, 'apply bypass status');
}

function authorizeBypassRequest(actor: Actor, target: Target, settings: Settings): Decision {
  if (target.kind !== 'bypass') return deny('A bypass request needs its parameters.', 'nothing');
  const p = target.params;
  if (p.validSecs === 0 && actor.role !== 'owner')
    return deny('Only owners may request codes that never expire.', 'the Owner role');
  if (actor.role === 'help_desk') {
    if (!settings.help_desk_can_create_bypass_codes)
      return deny(
        'Help desk responders may not request bypass codes here.',
        'the setting help_desk_can_create_bypass_codes, or the Owner, Administrator, User Manager role',
      );
    if (!isDefaultBypassParams(p) && !settings.help_desk_can_customize_bypass_codes)
      return deny(
        'Help desk responders may only request one single-use code valid for 1 hour.',
        'the setting help_desk_can_customize_bypass_codes, or the Owner, Administrator, User Manager role',
      );
    return allow;
  }
  return byRoles(actor, MANAGER_ROLES, 'request bypass codes');
}

function authorizeApproval(actor: Actor, target: Target): Decision {
  if (target.kind !== 'approval') return deny('An approval needs its request.', 'nothing');
  if (target.requesterUserId === actor.userId)
    return deny('You cannot decide your own request: a second person must approve it.', 'another approver');
  if (actor.role === 'owner' || actor.role === 'administrator' || actor.approver) return allow;
  return deny(
    `${ROLE_LABELS[actor.role]} responders without the approver flag cannot decide bypass requests.`,
    'the Owner or Administrator role, or the approver flag',
  );
}

function authorizeResponderChange(actor: Actor, target: Target): Decision {
  if (actor.role === 'owner') return allow;
  if (actor.role !== 'administrator')
    return deny('Only owners and administrators manage responders.', 'the Owner role');
  if (target.kind !== 'responder') return allow; // listing
  const touches = [target.currentRole, target.newRole].filter((r): r is Role => r !== null);
  if (touches.every((r) => ROLES_BELOW_ADMINISTRATOR.includes(r))) return allow;
  return deny('Administrators may only grant, change and revoke roles below Administrator.', 'the Owner role');
}

/** Whether this requester's bypass request needs a second person's approval. */
export function approvalRequired(role: Role, settings: Settings): boolean {
  switch (settings.bypass_approval_required) {
    case 'all_but_owner':
      return role !== 'owner';
    case 'all_but_owner_and_administrator':
      return role !== 'owner' && role !== 'administrator';
    default:
      return true;
  }
}
