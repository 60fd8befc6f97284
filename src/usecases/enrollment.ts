import type { User } from '../duo/types.js';
import { fail } from '../errors.js';
import { authorizeOrThrow, requireActor } from './access.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { auditedDuoCall, cleanFreeText, type Progress } from './kit.js';
import { findDuoUser } from './lookup.js';

/**
 * Sending Duo's enrollment email to a user who has an address and no device yet. The modal shows
 * the address Duo holds; the submit re-reads the user and writes the audit intent before the call.
 */
export interface EnrollModalModel {
  duoUserId: string;
  username: string;
  realname: string | null;
  email: string;
}

declare module '../errors.js' {
  interface Problems {
    'enroll.already_enrolled': { username: string };
    'enroll.no_email': { username: string };
  }
}

function enrollable(user: User): string {
  if (user.is_enrolled) throw fail('INVALID_STATE', 'enroll.already_enrolled', { username: user.username });
  if (!user.email) throw fail('INVALID_STATE', 'enroll.no_email', { username: user.username });
  return user.email;
}

export async function prepareEnrollment(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  ref: string,
): Promise<EnrollModalModel> {
  const actor = await requireActor(deps, em, caller);
  await authorizeOrThrow(deps, em, caller, actor, 'user.enroll', { kind: 'none' });
  const user = await findDuoUser(deps, ref);
  const email = enrollable(user);
  return { duoUserId: user.user_id, username: user.username, realname: user.realname ?? null, email };
}

export async function sendEnrollment(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  input: { duoUserId: string; ticket?: string | null | undefined },
  progress: Progress = {},
): Promise<{ username: string; email: string }> {
  const ticket = cleanFreeText(input.ticket, { field: 'ticket', purpose: 'ticket', max: 100, required: false });
  const actor = await requireActor(deps, em, caller);
  await authorizeOrThrow(
    deps,
    em,
    caller,
    actor,
    'user.enroll',
    { kind: 'none' },
    {
      targetUser: { duoUserId: input.duoUserId },
    },
  );
  await progress.accepted?.();
  const user = await deps.duo.getUserById(input.duoUserId);
  const email = enrollable(user);
  const intent = await deps.audit.intent(em, {
    teamId: actor.teamId,
    actor: { userId: actor.userId, role: actor.role },
    action: 'enrollment.sent',
    target: { duoUserId: user.user_id, username: user.username },
    ticket,
    correlationId: caller.correlationId,
    params: { email },
  });
  await auditedDuoCall(deps, em, intent, () => deps.duo.enrollUser({ username: user.username, email }));
  return { username: user.username, email };
}
