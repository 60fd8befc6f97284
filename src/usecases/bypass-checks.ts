import {
  type BypassParams,
  DEFAULT_BYPASS_PARAMS,
  MAX_CODES_PER_REQUEST,
  MAX_CODES_PER_USER,
  REUSE_CHOICES,
  VALIDITY_CHOICES_SECS,
} from '../domain/bypass-policy.js';
import { helpDeskMaxValiditySecs, type Policy } from '../domain/duo-settings.js';
import { hasEnrolledDevice } from '../domain/duo-user.js';
import type { Actor } from '../domain/roles.js';
import type { Settings } from '../domain/settings.js';
import type { User } from '../duo/types.js';
import { fail } from '../errors.js';
import { recordDenial } from './access.js';
import { countRequests } from './approval-store.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { verificationState } from './verification-policy.js';

/**
 * The checks a bypass request passes, shared by the form (prepare) and the submission: what the
 * responder may choose, whether the user may get codes at all, Duo's per-user cap, the daily limit.
 */
declare module '../errors.js' {
  interface Problems {
    'bypass.no_enrolled_device': { username: string };
    'bypass.user_unusable': { username: string; status: 'disabled' | 'pending deletion' };
    'bypass.user_full': { username: string; existing: number };
    'bypass.daily_limit': { made: number };
    'bypass.not_offered': NoFacts;
    'bypass.not_enough_room': { username: string; room: number };
  }
}

export interface BypassChoices {
  counts: number[];
  validities: number[];
  reuses: number[];
}

/** What this responder may choose, given the room left under Duo's 100-codes-per-user cap. */
export function bypassChoices(actor: Actor, settings: Policy, room: number): BypassChoices {
  // Duo's "limit" for Help Desk: no validity beyond Duo's set expiration (authorize() refuses it too).
  const duoMax = actor.role === 'help_desk' && settings.duo ? helpDeskMaxValiditySecs(settings.duo) : null;
  const within = (secs: number) => duoMax === null || (secs > 0 && secs <= duoMax);
  if (actor.role === 'help_desk' && !settings.help_desk_can_customize_bypass_codes)
    return {
      counts: [DEFAULT_BYPASS_PARAMS.count],
      validities: [DEFAULT_BYPASS_PARAMS.validSecs],
      reuses: [DEFAULT_BYPASS_PARAMS.reuseCount],
    };
  const max = Math.max(0, Math.min(MAX_CODES_PER_REQUEST, room));
  return {
    counts: Array.from({ length: max }, (_, i) => i + 1),
    validities: [...VALIDITY_CHOICES_SECS, ...(actor.role === 'owner' ? [0] : [])].filter(within),
    reuses: [...REUSE_CHOICES],
  };
}

export function assertEligible(user: User): void {
  if (!hasEnrolledDevice(user)) throw fail('INVALID_STATE', 'bypass.no_enrolled_device', { username: user.username });
  if (user.status === 'pending deletion' || user.status === 'disabled')
    throw fail('INVALID_STATE', 'bypass.user_unusable', { username: user.username, status: user.status });
}

export async function roomFor(deps: Deps, user: User): Promise<{ existing: number; room: number }> {
  const existing = (await deps.duo.getUserBypassCodes(user.user_id)).length;
  const room = MAX_CODES_PER_USER - existing;
  if (room <= 0) throw fail('LIMIT_REACHED', 'bypass.user_full', { username: user.username, existing });
  return { existing, room };
}

export async function assertDailyLimit(deps: Deps, em: EntityManager, actor: Actor, settings: Settings): Promise<void> {
  // Bypass codes and bypass status both count: each one turns off a second factor.
  const made = await countRequests(em, {
    teamId: actor.teamId,
    userId: actor.userId,
    kinds: ['bypass_codes', 'bypass_status'],
    since: new Date(deps.clock.now().getTime() - 24 * 3600_000),
  });
  if (made >= settings.max_bypass_requests_per_responder_per_day)
    throw fail('LIMIT_REACHED', 'bypass.daily_limit', { made });
}

export const verificationOf = (deps: Deps, em: EntityManager, actor: Actor, settings: Settings, duoUserId: string) =>
  verificationState(em, deps.clock, {
    teamId: actor.teamId,
    duoUserId,
    responderUserId: actor.userId,
    minutes: settings.verification_valid_minutes_bypass,
  });

/** Refuses (and audits) parameters the form could not have offered this responder. */
export async function assertOffered(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  actor: Actor,
  p: BypassParams,
  choices: BypassChoices,
  target: { duoUserId: string },
) {
  const offered =
    choices.counts.includes(p.count) &&
    choices.validities.includes(p.validSecs) &&
    choices.reuses.includes(p.reuseCount);
  if (offered) return;
  await recordDenial(deps, em, caller, actor, {
    attempted: 'bypass.request',
    why: 'parameters not offered',
    target,
    params: { ...p },
  });
  throw fail('PERMISSION_DENIED', 'bypass.not_offered', {});
}
