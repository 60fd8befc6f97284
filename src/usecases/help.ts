import { type Action, authorize, type Target } from '../domain/authorize.js';
import { DEFAULT_BYPASS_PARAMS } from '../domain/bypass-policy.js';
import { requireActor } from './access.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { loadSettings } from './settings.js';

/** The subcommands and the permission each needs to be offered. */
export const SUBCOMMAND_ACTIONS: Record<string, { action: Action; target: Target } | 'any_responder'> = {
  help: 'any_responder',
  lookup: { action: 'user.lookup', target: { kind: 'none' } },
  verify: { action: 'user.verify', target: { kind: 'none' } },
  unlock: { action: 'user.unlock', target: { kind: 'none' } },
  status: { action: 'user.set_status', target: { kind: 'status', toStatus: 'active', directorySynced: false } },
  enroll: { action: 'user.enroll', target: { kind: 'none' } },
  bypass: { action: 'bypass.request', target: { kind: 'bypass', params: DEFAULT_BYPASS_PARAMS } },
  codes: { action: 'bypass_codes.list', target: { kind: 'none' } },
  audit: { action: 'audit.read', target: { kind: 'none' } },
  roles: { action: 'responders.manage', target: { kind: 'none' } },
  mfa: 'any_responder',
};

/** Which subcommands this responder may use, in a stable order. */
export async function availableSubcommands(deps: Deps, em: EntityManager, caller: Caller) {
  const actor = await requireActor(deps, em, caller);
  const settings = await loadSettings(em, actor.teamId);
  const names = Object.entries(SUBCOMMAND_ACTIONS)
    .filter(([, need]) => need === 'any_responder' || authorize(actor, need.action, need.target, settings).allowed)
    .map(([name]) => name);
  return { actor, names };
}
