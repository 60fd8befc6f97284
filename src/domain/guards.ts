import type { ApprovalPolicy } from './approvals.js';
import type { Role } from './roles.js';
import type { SettingName, Settings } from './settings.js';

/**
 * The guards in front of every dangerous change, declared once per action and enforced by one
 * pipeline (src/usecases/guards.ts) in this order: actor → authorize → verification → step-up →
 * approval → execute.
 *
 * - verification: a fresh Duo Push approved by the caller, sent by this responder to this Duo user;
 * - step-up: a current TOTP code from the acting responder (proves the person behind the session);
 * - approval: a second person, a second owner, or (with a single owner) an announced delay;
 * - time box: a change that undoes itself (bypass status), with a default and a maximum duration.
 */
export const GUARDED_ACTIONS = [
  'unlock',
  'bypass_codes',
  'bypass_status',
  'weakening_setting',
  'powerful_role',
  'approver_flag',
  'stepup_reset',
  'device_reactivate',
  'device_remove',
  'device_sms_passcodes',
  'bulk_status',
  'weak_codes_delete',
  'email_change',
  'user_trash',
  'user_delete',
  'user_delete_bulk',
] as const;
export type GuardedAction = (typeof GUARDED_ACTIONS)[number];

type MinutesSetting = Extract<
  SettingName,
  'verification_valid_minutes_unlock' | 'verification_valid_minutes_bypass' | 'verification_valid_minutes_device'
>;
type StepUpSetting = Extract<
  SettingName,
  'step_up_for_unlock' | 'step_up_for_bypass_request' | 'step_up_for_device_help'
>;

export interface GuardRule {
  verification: { setting: MinutesSetting } | 'none';
  stepUp: 'always' | { setting: StepUpSetting };
  /**
   * 'requester_exemptions': second person unless the requester's role is exempt by bypass_approval_required;
   * 'reactivation_exemptions': the same by device_reactivation_approval_required; 'second_person': always.
   */
  approval: 'never' | 'requester_exemptions' | 'owners' | 'reactivation_exemptions' | 'second_person';
  timeBox: 'bypass_status' | null;
}

export const GUARD_RULES: { readonly [A in GuardedAction]: GuardRule } = {
  unlock: {
    verification: { setting: 'verification_valid_minutes_unlock' },
    stepUp: { setting: 'step_up_for_unlock' },
    approval: 'never',
    timeBox: null,
  },
  bypass_codes: {
    verification: { setting: 'verification_valid_minutes_bypass' },
    stepUp: { setting: 'step_up_for_bypass_request' },
    approval: 'requester_exemptions',
    timeBox: null,
  },
  bypass_status: {
    verification: { setting: 'verification_valid_minutes_bypass' },
    stepUp: 'always',
    approval: 'requester_exemptions',
    timeBox: 'bypass_status',
  },
  weakening_setting: { verification: 'none', stepUp: 'always', approval: 'owners', timeBox: null },
  powerful_role: { verification: 'none', stepUp: 'always', approval: 'owners', timeBox: null },
  approver_flag: { verification: 'none', stepUp: 'always', approval: 'owners', timeBox: null },
  stepup_reset: { verification: 'none', stepUp: 'always', approval: 'owners', timeBox: null },
  // Device help: the caller is verified by a push or in their own Slack (the phone may be lost).
  device_reactivate: {
    verification: { setting: 'verification_valid_minutes_device' },
    stepUp: { setting: 'step_up_for_device_help' },
    approval: 'reactivation_exemptions',
    timeBox: null,
  },
  device_remove: {
    verification: { setting: 'verification_valid_minutes_device' },
    stepUp: { setting: 'step_up_for_device_help' },
    approval: 'second_person',
    timeBox: null,
  },
  // Passcodes go only to the number already on file and replace the last batch: verified and audited,
  // no second person (a thief holding the lost phone would get them, hence the verification).
  device_sms_passcodes: {
    verification: { setting: 'verification_valid_minutes_device' },
    stepUp: { setting: 'step_up_for_device_help' },
    approval: 'never',
    timeBox: null,
  },
  // Up to 100 users at once: no caller to verify, so the actor's step-up and always a second person.
  bulk_status: { verification: 'none', stepUp: 'always', approval: 'second_person', timeBox: null },
  // Deleting every weak bypass code at once locks out whoever relies on one: step-up and a second person.
  weak_codes_delete: { verification: 'none', stepUp: 'always', approval: 'second_person', timeBox: null },
  // An enrolled user's new email redirects enrollment and activation mail: like an unlock, the caller is
  // verified (and step-up when unlocks ask for it), and a second person approves unless exempt.
  email_change: {
    verification: { setting: 'verification_valid_minutes_unlock' },
    stepUp: { setting: 'step_up_for_unlock' },
    approval: 'requester_exemptions',
    timeBox: null,
  },
  // Sending a user to the Trash disables them at once (and Duo deletes them after its Trash duration):
  // a second person approves unless exempt; step-up when unlocks ask for it.
  user_trash: {
    verification: 'none',
    stepUp: { setting: 'step_up_for_unlock' },
    approval: 'requester_exemptions',
    timeBox: null,
  },
  // Permanent deletion takes unshared phones and endpoints with it; more than one user at once needs an owner.
  user_delete: {
    verification: 'none',
    stepUp: { setting: 'step_up_for_unlock' },
    approval: 'requester_exemptions',
    timeBox: null,
  },
  user_delete_bulk: {
    verification: 'none',
    stepUp: { setting: 'step_up_for_unlock' },
    approval: 'owners',
    timeBox: null,
  },
};

/** The guards as they apply now, for this requester and these settings. */
export interface Guards {
  /** Minutes a verification counts for; null when none is needed. */
  verificationMinutes: number | null;
  stepUp: boolean;
  approval: ApprovalPolicy;
  timeBox: { defaultMinutes: number; maxMinutes: number } | null;
  /** For 'delay': how long the change waits before it takes effect. */
  delayHours: number;
}

/** A time-boxed bypass status lasts an hour unless the form asks for less or more (up to the setting). */
export const BYPASS_STATUS_DEFAULT_MINUTES = 60;

export interface GuardContext {
  role: Role;
  settings: Settings;
  /** Owners other than the requester who can approve now (step-up enrolled). */
  otherOwners: number;
}

export function guardsFor(action: GuardedAction, ctx: GuardContext): Guards {
  const rule = GUARD_RULES[action];
  const minutes = rule.verification === 'none' ? 0 : ctx.settings[rule.verification.setting];
  return {
    verificationMinutes: minutes > 0 ? minutes : null,
    stepUp: rule.stepUp === 'always' || ctx.settings[rule.stepUp.setting],
    approval: approvalPolicy(rule, ctx),
    timeBox:
      rule.timeBox === 'bypass_status'
        ? {
            defaultMinutes: Math.min(BYPASS_STATUS_DEFAULT_MINUTES, ctx.settings.bypass_status_max_minutes),
            maxMinutes: ctx.settings.bypass_status_max_minutes,
          }
        : null,
    delayHours: ctx.settings.weakening_delay_hours,
  };
}

function approvalPolicy(rule: GuardRule, ctx: GuardContext): ApprovalPolicy {
  switch (rule.approval) {
    case 'never':
      return 'none';
    case 'owners':
      // Owners are never exempt: a second owner, or the announced delay when there is none.
      return ctx.otherOwners > 0 ? 'second_owner' : 'delay';
    case 'requester_exemptions':
      return approvalRequired(ctx.role, ctx.settings) ? 'second_person' : 'none';
    case 'reactivation_exemptions':
      return exempted(ctx.role, ctx.settings.device_reactivation_approval_required) ? 'none' : 'second_person';
    case 'second_person':
      return 'second_person';
  }
}

/** Whether this requester's bypass change (codes or status) needs a second person's approval. */
export function approvalRequired(role: Role, settings: Settings): boolean {
  return !exempted(role, settings.bypass_approval_required);
}

function exempted(role: Role, rule: Settings['bypass_approval_required']): boolean {
  return !approvalRequiredBy(role, rule);
}

function approvalRequiredBy(role: Role, rule: Settings['bypass_approval_required']): boolean {
  switch (rule) {
    case 'all_but_owner':
      return role !== 'owner';
    case 'all_but_owner_and_administrator':
      return role !== 'owner' && role !== 'administrator';
    default:
      return true;
  }
}
