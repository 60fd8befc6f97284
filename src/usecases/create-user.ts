import { z } from 'zod';
import { isDirectorySynced } from '../domain/duo-user.js';
import { cardFlows } from '../domain/flows.js';
import { fail } from '../errors.js';
import { authorizeOrThrow, requireActor } from './access.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { refreshDirectoryUser } from './directory-index.js';
import { auditedDuoCall, cleanFreeText, type Progress } from './kit.js';
import type { UserCardModel } from './lookup.js';

/**
 * Creating a Duo user by hand (Duo: Owner, Administrator or User Manager): username, full name, email
 * and up to eight aliases, all unique. The answer is the new user's card, which offers the enrollment
 * email (the existing enrollment flow) when the user has an email address.
 */
declare module '../errors.js' {
  interface Problems {
    'create.bad_username': NoFacts;
    'create.bad_email': NoFacts;
    'create.bad_aliases': { issue: 'too_many' | 'duplicate' | 'format' };
    'create.taken': { name: string };
  }
}

/** Where each problem is shown on the form (views/ids.ts BLOCKS; literal to stay Slack-free). */
const FIELD = { username: 'username', realname: 'realname', email: 'email', aliases: 'aliases', ticket: 'ticket' };

export interface CreateUserInput {
  username: string | null;
  realname?: string | null;
  email?: string | null;
  /** One alias per line, as typed. */
  aliases?: string | null;
  ticket?: string | null;
}

const NAME = /^[^\s,]{1,100}$/;
const EMAIL = z.email();

export function parseNewUser(input: CreateUserInput) {
  const username = (input.username ?? '').trim();
  if (!NAME.test(username)) throw fail('INVALID_INPUT', 'create.bad_username', {}, { field: FIELD.username });
  const email = (input.email ?? '').trim();
  if (email && !EMAIL.safeParse(email).success)
    throw fail('INVALID_INPUT', 'create.bad_email', {}, { field: FIELD.email });
  const aliases = (input.aliases ?? '')
    .split(/\r?\n/)
    .map((a) => a.trim())
    .filter(Boolean);
  if (aliases.length > 8)
    throw fail('INVALID_INPUT', 'create.bad_aliases', { issue: 'too_many' }, { field: FIELD.aliases });
  if (aliases.some((a) => !NAME.test(a)))
    throw fail('INVALID_INPUT', 'create.bad_aliases', { issue: 'format' }, { field: FIELD.aliases });
  const all = [username, ...aliases].map((a) => a.toLowerCase());
  if (new Set(all).size !== all.length)
    throw fail('INVALID_INPUT', 'create.bad_aliases', { issue: 'duplicate' }, { field: FIELD.aliases });
  const realname = cleanFreeText(input.realname, {
    field: FIELD.realname,
    purpose: 'ticket',
    max: 100,
    required: false,
  });
  return { username, realname, email: email || null, aliases };
}

export async function createUser(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  input: CreateUserInput,
  progress: Progress = {},
): Promise<UserCardModel> {
  const actor = await requireActor(deps, em, caller);
  const settings = await authorizeOrThrow(deps, em, caller, actor, 'user.create', { kind: 'none' });
  const u = parseNewUser(input);
  const ticket = cleanFreeText(input.ticket, { field: FIELD.ticket, purpose: 'ticket', max: 100, required: false });
  await progress.accepted?.();
  // Every name must be free: Duo refuses a taken one too, but this says which.
  for (const name of [u.username, ...u.aliases])
    if ((await deps.duo.getUsersByUsername(name)).length) throw fail('CONFLICT', 'create.taken', { name });
  const intent = await deps.audit.intent(em, {
    teamId: actor.teamId,
    actor: { userId: actor.userId, role: actor.role },
    action: 'user.created',
    target: { username: u.username },
    ticket,
    correlationId: caller.correlationId,
    params: { aliases: u.aliases.length, email: u.email !== null, realname: u.realname !== null },
  });
  const created = await auditedDuoCall(
    deps,
    em,
    intent,
    () =>
      deps.duo.createUser({
        username: u.username,
        ...(u.realname ? { realname: u.realname } : {}),
        ...(u.email ? { email: u.email } : {}),
        aliases: u.aliases,
      }),
    (user) => ({ duoUserId: user.user_id }),
  );
  await refreshDirectoryUser(em, created, deps.clock.now());
  return {
    user: created,
    activeBypassCodes: 0,
    lastVerification: null,
    directorySynced: isDirectorySynced(created),
    actions: cardFlows(actor, created, settings),
  };
}
