import { type Action, authorize, type Decision, type Target } from './authorize.js';
import { DEFAULT_BYPASS_PARAMS } from './bypass-policy.js';
import type { User } from './duo-objects.js';
import {
  hasEnrolledDevice,
  isDirectorySynced,
  pushCapablePhones,
  statusChangeAction,
  statusTarget,
} from './duo-user.js';
import type { GuardedAction } from './guards.js';
import type { Actor } from './roles.js';
import type { Settings } from './settings.js';

/**
 * Every flow a responder can start, and the core's half of its descriptor: who may start it, and when
 * the user card offers it. The Slack half (subcommand handler, help text, card button) is keyed by the
 * same names in commands/flows.ts and views/flows.ts, so a flow that lacks one of its parts does not
 * compile.
 */
export const FLOW_NAMES = [
  'help',
  'lookup',
  'verify',
  'unlock',
  'status',
  'bypass',
  'enroll',
  'codes',
  'audit',
  'roles',
  'mfa',
  'users',
  'sync',
  'create',
  'edit',
  'restore',
  'trash',
  'delete',
] as const;
export type FlowName = (typeof FLOW_NAMES)[number];

/** Asks authorize() about one action and target for the responder whose card is shown. */
export type Can = (action: Action, target?: Target) => boolean;

export interface FlowPolicy {
  /** Who may start the flow: an authorize() check with the flow's least demanding target, or any responder. */
  entry: { action: Action; target: Target } | 'any_responder';
  /** Whether the user card offers the flow for this user (the click is authorized again). */
  card?: (user: User, can: Can) => boolean;
  /** The guarded changes the flow can make (src/domain/guards.ts), shown with their guards in help. */
  guarded?: readonly GuardedAction[];
}

const none: Target = { kind: 'none' };
const SETTABLE = ['active', 'bypass', 'disabled'] as const;

export const FLOWS = {
  help: { entry: 'any_responder' },
  lookup: { entry: { action: 'user.lookup', target: none } },
  verify: {
    entry: { action: 'user.verify', target: none },
    card: (u, can) => pushCapablePhones(u).length > 0 && can('user.verify'),
  },
  unlock: {
    entry: { action: 'user.unlock', target: none },
    guarded: ['unlock'],
    card: (u, can) =>
      (u.status === 'locked out' && can('user.unlock', statusTarget(u, 'active'))) ||
      (u.status === 'disabled' && can('user.reenable', statusTarget(u, 'active'))),
  },
  status: {
    // Whoever may unlock may open it (Help Desk: Locked Out or Disabled to Active); the options are per user.
    entry: { action: 'user.unlock', target: none },
    guarded: ['unlock', 'bypass_status'],
    card: (u, can) =>
      u.status !== 'pending deletion' &&
      SETTABLE.some((to) => to !== u.status && can(statusChangeAction(u.status, to), statusTarget(u, to))),
  },
  enroll: {
    entry: { action: 'user.enroll', target: none },
    card: (u, can) => !u.is_enrolled && Boolean(u.email) && can('user.enroll'),
  },
  bypass: {
    entry: { action: 'bypass.request', target: { kind: 'bypass', params: DEFAULT_BYPASS_PARAMS } },
    guarded: ['bypass_codes'],
    card: (u, can) => hasEnrolledDevice(u) && can('bypass.request', { kind: 'bypass', params: DEFAULT_BYPASS_PARAMS }),
  },
  codes: { entry: { action: 'bypass_codes.list', target: none }, card: (_u, can) => can('bypass_codes.list') },
  audit: { entry: { action: 'audit.read', target: none } },
  roles: {
    entry: { action: 'responders.manage', target: none },
    guarded: ['powerful_role', 'approver_flag', 'weakening_setting'],
  },
  mfa: { entry: 'any_responder', guarded: ['stepup_reset'] },
  users: { entry: { action: 'users.read', target: none }, guarded: ['bulk_status', 'weak_codes_delete'] },
  sync: { entry: { action: 'user.sync', target: none } },
  create: { entry: { action: 'user.create', target: none } },
  edit: {
    entry: { action: 'user.edit', target: none },
    guarded: ['email_change'],
    card: (u, can) => u.status !== 'pending deletion' && can('user.edit'),
  },
  restore: {
    entry: { action: 'user.restore', target: none },
    card: (u, can) =>
      u.status === 'pending deletion' &&
      can('user.restore', { kind: 'account', directorySynced: isDirectorySynced(u) }),
  },
  trash: { entry: { action: 'user.trash', target: none }, guarded: ['user_trash'] },
  delete: { entry: { action: 'user.delete', target: none }, guarded: ['user_delete', 'user_delete_bulk'] },
} as const satisfies Record<FlowName, FlowPolicy>;

/** The flows the user card can offer as buttons. */
export type CardFlow = { [F in FlowName]: (typeof FLOWS)[F] extends { card: unknown } ? F : never }[FlowName];
export const CARD_FLOWS = FLOW_NAMES.filter((f): f is CardFlow => 'card' in FLOWS[f]);

/** Whether this responder may start the flow (the flow's use case decides again on its own load). */
export function mayStart(actor: Actor, flow: FlowName, settings: Settings): Decision {
  const entry: FlowPolicy['entry'] = FLOWS[flow].entry;
  return entry === 'any_responder' ? { allowed: true } : authorize(actor, entry.action, entry.target, settings);
}

/** The card buttons this responder may see for this user, in the card's order. */
export function cardFlows(actor: Actor, user: User, settings: Settings): CardFlow[] {
  const can: Can = (action, target = none) => authorize(actor, action, target, settings).allowed;
  return CARD_FLOWS.filter((f) => (FLOWS[f] as FlowPolicy).card!(user, can));
}
