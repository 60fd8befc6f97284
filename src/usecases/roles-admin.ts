import { Responder } from '../db/entities.js';
import { authorize } from '../domain/authorize.js';
import { DUO_COUNTERPART, type DuoCeilingName, duoValue, type Policy } from '../domain/duo-settings.js';
import { type Actor, ROLES, type Role } from '../domain/roles.js';
import {
  APPROVAL_REQUIRED_FOR,
  formatSettingValue,
  isSettingName,
  parseSettingValue,
  SETTING_NAMES,
  type SettingName,
  type Settings,
  settingDefinitions,
  type Weakening,
  weakens,
} from '../domain/settings.js';
import { fail } from '../errors.js';
import { authorizeOrThrow, findActor, requireActor } from './access.js';
import { responderChangeKind, settingChangeKind } from './approval-control-changes.js';
import type { Submitted } from './approval-engine.js';
import type { ApprovalNotices } from './approval-model.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { submitGuarded } from './guards.js';
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
  /** Which change weakens the controls (and is then guarded). */
  weakens: Weakening;
  value: string;
  describe: string;
  kind: SettingKind;
  /** For choices: the allowed values; for numbers: [min, max]. */
  choices: string[];
  min?: number;
  max?: number;
  /**
   * Duo's own settings that cap this one (GET /admin/v1/settings), by Duo's names, with their values as
   * last read ('unknown' when never read); absent when Duo has no counterpart.
   */
  duo?: { name: DuoCeilingName; value: string }[];
  /** When Duo's settings were last read (null: never). */
  duoReadAt?: Date | null;
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
  /** Step-up code and reason, for the changes that are guarded (Owner or Administrator, the approver flag). */
  totp?: string | null;
  reason?: string | null;
}

/** What changed, for the notice above the refreshed list. */
export type ChangeSummary =
  /** A guarded change: waiting for a second owner, or for its announced delay. */
  | { kind: 'pending'; submitted: Submitted }
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

export function settingRow(name: SettingName, settings: Policy): SettingRow {
  const def = settingDefinitions[name];
  const counterpart = DUO_COUNTERPART[name];
  const ceiling = settings.duo;
  const base = {
    name,
    value: formatSettingValue(settings[name]),
    describe: def.describe,
    weakens: def.weakens,
    ...(counterpart && ceiling !== undefined
      ? {
          duo: counterpart.map((n) => ({ name: n, value: ceiling ? duoValue(ceiling, n) : 'unknown' })),
          duoReadAt: ceiling?.readAt ?? null,
        }
      : {}),
  };
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
  notices: ApprovalNotices,
  change: RoleChange,
): Promise<ChangeResult> {
  let summary: ChangeSummary;
  const current = await em.findOne(Responder, { teamId: caller.teamId, userId: change.userId }, { refresh: true });
  const guarded = change.role !== null ? guardedRoleChange(current, change.role, change.approver) : null;
  if (guarded && change.role !== null) {
    const submitted = await submitGuarded(deps, em, caller, notices, {
      action: guarded,
      authorize: {
        action: 'responders.manage',
        target: {
          kind: 'responder',
          currentRole: current?.role ?? null,
          newRole: change.role,
          approverBefore: current?.approver ?? false,
          approverAfter: change.approver,
        },
      },
      totp: change.totp,
      reason: change.reason,
      kind: responderChangeKind,
      params: { userId: change.userId, role: change.role, approver: change.approver },
    });
    summary = { kind: 'pending', submitted };
  } else if (change.role === null) {
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
  notices: ApprovalNotices,
  name: string,
  value: unknown,
  guard: { totp?: string | null; reason?: string | null } = {},
): Promise<ChangeResult> {
  const actor = await requireActor(deps, em, caller);
  await authorizeOrThrow(deps, em, caller, actor, 'settings.manage', { kind: 'none' });
  const parsed = parseSettingValue(name, value);
  const before = (await loadSettings(em, actor.teamId))[parsed.name];
  if (weakens(parsed.name, before, parsed.value)) {
    const submitted = await submitGuarded(deps, em, caller, notices, {
      action: 'weakening_setting',
      authorize: { action: 'settings.manage', target: { kind: 'none' } },
      totp: guard.totp,
      reason: guard.reason,
      kind: settingChangeKind,
      params: { name: parsed.name, value: parsed.value },
    });
    return { summary: { kind: 'pending', submitted }, home: await homeIfStillAllowed(em, caller) };
  }
  const r = await changeSetting(
    deps,
    em,
    { userId: actor.userId, role: actor.role },
    actor.teamId,
    parsed.name,
    parsed.value,
    caller.correlationId,
  );
  return {
    summary: { kind: 'setting', name: r.name, before: r.before, after: r.after },
    home: await homeIfStillAllowed(em, caller),
  };
}

/** Which guard a role change needs: the Owner or Administrator role, or the approver flag being granted. */
function guardedRoleChange(
  current: { role: Role; approver: boolean } | null,
  role: Role,
  approver: boolean,
): 'powerful_role' | 'approver_flag' | null {
  const rank = (r: Role | undefined) => (r === 'owner' ? 2 : r === 'administrator' ? 1 : 0);
  if (rank(role) > rank(current?.role)) return 'powerful_role';
  if (approver && !current?.approver) return 'approver_flag';
  return null;
}
