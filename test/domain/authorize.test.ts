import { describe, expect, it } from 'vitest';
import { type Action, authorize, type Target } from '../../src/domain/authorize.js';
import { DEFAULT_BYPASS_PARAMS } from '../../src/domain/bypass-policy.js';
import type { DuoCeiling } from '../../src/domain/duo-settings.js';
import { approvalRequired, guardsFor } from '../../src/domain/guards.js';
import { ROLES, type Role } from '../../src/domain/roles.js';
import { defaultSettings, type Settings } from '../../src/domain/settings.js';

/**
 * The permission matrix, written out cell by cell (not derived from the implementation).
 * Each case: action, target, settings overrides, and the roles allowed under them.
 * Roles: O owner, A administrator, M application_manager, U user_manager, H help_desk, R read_only.
 */
const R: Record<string, Role> = {
  O: 'owner',
  A: 'administrator',
  M: 'application_manager',
  U: 'user_manager',
  H: 'help_desk',
  R: 'read_only',
};
const roles = (s: string): Role[] => s.split('').map((c) => R[c]!);

const none: Target = { kind: 'none' };
const status = (
  toStatus: 'active' | 'bypass' | 'disabled',
  directorySynced = false,
): Extract<Target, { kind: 'status' }> => ({
  kind: 'status',
  toStatus,
  directorySynced,
});
const bypass = (p: Partial<typeof DEFAULT_BYPASS_PARAMS> = {}): Target => ({
  kind: 'bypass',
  params: { ...DEFAULT_BYPASS_PARAMS, ...p },
});

interface Case {
  name: string;
  action: Action;
  target: Target;
  settings?: Partial<Settings>;
  /** Duo's own settings as read (null: never read); absent: no ceiling in play. */
  duo?: DuoCeiling | null;
  allowed: string;
}

/** Duo's documented defaults, with the demo tenant's Help Desk enrollment email on. */
const duo = (c: Partial<DuoCeiling> = {}): DuoCeiling => ({
  helpdeskBypass: 'allow',
  helpdeskBypassExpirationMinutes: null,
  helpdeskCanSendEnrollEmail: true,
  userManagersCanPutUsersInBypass: true,
  readAt: new Date(0),
  ...c,
});

const cases: Case[] = [
  { name: 'look up users', action: 'user.lookup', target: none, allowed: 'OAMUHR' },
  { name: 'send a verification push', action: 'user.verify', target: none, allowed: 'OAMUHR' },
  { name: 'unlock', action: 'user.unlock', target: none, allowed: 'OAUH' },
  { name: 're-enable', action: 'user.reenable', target: none, allowed: 'OAUH' },
  {
    name: 'set status active (not from Locked Out or Disabled)',
    action: 'user.set_status',
    target: status('active'),
    allowed: 'OAU',
  },
  { name: 'set status disabled', action: 'user.set_status', target: status('disabled'), allowed: 'OAU' },
  {
    name: 'set status disabled on a directory-synced user',
    action: 'user.set_status',
    target: status('disabled', true),
    allowed: '',
  },
  { name: 'set status bypass (setting off)', action: 'user.set_status', target: status('bypass'), allowed: 'OA' },
  {
    name: 'set status bypass (user managers allowed)',
    action: 'user.set_status',
    target: status('bypass'),
    settings: { user_managers_can_apply_bypass_status: true },
    allowed: 'OAU',
  },
  {
    name: 'set status bypass on a directory-synced user',
    action: 'user.set_status',
    target: status('bypass', true),
    allowed: 'OA',
  },
  {
    name: 'unlock a user locked out for failed attempts',
    action: 'user.unlock',
    target: { ...status('active'), from: 'locked out', lockoutReason: 'Failed Attempts' },
    allowed: 'OAUH',
  },
  {
    name: 'unlock a user locked out from Trust Monitor (Admin disabled)',
    action: 'user.unlock',
    target: { ...status('active'), from: 'locked out', lockoutReason: 'Admin disabled' },
    allowed: 'OA',
  },
  {
    name: 'unlock a directory-synced user locked out for failed attempts (sync never sets a lockout)',
    action: 'user.unlock',
    target: { ...status('active', true), from: 'locked out', lockoutReason: 'Failed Attempts' },
    allowed: 'OAUH',
  },
  {
    name: 're-enable a disabled user',
    action: 'user.reenable',
    target: { ...status('active'), from: 'disabled' },
    allowed: 'OAUH',
  },
  {
    name: 're-enable a directory-synced disabled user (the directory owns that status)',
    action: 'user.reenable',
    target: { ...status('active', true), from: 'disabled' },
    allowed: '',
  },
  {
    name: 'set a Bypass user to Active',
    action: 'user.set_status',
    target: { ...status('active'), from: 'bypass' },
    allowed: 'OAU',
  },
  { name: 'request default bypass codes', action: 'bypass.request', target: bypass(), allowed: 'OAUH' },
  {
    name: 'request default bypass codes, help desk not allowed',
    action: 'bypass.request',
    target: bypass(),
    settings: { help_desk_can_create_bypass_codes: false },
    allowed: 'OAU',
  },
  { name: 'request 3 codes', action: 'bypass.request', target: bypass({ count: 3 }), allowed: 'OAU' },
  {
    name: 'request 8-hour codes',
    action: 'bypass.request',
    target: bypass({ validSecs: 8 * 3600 }),
    allowed: 'OAU',
  },
  { name: 'request 5-use codes', action: 'bypass.request', target: bypass({ reuseCount: 5 }), allowed: 'OAU' },
  {
    name: 'request 3 codes, help desk may customize',
    action: 'bypass.request',
    target: bypass({ count: 3 }),
    settings: { help_desk_can_customize_bypass_codes: true },
    allowed: 'OAUH',
  },
  {
    name: 'request customized codes, help desk may customize but not create',
    action: 'bypass.request',
    target: bypass({ count: 3 }),
    settings: { help_desk_can_customize_bypass_codes: true, help_desk_can_create_bypass_codes: false },
    allowed: 'OAU',
  },
  {
    name: 'request codes that never expire',
    action: 'bypass.request',
    target: bypass({ validSecs: 0 }),
    settings: { help_desk_can_customize_bypass_codes: true },
    allowed: 'O',
  },
  // Duo's own settings as the ceiling (GET /admin/v1/settings): where Duo is stricter, Duo wins.
  {
    name: 'request default bypass codes, Duo allows (helpdesk_bypass allow)',
    action: 'bypass.request',
    target: bypass(),
    duo: duo(),
    allowed: 'OAUH',
  },
  {
    name: 'request default bypass codes, Duo forbids help desk (helpdesk_bypass deny)',
    action: 'bypass.request',
    target: bypass(),
    duo: duo({ helpdeskBypass: 'deny' }),
    allowed: 'OAU',
  },
  {
    name: 'request default bypass codes, Duo settings never read',
    action: 'bypass.request',
    target: bypass(),
    duo: null,
    allowed: 'OAU',
  },
  {
    name: 'request default (1-hour) bypass codes, Duo limits help desk to 30 minutes',
    action: 'bypass.request',
    target: bypass(),
    duo: duo({ helpdeskBypass: 'limit', helpdeskBypassExpirationMinutes: 30 }),
    allowed: 'OAU',
  },
  {
    name: 'request default (1-hour) bypass codes, Duo limits help desk to 2 hours',
    action: 'bypass.request',
    target: bypass(),
    duo: duo({ helpdeskBypass: 'limit', helpdeskBypassExpirationMinutes: 120 }),
    allowed: 'OAUH',
  },
  {
    name: 'request 8-hour codes, help desk may customize, Duo limits help desk to 2 hours',
    action: 'bypass.request',
    target: bypass({ validSecs: 8 * 3600 }),
    settings: { help_desk_can_customize_bypass_codes: true },
    duo: duo({ helpdeskBypass: 'limit', helpdeskBypassExpirationMinutes: 120 }),
    allowed: 'OAU',
  },
  {
    name: 'request default bypass codes, Duo allows but duo-desk forbids help desk',
    action: 'bypass.request',
    target: bypass(),
    settings: { help_desk_can_create_bypass_codes: false },
    duo: duo(),
    allowed: 'OAU',
  },
  {
    name: 'send enrollment email, Duo forbids help desk (helpdesk_can_send_enroll_email false)',
    action: 'user.enroll',
    target: none,
    duo: duo({ helpdeskCanSendEnrollEmail: false }),
    allowed: 'OAU',
  },
  {
    name: 'send enrollment email, Duo settings never read',
    action: 'user.enroll',
    target: none,
    duo: null,
    allowed: 'OAU',
  },
  {
    name: 'set status bypass, duo-desk lets user managers, Duo does too',
    action: 'user.set_status',
    target: status('bypass'),
    settings: { user_managers_can_apply_bypass_status: true },
    duo: duo(),
    allowed: 'OAU',
  },
  {
    name: 'set status bypass, duo-desk lets user managers, Duo does not',
    action: 'user.set_status',
    target: status('bypass'),
    settings: { user_managers_can_apply_bypass_status: true },
    duo: duo({ userManagersCanPutUsersInBypass: false }),
    allowed: 'OA',
  },
  {
    name: 'unlock, Duo settings never read (not one of Duo’s ceilings)',
    action: 'user.unlock',
    target: none,
    duo: null,
    allowed: 'OAUH',
  },
  { name: 'sync one user from the directory', action: 'user.sync', target: none, allowed: 'OAUH' },
  { name: 'create a user', action: 'user.create', target: none, allowed: 'OAU' },
  { name: 'open the edit form', action: 'user.edit', target: none, allowed: 'OAUH' },
  { name: 'delete users permanently (from the Trash)', action: 'user.delete', target: none, allowed: 'OAUH' },
  {
    name: 'send a user to the Trash',
    action: 'user.trash',
    target: { kind: 'account', directorySynced: false },
    allowed: 'OAUH',
  },
  {
    name: 'send a directory-synced user to the Trash (only a sync may)',
    action: 'user.trash',
    target: { kind: 'account', directorySynced: true },
    allowed: '',
  },
  {
    name: 'restore a user from the Trash',
    action: 'user.restore',
    target: { kind: 'account', directorySynced: false },
    allowed: 'OAUH',
  },
  {
    name: 'restore a directory-synced user from the Trash (only a sync may)',
    action: 'user.restore',
    target: { kind: 'account', directorySynced: true },
    allowed: '',
  },
  ...(['realname', 'email', 'notes'] as const).map((f) => ({
    name: `edit a user's ${f}`,
    action: 'user.edit' as const,
    target: { kind: 'edit', fields: [f], directorySynced: false } as const,
    allowed: 'OAUH',
  })),
  ...(['aliases', 'enable_auto_prompt'] as const).map((f) => ({
    name: `edit a user's ${f}`,
    action: 'user.edit' as const,
    target: { kind: 'edit', fields: [f], directorySynced: false } as const,
    allowed: 'OAU',
  })),
  ...(['realname', 'email', 'aliases'] as const).map((f) => ({
    name: `edit a directory-synced user's ${f} (the directory's)`,
    action: 'user.edit' as const,
    target: { kind: 'edit', fields: [f], directorySynced: true } as const,
    allowed: '',
  })),
  {
    name: "edit a directory-synced user's notes",
    action: 'user.edit',
    target: { kind: 'edit', fields: ['notes'], directorySynced: true },
    allowed: 'OAUH',
  },
  {
    name: "edit a directory-synced user's authentication experience",
    action: 'user.edit',
    target: { kind: 'edit', fields: ['enable_auto_prompt'], directorySynced: true },
    allowed: 'OAU',
  },
  {
    name: 'edit notes and aliases together',
    action: 'user.edit',
    target: { kind: 'edit', fields: ['notes', 'aliases'], directorySynced: false },
    allowed: 'OAU',
  },
  { name: 'list bypass codes', action: 'bypass_codes.list', target: none, allowed: 'OAUH' },
  { name: 'delete bypass codes', action: 'bypass_codes.delete', target: none, allowed: 'OAUH' },
  { name: 'send enrollment email', action: 'user.enroll', target: none, allowed: 'OAUH' },
  {
    name: 'send enrollment email, help desk not allowed',
    action: 'user.enroll',
    target: none,
    settings: { help_desk_can_send_enrollment_email: false },
    allowed: 'OAU',
  },
  { name: 'read audit history', action: 'audit.read', target: none, allowed: 'OAR' },
  { name: 'export audit history', action: 'audit.export', target: none, allowed: 'OA' },
  { name: 'change settings', action: 'settings.manage', target: none, allowed: 'O' },
  { name: 'see the users overview and its lists', action: 'users.read', target: none, allowed: 'OAMUHR' },
  { name: 'export users of the overview', action: 'users.export', target: none, allowed: 'OAMUHR' },
  { name: 'list responders', action: 'responders.manage', target: none, allowed: 'OA' },
  {
    name: 'grant help desk',
    action: 'responders.manage',
    target: { kind: 'responder', currentRole: null, newRole: 'help_desk' },
    allowed: 'OA',
  },
  {
    name: 'change read-only to user manager',
    action: 'responders.manage',
    target: { kind: 'responder', currentRole: 'read_only', newRole: 'user_manager' },
    allowed: 'OA',
  },
  {
    name: 'grant administrator',
    action: 'responders.manage',
    target: { kind: 'responder', currentRole: null, newRole: 'administrator' },
    allowed: 'O',
  },
  {
    name: 'revoke an administrator',
    action: 'responders.manage',
    target: { kind: 'responder', currentRole: 'administrator', newRole: null },
    allowed: 'O',
  },
  {
    name: 'demote an owner to help desk',
    action: 'responders.manage',
    target: { kind: 'responder', currentRole: 'owner', newRole: 'help_desk' },
    allowed: 'O',
  },
];

describe('authorize: the role x action x setting matrix', () => {
  for (const c of cases) {
    const allowedRoles = roles(c.allowed);
    for (const role of ROLES) {
      const expected = allowedRoles.includes(role);
      it(`when a ${role} tries to ${c.name}, then it is ${expected ? 'allowed' : 'denied'}`, () => {
        const settings = { ...defaultSettings(), ...c.settings, ...(c.duo !== undefined ? { duo: c.duo } : {}) };
        const decision = authorize({ teamId: 'T1', userId: 'U1', role, approver: false }, c.action, c.target, settings);
        expect(decision.allowed).toBe(expected);
        // A denial names what would allow it: roles that may, or a setting (never an empty refusal).
        if (!decision.allowed)
          expect(
            decision.roles.length > 0 ||
              decision.rule === 'directory_synced' ||
              decision.rule === 'directory_field' ||
              decision.rule === 'directory_account',
          ).toBe(true);
      });
    }
  }
});

describe('authorize: approving bypass requests', () => {
  const settings = defaultSettings();
  for (const role of ROLES) {
    for (const approver of [false, true]) {
      // Read-only and Application Manager responders never approve, whatever their flag says.
      const expected =
        role === 'owner' ||
        role === 'administrator' ||
        (approver && role !== 'read_only' && role !== 'application_manager');
      it(`when a ${role}${approver ? ' with the approver flag' : ''} decides another's request, then it is ${expected ? 'allowed' : 'denied'}`, () => {
        const d = authorize(
          { teamId: 'T1', userId: 'U1', role, approver },
          'approval.decide',
          { kind: 'approval', requesterUserId: 'U2', approvers: 'second_person' },
          settings,
        );
        expect(d.allowed).toBe(expected);
      });
      it(`when a ${role}${approver ? ' with the approver flag' : ''} decides their own request, then it is denied`, () => {
        const d = authorize(
          { teamId: 'T1', userId: 'U1', role, approver },
          'approval.decide',
          { kind: 'approval', requesterUserId: 'U1', approvers: 'second_person' },
          settings,
        );
        expect(d).toMatchObject({ allowed: false, rule: 'own_request' });
      });
    }
  }
});

describe('approvalRequired', () => {
  const table: Array<[Settings['bypass_approval_required'], string]> = [
    ['all', 'OAMUHR'],
    ['all_but_owner', 'AMUHR'],
    ['all_but_owner_and_administrator', 'MUHR'],
  ];
  for (const [setting, needing] of table) {
    for (const role of ROLES) {
      const expected = roles(needing).includes(role);
      it(`when the setting is ${setting} and a ${role} requests, then approval is ${expected ? '' : 'not '}required`, () => {
        expect(approvalRequired(role, { ...defaultSettings(), bypass_approval_required: setting })).toBe(expected);
      });
    }
  }
});

describe('denials name what would allow the action', () => {
  it('when help desk may not send enrollment emails, then the denial names the setting', () => {
    const d = authorize({ teamId: 'T1', userId: 'U1', role: 'help_desk', approver: false }, 'user.enroll', none, {
      ...defaultSettings(),
      help_desk_can_send_enrollment_email: false,
    });
    expect(d).toMatchObject({ allowed: false });
    expect(d).toMatchObject({ rule: 'setting', setting: 'help_desk_can_send_enrollment_email' });
  });
});

describe('authorize: changes that weaken the controls', () => {
  const settings = defaultSettings();
  const actor = (role: Role, approver = false) => ({ teamId: 'T1', userId: 'U1', role, approver });
  for (const role of ROLES) {
    const expected = role === 'owner';
    it(`when a ${role} decides another's weakening change, then it is ${expected ? 'allowed' : 'denied'} (second owner only)`, () => {
      const d = authorize(
        actor(role, true),
        'approval.decide',
        { kind: 'approval', requesterUserId: 'U2', approvers: 'second_owner' },
        settings,
      );
      expect(d.allowed).toBe(expected);
    });
  }

  it('when an administrator grants the approver flag, then it is denied: only owners grant it', () => {
    const d = authorize(
      actor('administrator'),
      'responders.manage',
      {
        kind: 'responder',
        currentRole: 'help_desk',
        newRole: 'help_desk',
        approverBefore: false,
        approverAfter: true,
      },
      settings,
    );
    expect(d).toMatchObject({ allowed: false, rule: 'approver_flag_owner_only' });
  });

  for (const role of ['read_only', 'application_manager'] as const)
    it(`when an owner grants the approver flag to a ${role} responder, then it is denied`, () => {
      const d = authorize(
        actor('owner'),
        'responders.manage',
        {
          kind: 'responder',
          currentRole: role,
          newRole: role,
          approverBefore: false,
          approverAfter: true,
        },
        settings,
      );
      expect(d).toMatchObject({ allowed: false, rule: 'approver_flag_not_for_role' });
    });

  it('when an administrator removes the approver flag below Administrator, then it is allowed', () => {
    const d = authorize(
      actor('administrator'),
      'responders.manage',
      {
        kind: 'responder',
        currentRole: 'user_manager',
        newRole: 'user_manager',
        approverBefore: true,
        approverAfter: false,
      },
      settings,
    );
    expect(d.allowed).toBe(true);
  });

  it('when someone other than the requester cancels, then only an owner may', () => {
    const target = { kind: 'approval', requesterUserId: 'U2', approvers: 'second_person' } as const;
    expect(authorize(actor('administrator'), 'approval.cancel', target, settings).allowed).toBe(false);
    expect(authorize(actor('owner'), 'approval.cancel', target, settings).allowed).toBe(true);
    expect(authorize({ ...actor('help_desk'), userId: 'U2' }, 'approval.cancel', target, settings).allowed).toBe(true);
  });
});

describe('guards of the account changes', () => {
  const ctx = (role: Role, otherOwners: number, s: Partial<Settings> = {}) => ({
    role,
    otherOwners,
    settings: { ...defaultSettings(), ...s },
  });
  for (const role of ROLES)
    it(`when a ${role} deletes several users permanently, then an owner approves (or the announced delay without one)`, () => {
      expect(guardsFor('user_delete_bulk', ctx(role, 1)).approval).toBe('second_owner');
      expect(guardsFor('user_delete_bulk', ctx(role, 0)).approval).toBe('delay');
    });
  it('when an owner exempt by bypass_approval_required deletes one user or sends one to the Trash, then no second person is needed; a help desk always needs one', () => {
    const s = { bypass_approval_required: 'all_but_owner' as const };
    expect(guardsFor('user_delete', ctx('owner', 1, s)).approval).toBe('none');
    expect(guardsFor('user_trash', ctx('owner', 1, s)).approval).toBe('none');
    expect(guardsFor('user_trash', ctx('help_desk', 1, s)).approval).toBe('second_person');
    expect(guardsFor('email_change', ctx('help_desk', 1, s))).toMatchObject({
      approval: 'second_person',
      verificationMinutes: 10,
    });
  });
});
