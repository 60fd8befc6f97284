import { LockMode } from '@mikro-orm/core';
import { Responder } from '../db/entities.js';
import { ROLES, type Role } from '../domain/roles.js';
import { fail } from '../errors.js';
import { authorizeOrThrow, requireActor } from './access.js';
import type { Caller, Deps, EntityManager } from './deps.js';

declare module '../errors.js' {
  interface Problems {
    'responders.unknown_role': { typed: string; roles: readonly Role[] };
    'responders.bad_user_id': { typed: string };
    'responders.self_change': NoFacts;
    'responders.not_a_responder': { userId: string };
    'responders.last_owner': NoFacts;
  }
}

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
  throw fail('INVALID_INPUT', 'responders.unknown_role', { typed: raw.slice(0, 60), roles: ROLES }, { field: 'role' });
}

export function parseSlackUserId(raw: string): string {
  const id = raw.trim();
  if (!SLACK_USER_ID.test(id)) throw fail('INVALID_INPUT', 'responders.bad_user_id', { typed: raw.slice(0, 60) });
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
    throw fail('PERMISSION_DENIED', 'responders.self_change', {});
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
  if (!current) throw fail('NOT_FOUND', 'responders.not_a_responder', { userId });
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
    if (!existing) throw fail('NOT_FOUND', 'responders.not_a_responder', { userId });
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
  if (owners <= 1) throw fail('INVALID_STATE', 'responders.last_owner', {});
}
