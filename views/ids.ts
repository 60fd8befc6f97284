/**
 * Every callback_id, action_id and block_id in one place, shared by the view builders, the
 * handlers, the manifest check and the tests. Values in buttons and private_metadata are opaque
 * references (a Duo user id, a request id); the handlers load state and authorize again.
 */
import type { CardFlow } from '../src/domain/flows.js';

export const SLASH_COMMAND = '/duo';

/** The action id of a flow's button on the user card (its value is the Duo user id). */
export const cardActionId = <F extends CardFlow>(flow: F) => `card_${flow}` as const;

export const ACTIONS = {
  cardVerify: cardActionId('verify'),
  cardUnlock: cardActionId('unlock'),
  cardStatus: cardActionId('status'),
  cardBypass: cardActionId('bypass'),
  cardEnroll: cardActionId('enroll'),
  cardCodes: cardActionId('codes'),
  lookupPicker: 'lookup_user_picker',
  verifySendFromModal: 'verify_send_from_modal',
  approvalApprove: 'approval_approve',
  approvalDeny: 'approval_deny',
  requestCancel: 'request_cancel',
  approvalEnd: 'approval_end',
  codesDeleteOne: 'codes_delete_one',
  codesDeleteAll: 'codes_delete_all',
  rolesEdit: 'roles_edit',
  rolesAdd: 'roles_add',
  settingsEdit: 'settings_edit',
  auditExport: 'audit_export',
  deviceReactivate: 'device_reactivate',
  deviceSmsPasscodes: 'device_sms_passcodes',
  deviceRemove: 'device_remove',
  deviceVerifyOther: 'device_verify_other',
  deviceConfirm: 'device_confirm',
  deviceNotMe: 'device_not_me',
  usersFilter: 'users_filter',
  usersPage: 'users_page',
  usersExport: 'users_export',
  usersOverview: 'users_overview',
  usersBulk: 'users_bulk',
  codesDeleteWeak: 'codes_delete_weak',
} as const;

export const VIEWS = {
  lookup: 'lookup_modal',
  verifyPick: 'verify_pick_modal',
  unlock: 'unlock_modal',
  status: 'status_modal',
  enroll: 'enroll_modal',
  bypass: 'bypass_modal',
  approve: 'approve_modal',
  deny: 'deny_modal',
  rolesHome: 'roles_modal',
  roleEdit: 'role_edit_modal',
  settingEdit: 'setting_edit_modal',
  mfaConfirm: 'mfa_confirm_modal',
  mfaReset: 'mfa_reset_modal',
  mfaEnroll: 'mfa_enroll_modal',
  working: 'working_modal',
  deviceReactivate: 'device_reactivate_modal',
  deviceSmsPasscodes: 'device_sms_modal',
  deviceRemove: 'device_remove_modal',
  usersBulk: 'users_bulk_modal',
  weakCodes: 'weak_codes_modal',
  createUser: 'create_user_modal',
  editUser: 'edit_user_modal',
} as const;

export const BLOCKS = {
  userPicker: 'user_picker',
  reason: 'reason',
  ticket: 'ticket',
  status: 'status',
  phone: 'phone',
  count: 'count',
  validity: 'validity',
  reuse: 'reuse',
  totp: 'totp',
  denyReason: 'deny_reason',
  duration: 'duration',
  roleUser: 'role_user',
  roleRole: 'role_role',
  roleApprover: 'role_approver',
  settingValue: 'setting_value',
  enrollAfter: 'enroll_after',
  bulkUsers: 'bulk_users',
  username: 'username',
  realname: 'realname',
  email: 'email',
  aliases: 'aliases',
  notes: 'notes',
  autoPrompt: 'auto_prompt',
} as const;

/** The input element inside each input block uses the same id as its block (one element per input). */
export const inputActionId = (blockId: string) => `${blockId}_input`;
