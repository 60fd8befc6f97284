import { assertAuditSafe } from '../audit/secrets-guard.js';
import {
  type BypassParams,
  DEFAULT_BYPASS_PARAMS,
  MAX_CODES_PER_REQUEST,
  MAX_CODES_PER_USER,
  REUSE_CHOICES,
  VALIDITY_CHOICES_SECS,
} from '../domain/bypass-policy.js';
import { hasEnrolledDevice } from '../domain/duo-user.js';
import type { Actor } from '../domain/roles.js';
import type { Settings } from '../domain/settings.js';
import type { User } from '../duo/types.js';
import { AppError } from '../errors.js';
import { recordDenial } from './access.js';
import { countRecentRequests } from './bypass-store.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { verificationState } from './verification-policy.js';

/**
 * The checks a bypass request passes, shared by the form (prepare) and the submission: what the
 * responder may choose, whether the user may get codes at all, Duo's per-user cap, the daily limit.
 */
export interface BypassChoices {
  counts: number[];
  validities: number[];
  reuses: number[];
}

/** What this responder may choose, given the room left under Duo's 100-codes-per-user cap. */
export function bypassChoices(actor: Actor, settings: Settings, room: number): BypassChoices {
  if (actor.role === 'help_desk' && !settings.help_desk_can_customize_bypass_codes)
    return {
      counts: [DEFAULT_BYPASS_PARAMS.count],
      validities: [DEFAULT_BYPASS_PARAMS.validSecs],
      reuses: [DEFAULT_BYPASS_PARAMS.reuseCount],
    };
  const max = Math.max(0, Math.min(MAX_CODES_PER_REQUEST, room));
  return {
    counts: Array.from({ length: max }, (_, i) => i + 1),
    validities: [...VALIDITY_CHOICES_SECS, ...(actor.role === 'owner' ? [0] : [])],
    reuses: [...REUSE_CHOICES],
  };
}

export const fieldError = (field: string, code: 'INVALID_INPUT' | 'LIMIT_REACHED', userMessage: string) =>
  new AppError(code, `bypass form: ${field}`, { userMessage, details: { field } });

export function assertEligible(user: User): void {
  if (!hasEnrolledDevice(user))
    throw new AppError('INVALID_STATE', 'user has no enrolled device', {
      userMessage: `\`${user.username}\` has no enrolled device. Bypass codes must not be a user's only factor: send an enrollment email instead (\`/duo enroll ${user.username}\`).`,
    });
  if (user.status === 'pending deletion' || user.status === 'disabled')
    throw new AppError('INVALID_STATE', `user is ${user.status}`, {
      userMessage:
        `\`${user.username}\` is ${user.status}: bypass codes would not let them in. ${user.status === 'disabled' ? 'Re-enable the user first.' : ''}`.trim(),
    });
}

export async function roomFor(deps: Deps, user: User): Promise<{ existing: number; room: number }> {
  const existing = (await deps.duo.getUserBypassCodes(user.user_id)).length;
  const room = MAX_CODES_PER_USER - existing;
  if (room <= 0)
    throw new AppError('LIMIT_REACHED', 'user has 100 bypass codes', {
      userMessage: `\`${user.username}\` already has ${existing} bypass codes, Duo's limit. Delete unused ones first (\`/duo codes ${user.username}\`).`,
    });
  return { existing, room };
}

export async function assertDailyLimit(deps: Deps, em: EntityManager, actor: Actor, settings: Settings): Promise<void> {
  const made = await countRecentRequests(em, actor.teamId, actor.userId, deps.clock.now());
  if (made >= settings.max_bypass_requests_per_responder_per_day)
    throw new AppError('LIMIT_REACHED', 'daily bypass request limit', {
      userMessage: `You have made ${made} bypass requests in the last 24 hours, the limit (max_bypass_requests_per_responder_per_day). Ask an owner if more are really needed.`,
    });
}

export const verificationOf = (deps: Deps, em: EntityManager, actor: Actor, settings: Settings, duoUserId: string) =>
  verificationState(em, deps.clock, {
    teamId: actor.teamId,
    duoUserId,
    responderUserId: actor.userId,
    minutes: settings.verification_valid_minutes_bypass,
  });

export function cleanText(raw: string | null, field: string, max: number, required: boolean): string | null {
  const text = (raw ?? '').trim();
  if (!text) {
    if (required) throw fieldError(field, 'INVALID_INPUT', 'Say why the caller needs codes (the approver reads it).');
    return null;
  }
  if (text.length > max) throw fieldError(field, 'INVALID_INPUT', `At most ${max} characters.`);
  try {
    assertAuditSafe({}, [text]);
  } catch (e) {
    throw fieldError(field, 'INVALID_INPUT', (e as AppError).userMessage ?? 'Describe it in words, without codes.');
  }
  return text;
}

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
  throw new AppError('PERMISSION_DENIED', 'bypass parameters not offered', {
    userMessage:
      'Those bypass-code parameters are not available to you. Open the form again and pick from its choices.',
  });
}
