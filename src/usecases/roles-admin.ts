import { Responder } from '../db/entities.js';
import { authorize } from '../domain/authorize.js';
import { type Actor, ROLES, type Role } from '../domain/roles.js';
import {
  APPROVAL_REQUIRED_FOR,
  formatSettingValue,
  isSettingName,
  SETTING_NAMES,
  type SettingName,
  type Settings,
  settingDefinitions,
} from '../domain/settings.js';
import { fail } from '../errors.js';
import { authorizeOrThrow, findActor, requireActor } from './access.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { grantRoleAsResponder, listResponders, type ResponderView, revokeRoleAsResponder } from './responders.js';
import { changeSetting, loadSettings } from './settings.js';

/**
 * The `/duo roles` screens: what an owner or administrator sees and may change. Every function
 * loads the actor and authorizes again on the database state; nothing from the Slack payload
 * (button values, private_metadata, view state) is taken as permission.
 */
declare module '../errors.js' {
  interface Problems {
    'roles.gone': { userId: string };
    'roles.unknown_setting': NoFacts;
  }
}

export interface ManagedResponder extends ResponderView {
  /** Whether this actor may change or revoke this responder (the Edit button). */
  manageable: boolean;
}

export type SettingKind = 'boolean' | 'number' | 'choice';

export interface SettingRow {
  name: SettingName;
  value: string;
  describe: string;
  kind: SettingKind;
  /** For choices: the allowed values; for numbers: [min, max]. */
  choices: string[];
  min?: number;
  max?: number;
}

export interface RolesHomeModel {
  actor: Actor;
  responders: ManagedResponder[];
  /** Roles this actor may give to someone (an administrator: only those below administrator). */
  grantableRoles: Role[];
  /** Owners only; null for anyone else. */
  settings: SettingRow[] | null;
}

export interface RoleEditModel {
  actor: Actor;
  /** The responder being edited, or null to add one. */
  responder: ResponderView | null;
  grantableRoles: Role[];
}

export interface SettingEditModel {
  setting: SettingRow;
}

export interface RoleChange {
  userId: string;
  /** null: revoke. */
  role: Role | null;
  approver: boolean;
}

/** What changed, for the notice above the refreshed list. */
export type ChangeSummary =
  | { kind: 'revoked'; userId: string; role: Role }
  | { kind: 'granted'; userId: string; role: Role }
  | { kind: 'changed'; userId: string; role: Role; before: Role | null }
  | { kind: 'setting'; name: SettingName; before: string; after: string };

/** What to show after a change: the refreshed home (null when the actor may no longer see it). */
export interface ChangeResult {
  summary: ChangeSummary;
  home: RolesHomeModel | null;
}

const canManage = (actor: Actor, currentRole: Role | null, newRole: Role | null, settings: Settings) =>
  authorize(actor, 'responders.manage', { kind: 'responder', currentRole, newRole }, settings).allowed;

export function grantableRoles(actor: Actor, settings: Settings): Role[] {
  return ROLES.filter((role) => canManage(actor, null, role, settings));
}

export function settingRow(name: SettingName, settings: Settings): SettingRow {
  const def = settingDefinitions[name];
  const base = { name, value: formatSettingValue(settings[name]), describe: def.describe };
  if (typeof def.default === 'boolean') return { ...base, kind: 'boolean', choices: ['on', 'off'] };
  if (typeof def.default === 'number') {
    const schema = def.schema as { minValue?: number | null; maxValue?: number | null };
    return {
      ...base,
      kind: 'number',
      choices: [],
      ...(typeof schema.minValue === 'number' ? { min: schema.minValue } : {}),
      ...(typeof schema.maxValue === 'number' ? { max: schema.maxValue } : {}),
    };
  }
  return { ...base, kind: 'choice', choices: [...APPROVAL_REQUIRED_FOR] };
}

async function buildHome(em: EntityManager, actor: Actor, settings: Settings): Promise<RolesHomeModel> {
  const rows = await listResponders(em, actor.teamId);
  const mayChangeSettings = authorize(actor, 'settings.manage', { kind: 'none' }, settings).allowed;
  return {
    actor,
    responders: rows.map((r) => ({
      ...r,
      // Non-owners cannot change their own role (grantRoleAsResponder refuses it too).
      manageable: canManage(actor, r.role, r.role, settings) && (r.userId !== actor.userId || actor.role === 'owner'),
    })),
    grantableRoles: grantableRoles(actor, settings),
    settings: mayChangeSettings ? SETTING_NAMES.map((n) => settingRow(n, settings)) : null,
  };
}

/** The home modal: responders, and for owners the settings. Owners and administrators only. */
export async function rolesHome(deps: Deps, em: EntityManager, caller: Caller): Promise<RolesHomeModel> {
  const actor = await requireActor(deps, em, caller);
  const settings = await authorizeOrThrow(deps, em, caller, actor, 'responders.manage', { kind: 'none' });
  return buildHome(em, actor, settings);
}

/** The add / edit form. `userId` is a reference from a button: the responder is loaded and checked here. */
export async function roleEditForm(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  userId: string | null,
): Promise<RoleEditModel> {
  const actor = await requireActor(deps, em, caller);
  let responder: ResponderView | null = null;
  if (userId) {
    const row = await em.findOne(Responder, { teamId: actor.teamId, userId }, { refresh: true });
    if (!row) throw fail('NOT_FOUND', 'roles.gone', { userId });
    responder = {
      userId: row.userId,
      role: row.role,
      approver: row.approver,
      totpActive: row.totpStatus === 'active',
      grantedBy: row.grantedBy ?? null,
    };
  }
  const settings = await authorizeOrThrow(deps, em, caller, actor, 'responders.manage', {
    kind: 'responder',
    currentRole: responder?.role ?? null,
    newRole: responder?.role ?? null,
  });
  if (responder && responder.userId === actor.userId && actor.role !== 'owner')
    throw fail('PERMISSION_DENIED', 'responders.self_change', {});
  return { actor, responder, grantableRoles: grantableRoles(actor, settings) };
}

async function homeIfStillAllowed(em: EntityManager, caller: Caller): Promise<RolesHomeModel | null> {
  // No audit here: the change is done; this only decides what to show next.
  const actor = await findActor(em, caller.teamId, caller.userId);
  if (!actor) return null;
  const settings = await loadSettings(em, actor.teamId);
  if (!authorize(actor, 'responders.manage', { kind: 'none' }, settings).allowed) return null;
  return buildHome(em, actor, settings);
}

/** Grants, changes or revokes a role through the audited use cases, then returns the refreshed home. */
export async function saveRoleChange(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  change: RoleChange,
): Promise<ChangeResult> {
  let summary: ChangeSummary;
  if (change.role === null) {
    const r = await revokeRoleAsResponder(deps, em, caller, change.userId);
    summary = { kind: 'revoked', userId: change.userId, role: r.role };
  } else {
    const r = await grantRoleAsResponder(deps, em, caller, {
      teamId: caller.teamId,
      userId: change.userId,
      role: change.role,
      approver: change.approver,
    });
    summary = r.created
      ? { kind: 'granted', userId: change.userId, role: change.role }
      : { kind: 'changed', userId: change.userId, role: change.role, before: r.before };
  }
  return { summary, home: await homeIfStillAllowed(em, caller) };
}

/** The edit form for one setting. Owners only. */
export async function settingEditForm(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  name: string,
): Promise<SettingEditModel> {
  const actor = await requireActor(deps, em, caller);
  const settings = await authorizeOrThrow(deps, em, caller, actor, 'settings.manage', { kind: 'none' });
  if (!isSettingName(name))
    throw fail('NOT_FOUND', 'roles.unknown_setting', {}, { message: `unknown setting ${name.slice(0, 60)}` });
  return { setting: settingRow(name, settings) };
}

/** Changes one setting (owners only; audited as setting.changed), then returns the refreshed home. */
export async function changeSettingAsOwner(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  name: string,
  value: unknown,
): Promise<ChangeResult> {
  const actor = await requireActor(deps, em, caller);
  await authorizeOrThrow(deps, em, caller, actor, 'settings.manage', { kind: 'none' });
  const r = await changeSetting(
    deps,
    em,
    { userId: actor.userId, role: actor.role },
    actor.teamId,
    name,
    value,
    caller.correlationId,
  );
  return {
    summary: { kind: 'setting', name: r.name, before: r.before, after: r.after },
    home: await homeIfStillAllowed(em, caller),
  };
}
