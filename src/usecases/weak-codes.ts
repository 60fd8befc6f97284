import { fail } from '../errors.js';
import { authorizeOrThrow, requireActor } from './access.js';
import type { Submitted } from './approval-engine.js';
import type { ApprovalNotices } from './approval-model.js';
import { WEAK_CODES_MAX, weakCodesKind } from './approval-weak-codes.js';
import { isWeak } from './bypass-report.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { submitGuarded } from './guards.js';

declare module '../errors.js' {
  interface Problems {
    'codes.no_weak_codes': NoFacts;
  }
}

/**
 * Asks for the deletion of every weak bypass code as Duo lists them now (at most 500 a request; the rest after):
 * the ids come from Duo, never from the button, so a forged value cannot name other codes.
 */
export async function requestWeakCodesDeletion(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: ApprovalNotices,
  input: { reason: string | null; totp: string | null; requestChannel?: string | null },
): Promise<Submitted & { total: number }> {
  const actor = await requireActor(deps, em, caller);
  await authorizeOrThrow(
    deps,
    em,
    caller,
    actor,
    'bypass_codes.delete',
    { kind: 'none' },
    { attempted: 'weak_codes.request' },
  );
  const weak = (await deps.duo.listBypassCodes()).filter(isWeak);
  if (!weak.length) throw fail('INVALID_INPUT', 'codes.no_weak_codes', {});
  const codes = weak.slice(0, WEAK_CODES_MAX).map((c) => ({
    id: c.bypass_code_id,
    duoUserId: c.user?.user_id ?? '',
    username: (c.user?.username ?? c.user?.user_id ?? '').slice(0, 255),
  }));
  const submitted = await submitGuarded(deps, em, caller, notices, {
    action: 'weak_codes_delete',
    authorize: { action: 'bypass_codes.delete', target: { kind: 'none' }, attempted: 'weak_codes.request' },
    totp: input.totp,
    reason: input.reason,
    kind: weakCodesKind,
    params: { targets: codes },
    requestChannel: input.requestChannel ?? null,
  });
  return { ...submitted, total: weak.length };
}
