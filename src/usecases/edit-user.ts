import { z } from 'zod';
import { authorize, DIRECTORY_FIELDS, type EditField, HELP_DESK_EDIT_FIELDS } from '../domain/authorize.js';
import { hasEnrolledDevice, isDirectorySynced } from '../domain/duo-user.js';
import { cardFlows } from '../domain/flows.js';
import type { Settings } from '../domain/settings.js';
import type { User, UserUpdate } from '../duo/types.js';
import { fail } from '../errors.js';
import { authorizeOrThrow, requireActor } from './access.js';
import { emailChangeKind } from './approval-email-change.js';
import { type Submitted, submitRequest } from './approval-engine.js';
import type { ApprovalNotices } from './approval-model.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { refreshDirectoryUser } from './directory-index.js';
import { passGuards } from './guards.js';
import { auditedDuoCall, cleanFreeText } from './kit.js';
import { countActiveCodes, findDuoUser, type UserCardModel } from './lookup.js';
import { latestVerification } from './verification-policy.js';

/**
 * Editing a Duo user within Duo's role limits: Help Desk the full name, email and notes; Owner,
 * Administrator and User Manager also the aliases (up to 8, unique) and the authentication experience
 * (enable_auto_prompt). A synced user's full name, email and aliases belong to the directory. A new email
 * for an enrolled user is a guarded change (verification, then a second person: emailChangeKind); the
 * other fields change at once.
 */
declare module '../errors.js' {
  interface Problems {
    'edit.nothing_changed': { username: string };
    'edit.bad_email': NoFacts;
    'edit.bad_aliases': { issue: 'too_many' | 'duplicate' | 'format' };
    'edit.pending_deletion': { username: string };
  }
}

const FIELD = {
  realname: 'realname',
  email: 'email',
  notes: 'notes',
  aliases: 'aliases',
  reason: 'reason',
  ticket: 'ticket',
  totp: 'totp',
} as const;
const ALL_FIELDS: readonly EditField[] = ['realname', 'email', 'notes', 'aliases', 'enable_auto_prompt'];

export interface EditModalModel {
  user: User;
  /** Fields this responder may change on this user now. */
  editable: EditField[];
  /** A directory manages the user: these fields are read-only, and which directories sync (from configuration). */
  directory: { fields: EditField[]; names: string[] } | null;
  /** A new email is guarded (the user is enrolled): verification, step-up when unlocks ask for it. */
  emailGuarded: boolean;
  stepUp: boolean;
}

export interface EditInput {
  duoUserId: string;
  realname?: string | null;
  email?: string | null;
  notes?: string | null;
  /** One per line. */
  aliases?: string | null;
  enableAutoPrompt?: boolean | null;
  reason: string | null;
  ticket?: string | null;
  totp?: string | null;
  requestChannel?: string | null;
}

export interface EditResult {
  username: string;
  /** Fields changed at once. */
  changed: EditField[];
  /** The email change waiting for approval (or done, for an exempt role), when asked. */
  emailRequest: Submitted | null;
  card: UserCardModel | null;
}

function editableFields(actor: Parameters<typeof authorize>[0], user: User, settings: Settings): EditField[] {
  const synced = isDirectorySynced(user);
  return ALL_FIELDS.filter(
    (f) => authorize(actor, 'user.edit', { kind: 'edit', fields: [f], directorySynced: synced }, settings).allowed,
  );
}

export async function prepareEdit(deps: Deps, em: EntityManager, caller: Caller, ref: string): Promise<EditModalModel> {
  const actor = await requireActor(deps, em, caller);
  const settings = await authorizeOrThrow(deps, em, caller, actor, 'user.edit', { kind: 'none' });
  const user = await findDuoUser(deps, ref);
  if (user.status === 'pending deletion')
    throw fail('INVALID_STATE', 'edit.pending_deletion', { username: user.username });
  const synced = isDirectorySynced(user);
  return {
    user,
    editable: editableFields(actor, user, settings),
    directory: synced
      ? { fields: [...DIRECTORY_FIELDS], names: (deps.config.directories ?? []).map((d) => d.name) }
      : null,
    emailGuarded: hasEnrolledDevice(user),
    stepUp: hasEnrolledDevice(user) && settings.step_up_for_unlock,
  };
}

function parseAliases(raw: string, username: string): string[] {
  const aliases = raw
    .split(/\r?\n/)
    .map((a) => a.trim())
    .filter(Boolean);
  if (aliases.length > 8)
    throw fail('INVALID_INPUT', 'edit.bad_aliases', { issue: 'too_many' }, { field: FIELD.aliases });
  if (aliases.some((a) => !/^[^\s,]{1,100}$/.test(a)))
    throw fail('INVALID_INPUT', 'edit.bad_aliases', { issue: 'format' }, { field: FIELD.aliases });
  const all = [username, ...aliases].map((a) => a.toLowerCase());
  if (new Set(all).size !== all.length)
    throw fail('INVALID_INPUT', 'edit.bad_aliases', { issue: 'duplicate' }, { field: FIELD.aliases });
  return aliases;
}

const aliasList = (u: User) =>
  Object.entries(u.aliases ?? {})
    .filter(([, v]) => Boolean(v))
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .map(([, v]) => v);

export async function editUser(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: ApprovalNotices,
  input: EditInput,
): Promise<EditResult> {
  const reason = cleanFreeText(input.reason, {
    field: FIELD.reason,
    purpose: 'change_reason',
    max: 500,
    required: true,
  })!;
  const ticket = cleanFreeText(input.ticket, { field: FIELD.ticket, purpose: 'ticket', max: 100, required: false });
  const actor = await requireActor(deps, em, caller);
  const settings = await authorizeOrThrow(deps, em, caller, actor, 'user.edit', { kind: 'none' });
  const user = await deps.duo.getUserById(input.duoUserId);
  if (user.status === 'pending deletion')
    throw fail('INVALID_STATE', 'edit.pending_deletion', { username: user.username });
  const target = { duoUserId: user.user_id, username: user.username };

  // What differs from Duo now: only those fields are changed (and authorized).
  const update: UserUpdate = {};
  const changed: EditField[] = [];
  const realname = cleanFreeText(input.realname, {
    field: FIELD.realname,
    purpose: 'ticket',
    max: 100,
    required: false,
  });
  if (input.realname != null && (realname ?? '') !== (user.realname ?? '')) {
    update.realname = realname ?? '';
    changed.push('realname');
  }
  let newEmail: string | null = null;
  if (input.email != null) {
    const email = input.email.trim();
    if (email && !z.email().safeParse(email).success)
      throw fail('INVALID_INPUT', 'edit.bad_email', {}, { field: FIELD.email });
    if (email !== (user.email ?? '')) newEmail = email;
  }
  const notes = cleanFreeText(input.notes, { field: FIELD.notes, purpose: 'ticket', max: 500, required: false });
  if (input.notes != null && (notes ?? '') !== (user.notes ?? '')) {
    update.notes = notes ?? '';
    changed.push('notes');
  }
  if (input.aliases != null) {
    const aliases = parseAliases(input.aliases, user.username);
    if (aliases.join('\n') !== aliasList(user).join('\n')) {
      update.aliases = aliases;
      changed.push('aliases');
    }
  }
  const autoPrompt = (user as { enable_auto_prompt?: boolean }).enable_auto_prompt;
  if (input.enableAutoPrompt != null && input.enableAutoPrompt !== (autoPrompt ?? true)) {
    update.enableAutoPrompt = input.enableAutoPrompt;
    changed.push('enable_auto_prompt');
  }
  const guardedEmail = newEmail !== null && hasEnrolledDevice(user) && newEmail !== '';
  if (newEmail !== null && !guardedEmail) {
    update.email = newEmail;
    changed.push('email');
  }
  if (!changed.length && !guardedEmail)
    throw fail('INVALID_STATE', 'edit.nothing_changed', { username: user.username });

  const synced = isDirectorySynced(user);
  await authorizeOrThrow(
    deps,
    em,
    caller,
    actor,
    'user.edit',
    { kind: 'edit', fields: guardedEmail ? [...changed, 'email'] : changed, directorySynced: synced },
    { settings, targetUser: target },
  );

  let emailRequest: Submitted | null = null;
  if (guardedEmail) {
    const passed = await passGuards(deps, em, caller, {
      action: 'email_change',
      authorize: { action: 'user.edit', target: { kind: 'edit', fields: ['email'], directorySynced: synced } },
      duoUser: target,
      totp: input.totp,
      fields: { verification: FIELD.email, totp: FIELD.totp },
    });
    emailRequest = await submitRequest(deps, em, caller, actor, notices, {
      kind: emailChangeKind,
      params: { email: newEmail! },
      policy: passed.guards.approval,
      target,
      reason,
      ticket,
      requestChannel: input.requestChannel ?? null,
      verificationId: passed.verification?.id ?? null,
      delayHours: passed.guards.delayHours,
      audit: { verified: passed.guards.verificationMinutes !== null },
    });
  }

  let updated = user;
  if (changed.length) {
    const intent = await deps.audit.intent(em, {
      teamId: actor.teamId,
      actor: { userId: actor.userId, role: actor.role },
      action: 'user.edited',
      target,
      reason,
      ticket,
      correlationId: caller.correlationId,
      params: { fields: changed.join(','), directorySynced: synced },
    });
    updated = await auditedDuoCall(deps, em, intent, () => deps.duo.updateUser(user.user_id, update));
  }
  if (emailRequest?.outcome === 'done') updated = await deps.duo.getUserById(user.user_id).catch(() => updated);
  await refreshDirectoryUser(em, updated, deps.clock.now());
  const codes = await deps.duo.getUserBypassCodes(user.user_id).catch(() => []);
  return {
    username: user.username,
    changed,
    emailRequest,
    card: {
      user: updated,
      activeBypassCodes: countActiveCodes(codes, deps.clock.now()),
      lastVerification: await latestVerification(em, actor.teamId, user.user_id),
      directorySynced: synced,
      actions: cardFlows(actor, updated, settings),
    },
  };
}

export { HELP_DESK_EDIT_FIELDS };
