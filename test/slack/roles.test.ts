import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Json, StoredView } from '@duo-desk/slack-testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Responder } from '../../src/db/entities.js';
import { loadSettings } from '../../src/usecases/settings.js';
import { ACTIONS, BLOCKS, VIEWS } from '../../views/ids.js';
import { auditRows } from '../support/audit.js';
import { clickAction, findRendered, topView as forgeTopView, openRolesHome, submitForged } from '../support/forge.js';
import { type Harness, PEOPLE, startHarness, TEAM } from '../support/harness.js';

const NEW_OWNER = 'U777';
const ADMIN = 'U888';
const NEWCOMER = 'U901';
const OTHER = 'U902';
const REPO = fileURLToPath(new URL('../../', import.meta.url));

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    users: [
      { id: NEW_OWNER, name: 'nina' },
      { id: ADMIN, name: 'adam' },
      { id: NEWCOMER, name: 'fred' },
      { id: OTHER, name: 'gina' },
    ],
  });
});
afterAll(async () => {
  await h?.close();
});

/** The real CLI in its own process, against the test database (as the installer would run it). */
async function cli(...args: string[]) {
  return promisify(execFile)('node', ['--import', 'tsx', 'src/app/cli.ts', ...args], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DATABASE_URL: h.runtime.db.url },
    timeout: 60_000,
  });
}

const blocksOf = (v: StoredView) => v.definition.blocks as Json[];
const textOf = (v: StoredView) => JSON.stringify(v.definition.blocks);
const headers = (v: StoredView) =>
  blocksOf(v)
    .filter((b) => b.type === 'header')
    .map((b) => (b.text as { text: string }).text);
const topView = (userId: string, callbackId: string) => forgeTopView(h, userId, callbackId);
const openHome = (userId: string) => openRolesHome(h, userId);

function roleOptions(form: StoredView): string[] {
  const block = blocksOf(form).find((b) => b.block_id === BLOCKS.roleRole) as { element: { options: Json[] } };
  return block.element.options.map((o) => (o.text as { text: string }).text);
}

const responder = (userId: string) => h.runtime.db.em.fork().findOne(Responder, { teamId: TEAM, userId });
const deniedFor = (userId: string) =>
  auditRows(h, `action = 'permission.denied' and actor_user_id = ?`, [userId]).then((rows) => rows.length);

describe('/duo roles', () => {
  it('when the installer grants a first owner with the CLI, then /duo roles opens for them with responders and settings', async () => {
    const { stdout } = await cli('roles', 'grant', NEW_OWNER, 'owner', '--team', TEAM);
    expect(stdout).toContain(`granted owner for ${NEW_OWNER} in ${TEAM}`);
    const granted = await auditRows(h, `action = 'responder.granted' and actor_user_id = 'cli'`);
    expect(granted).toHaveLength(1);
    expect(granted[0]!.params).toMatchObject({ responder: NEW_OWNER, role: 'owner' });

    const home = await openHome(NEW_OWNER);
    const text = textOf(home);
    for (const id of [NEW_OWNER, PEOPLE.owner, PEOPLE.helpDesk, PEOPLE.userManager, PEOPLE.readOnly])
      expect(text).toContain(`<@${id}>`);
    expect(text).not.toContain(`<@${PEOPLE.stranger}>`);
    expect(text).toContain('TOTP not enrolled');
    expect(text).toContain('approver');
    expect(headers(home)).toEqual(['Responders', 'Settings']);
    expect(text).toContain('help_desk_can_create_bypass_codes');
    expect(findRendered(blocksOf(home), ACTIONS.rolesAdd)).toBeDefined();
    expect(findRendered(blocksOf(home), ACTIONS.settingsEdit, 'bypass_approval_required')).toBeDefined();
  });

  it('when help desk, read-only or a non-responder asks for /duo roles, then they are refused clearly and no modal opens', async () => {
    const cases: Array<[string, string]> = [
      [PEOPLE.helpDesk, 'Only owners and administrators manage responders.'],
      [PEOPLE.readOnly, 'Only owners and administrators manage responders.'],
      [PEOPLE.stranger, 'You are not a duo-desk responder'],
    ];
    for (const [userId, expected] of cases) {
      const opens = h.slack.callsTo('views.open').length;
      const denied = await deniedFor(userId);
      const r = await h.driver.command(userId, 'roles');
      expect(r.body).toMatchObject({ response_type: 'ephemeral' });
      expect(JSON.stringify(r.body)).toContain(expected);
      expect(h.slack.callsTo('views.open').length).toBe(opens);
      expect(await deniedFor(userId)).toBe(denied + 1);
    }
  });

  it('when an administrator adds a responder, then only roles below administrator are offered and help desk is granted', async () => {
    await h.grant(ADMIN, 'administrator');
    const home = await openHome(ADMIN);
    const blocks = blocksOf(home);
    expect(headers(home)).toEqual(['Responders']);
    expect(findRendered(blocks, ACTIONS.settingsEdit)).toBeUndefined();
    expect(findRendered(blocks, ACTIONS.rolesEdit, PEOPLE.owner)).toBeUndefined();
    expect(findRendered(blocks, ACTIONS.rolesEdit, ADMIN)).toBeUndefined();
    expect(findRendered(blocks, ACTIONS.rolesEdit, PEOPLE.helpDesk)).toBeDefined();

    await h.driver.clickButton({ view: home }, 'Add responder', ADMIN);
    const form = await topView(ADMIN, VIEWS.roleEdit);
    expect(roleOptions(form)).toEqual(['Application Manager', 'User Manager', 'Help Desk', 'Read-only']);
    expect(JSON.parse(form.privateMetadata ?? '')).toEqual({ root: home.id });

    const r = await h.driver.submitView(form, ADMIN, { Person: NEWCOMER, Role: 'Help Desk' });
    expect(r.status).toBe(200);
    expect(await responder(NEWCOMER)).toMatchObject({ role: 'help_desk', approver: false, grantedBy: ADMIN });
    const audited = await auditRows(h, `action = 'responder.granted' and actor_user_id = ?`, [ADMIN]);
    expect(audited.at(-1)!.params).toMatchObject({ responder: NEWCOMER, role: 'help_desk', previousRole: null });
    const refreshed = await h.slack.waitFor(() => {
      const v = h.slack.view(home.id);
      return v && JSON.stringify(v.definition.blocks).includes(`Granted help_desk to <@${NEWCOMER}>`) && v;
    });
    expect(findRendered(blocksOf(refreshed), ACTIONS.rolesEdit, NEWCOMER)).toBeDefined();
    expect(h.slack.lastView(ADMIN)?.id).toBe(home.id);
  });

  it('when an administrator submits the administrator role anyway, then it is refused, audited and nothing changes', async () => {
    const home = await topView(ADMIN, VIEWS.rolesHome);
    await h.driver.clickButton({ view: home }, 'Add responder', ADMIN);
    const form = await topView(ADMIN, VIEWS.roleEdit);
    const denied = await deniedFor(ADMIN);
    const r = await h.driver.submitView(form, ADMIN, {
      Person: OTHER,
      Role: { value: 'administrator', text: 'Administrator' },
    });
    expect(JSON.stringify(r.body)).toContain(
      'Administrators may only grant, change and revoke roles below Administrator',
    );
    expect(await responder(OTHER)).toBeNull();
    expect(await deniedFor(ADMIN)).toBe(denied + 1);
    const row = (await auditRows(h, `action = 'permission.denied' and actor_user_id = ?`, [ADMIN])).at(-1)!;
    expect(row.params).toMatchObject({ attempted: 'responders.manage' });

    // Promoting an existing help-desk responder is refused the same way.
    await h.driver.closeView(h.slack.lastView(ADMIN)!, ADMIN);
    await h.driver.clickButton({ view: home }, 'Add responder', ADMIN);
    const again = await topView(ADMIN, VIEWS.roleEdit);
    const promote = await submitForged(h, again.id, ADMIN, {
      values: {
        [BLOCKS.roleUser]: { role_user_input: { type: 'users_select', selected_user: NEWCOMER } },
        [BLOCKS.roleRole]: {
          role_role_input: {
            type: 'static_select',
            selected_option: { text: { type: 'plain_text', text: 'Administrator' }, value: 'administrator' },
          },
        },
      },
    });
    expect(JSON.stringify(promote.body)).toContain('below Administrator');
    expect(await responder(NEWCOMER)).toMatchObject({ role: 'help_desk' });
  });

  it('when an owner changes a setting in the modal, then it is saved, audited and the modal shows the new value', async () => {
    const home = await openHome(NEW_OWNER);
    await clickAction(h, { view: home.id }, ACTIONS.settingsEdit, NEW_OWNER, {
      match: 'help_desk_can_create_bypass_codes',
    });
    const form = await topView(NEW_OWNER, VIEWS.settingEdit);
    expect(textOf(form)).toContain('help_desk_can_create_bypass_codes');
    await h.driver.submitView(form, NEW_OWNER, { Value: 'off' });
    const rows = await auditRows(h, `action = 'setting.changed' and actor_user_id = ?`, [NEW_OWNER]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.params).toMatchObject({ setting: 'help_desk_can_create_bypass_codes', before: 'on', after: 'off' });
    expect((await loadSettings(h.runtime.db.em.fork(), TEAM)).help_desk_can_create_bypass_codes).toBe(false);
    await h.slack.waitFor(() =>
      JSON.stringify(h.slack.view(home.id)?.definition.blocks).includes('*help_desk_can_create_bypass_codes*: `off`'),
    );
  });

  it('when an owner submits a number out of range, then the field says why and nothing is saved', async () => {
    const home = await topView(NEW_OWNER, VIEWS.rolesHome);
    await clickAction(h, { view: home.id }, ACTIONS.settingsEdit, NEW_OWNER, { match: 'approval_timeout_minutes' });
    const form = await topView(NEW_OWNER, VIEWS.settingEdit);
    // The Slack client enforces min/max; a hand-built submission skips it, the server must not.
    const r = await submitForged(h, form.id, NEW_OWNER, {
      values: { [BLOCKS.settingValue]: { setting_value_input: { type: 'number_input', value: '5000' } } },
    });
    expect(r.body).toMatchObject({ response_action: 'errors', errors: { [BLOCKS.settingValue]: expect.any(String) } });
    expect((await loadSettings(h.runtime.db.em.fork(), TEAM)).approval_timeout_minutes).toBe(30);
    await h.driver.closeView(h.slack.lastView(NEW_OWNER)!, NEW_OWNER);
  });

  it('when the owners try to demote or remove the last owner, then it is refused and the owner stays', async () => {
    const home = await topView(NEW_OWNER, VIEWS.rolesHome);
    // Two owners: demoting the first one works.
    await clickAction(h, { view: home.id }, ACTIONS.rolesEdit, NEW_OWNER, { match: PEOPLE.owner });
    const edit = await topView(NEW_OWNER, VIEWS.roleEdit);
    expect(roleOptions(edit)).toEqual([
      'Owner',
      'Administrator',
      'Application Manager',
      'User Manager',
      'Help Desk',
      'Read-only',
      'No role (revoke)',
    ]);
    await h.driver.submitView(edit, NEW_OWNER, { Role: 'Administrator' });
    expect(await responder(PEOPLE.owner)).toMatchObject({ role: 'administrator', approver: true });

    // Now NEW_OWNER is the last owner: neither a demotion nor a revoke goes through.
    for (const choice of ['Administrator', 'No role (revoke)']) {
      const current = await topView(NEW_OWNER, VIEWS.rolesHome);
      await clickAction(h, { view: current.id }, ACTIONS.rolesEdit, NEW_OWNER, { match: NEW_OWNER });
      const self = await topView(NEW_OWNER, VIEWS.roleEdit);
      const r = await h.driver.submitView(self, NEW_OWNER, { Role: choice });
      expect(JSON.stringify(r.body)).toContain('That is the last owner: grant another owner first.');
      expect(await responder(NEW_OWNER)).toMatchObject({ role: 'owner' });
      await h.driver.closeView(h.slack.lastView(NEW_OWNER)!, NEW_OWNER);
    }
    const revoked = await auditRows(h, `action = 'responder.revoked'`);
    expect(revoked).toHaveLength(0);
  });
});

describe('the log', () => {
  it('when all of the above ran, then no unknown error was logged', () => {
    const errors = h.logger.lines.filter((l) => JSON.parse(l).level === 'error');
    expect(errors).toEqual([]);
  });
});
