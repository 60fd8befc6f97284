import { LockMode } from '@mikro-orm/core';
import { Responder } from '../db/entities.js';
import { ROLES, type Role } from '../domain/roles.js';
import { AppError } from '../errors.js';
import { authorizeOrThrow, requireActor } from './access.js';
import type { Caller, Deps, EntityManager } from './deps.js';

export interface ResponderView {
  userId: string;
  role: Role;
  approver: boolean;
  totpActive: boolean;
  grantedBy: string | null;
}

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;

export function parseRole(raw: string): Role {
  const r = raw
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_')
    .replace(/^readonly$/, 'read_only');
  if ((ROLES as readonly string[]).includes(r)) return r as Role;
  throw new AppError('INVALID_INPUT', `unknown role ${raw}`, {
    userMessage: `\`${raw}\` is not a role. Roles: ${ROLES.join(', ')}.`,
    details: { field: 'role' },
  });
}

export function parseSlackUserId(raw: string): string {
  const id = raw.trim().replace(/^<@([A-Z0-9]+)(\|[^>]*)?>$/, '$1');
  if (!SLACK_USER_ID.test(id))
    throw new AppError('INVALID_INPUT', 'invalid Slack user id', {
      userMessage: `\`${raw}\` is not a Slack user id (it looks like U0123ABCD; find it in the person's Slack profile under "Copy member ID").`,
    });
  return id;
}

export async function listResponders(em: EntityManager, teamId: string): Promise<ResponderView[]> {
  const rows = await em.find(Responder, { teamId }, { orderBy: { role: 'asc', userId: 'asc' }, refresh: true });
  return rows.map((r) => ({
    userId: r.userId,
    role: r.role,
    approver: r.approver,
    totpActive: r.totpStatus === 'active',
    grantedBy: r.grantedBy ?? null,
  }));
}

export interface GrantInput {
  teamId: string;
  userId: string;
  role: Role;
  approver: boolean;
}

/** From Slack: owners manage everyone; administrators only roles below administrator. */
export async function grantRoleAsResponder(deps: Deps, em: EntityManager, caller: Caller, input: GrantInput) {
  const actor = await requireActor(deps, em, caller);
  if (input.userId === actor.userId && actor.role !== 'owner')
    throw new AppError('PERMISSION_DENIED', 'self-grant', { userMessage: 'You cannot change your own role.' });
  const current = await em.findOne(Responder, { teamId: input.teamId, userId: input.userId }, { refresh: true });
  await authorizeOrThrow(deps, em, caller, actor, 'responders.manage', {
    kind: 'responder',
    currentRole: current?.role ?? null,
    newRole: input.role,
  });
  return applyGrant(deps, em, { userId: actor.userId, role: actor.role }, input, caller.correlationId);
}

export async function revokeRoleAsResponder(deps: Deps, em: EntityManager, caller: Caller, userId: string) {
  const actor = await requireActor(deps, em, caller);
  const current = await em.findOne(Responder, { teamId: caller.teamId, userId }, { refresh: true });
  if (!current)
    throw new AppError('NOT_FOUND', 'no such responder', { userMessage: `<@${userId}> is not a responder.` });
  await authorizeOrThrow(deps, em, caller, actor, 'responders.manage', {
    kind: 'responder',
    currentRole: current.role,
    newRole: null,
  });
  return applyRevoke(deps, em, { userId: actor.userId, role: actor.role }, caller.teamId, userId, caller.correlationId);
}

export async function applyGrant(
  deps: Deps,
  em: EntityManager,
  by: { userId: string; role: string | null } | { system: 'cli' },
  input: GrantInput,
  correlationId: string,
): Promise<{ created: boolean; before: Role | null }> {
  return em.transactional(async (tem) => {
    const existing = await tem.findOne(
      Responder,
      { teamId: input.teamId, userId: input.userId },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    );
    const before = existing?.role ?? null;
    if (existing) {
      await assertNotLastOwner(tem, input.teamId, existing.role, input.role);
      existing.role = input.role;
      existing.approver = input.approver;
    } else {
      tem.create(Responder, {
        teamId: input.teamId,
        userId: input.userId,
        role: input.role,
        approver: input.approver,
        grantedBy: 'system' in by ? 'cli' : by.userId,
      });
    }
    await tem.flush();
    await deps.audit.record(tem, {
      teamId: input.teamId,
      actor: by,
      action: 'responder.granted',
      outcome: 'success',
      correlationId,
      params: { responder: input.userId, role: input.role, approver: input.approver, previousRole: before },
    });
    return { created: !existing, before };
  });
}

export async function applyRevoke(
  deps: Deps,
  em: EntityManager,
  by: { userId: string; role: string | null } | { system: 'cli' },
  teamId: string,
  userId: string,
  correlationId: string,
): Promise<{ role: Role }> {
  return em.transactional(async (tem) => {
    const existing = await tem.findOne(Responder, { teamId, userId });
    if (!existing)
      throw new AppError('NOT_FOUND', 'no such responder', { userMessage: `${userId} is not a responder.` });
    await assertNotLastOwner(tem, teamId, existing.role, null);
    const role = existing.role;
    tem.remove(existing);
    await tem.flush();
    await deps.audit.record(tem, {
      teamId,
      actor: by,
      action: 'responder.revoked',
      outcome: 'success',
      correlationId,
      params: { responder: userId, role },
    });
    return { role };
  });
}

/** An installation never loses its last owner from Slack (the CLI can still re-grant one). */
async function assertNotLastOwner(em: EntityManager, teamId: string, from: Role, to: Role | null): Promise<void> {
  if (from !== 'owner' || to === 'owner') return;
  const owners = await em.count(Responder, { teamId, role: 'owner' });
  if (owners <= 1)
    throw new AppError('INVALID_STATE', 'last owner', {
      userMessage: 'That is the last owner: grant another owner first.',
    });
}
