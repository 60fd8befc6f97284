import { Responder } from '../db/entities.js';
import { FLOW_NAMES, FLOWS, type FlowName, type FlowPolicy, mayStart } from '../domain/flows.js';
import { GUARD_RULES, type GuardedAction, type Guards, guardsFor } from '../domain/guards.js';
import type { Actor } from '../domain/roles.js';
import type { Settings } from '../domain/settings.js';
import { authorizeOrThrow, requireActor } from './access.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { loadSettings } from './settings.js';

/**
 * "May this caller start this flow?": asked where a request enters (a subcommand, a card button),
 * on the responder and settings loaded now. A refusal is audited and thrown; the flow's use case
 * authorizes again on its own load.
 */
export async function startFlow(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  flow: FlowName,
): Promise<{ actor: Actor; settings: Settings }> {
  const actor = await requireActor(deps, em, caller);
  const policy: FlowPolicy['entry'] = FLOWS[flow].entry;
  if (policy === 'any_responder') return { actor, settings: await loadSettings(em, actor.teamId) };
  const settings = await authorizeOrThrow(deps, em, caller, actor, policy.action, policy.target);
  return { actor, settings };
}

/**
 * The flows this responder may start, in a stable order, and the guards in front of the changes they
 * can make, as they apply to this responder now (for help).
 */
export async function availableFlows(deps: Deps, em: EntityManager, caller: Caller) {
  const actor = await requireActor(deps, em, caller);
  const settings = await loadSettings(em, actor.teamId);
  const flows = FLOW_NAMES.filter((f) => mayStart(actor, f, settings).allowed);
  const shown = [...new Set(flows.flatMap((f) => (FLOWS[f] as FlowPolicy).guarded ?? []))];
  // Only the owners-only guards depend on whether another owner could approve: counted only when one is shown.
  const otherOwners = shown.some((g) => GUARD_RULES[g].approval === 'owners')
    ? await em.count(Responder, {
        teamId: actor.teamId,
        role: 'owner',
        totpStatus: 'active',
        userId: { $ne: actor.userId },
      })
    : 0;
  const guards: Partial<Record<GuardedAction, Guards>> = {};
  for (const g of shown) guards[g] = guardsFor(g, { role: actor.role, settings, otherOwners });
  return { actor, flows, guards };
}
