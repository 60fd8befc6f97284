import type { StoredView } from '@duo-desk/slack-testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Responder } from '../../src/db/entities.js';
import { loadSettings } from '../../src/usecases/settings.js';
import { ACTIONS, BLOCKS, VIEWS } from '../../views/ids.js';
import { auditRows } from '../support/audit.js';
import { clickAction, topView as forgeTopView, openRolesHome, submitForged } from '../support/forge.js';
import { CHANNELS, type Harness, PEOPLE, startHarness, TEAM } from '../support/harness.js';

/**
 * Opening a form and submitting it are two checks; ids that come back from Slack (button values,
 * private_metadata, view state) are references and grant nothing; users of other teams are refused.
 */
const ADMIN = 'U888';
const NEWCOMER = 'U901';
const OTHER = 'U902';
const FOREIGN = 'UFOREIGN1';
const OTHER_TEAM = 'T0OTHER';
const FOREIGN_TEXT = 'only acts for members of the workspace';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    users: [
      { id: ADMIN, name: 'adam' },
      { id: NEWCOMER, name: 'fred' },
      { id: OTHER, name: 'gina' },
      { id: FOREIGN, name: 'visitor', teamId: OTHER_TEAM },
    ],
  });
});
afterAll(async () => {
  await h?.close();
});

const topView = (userId: string, callbackId: string) => forgeTopView(h, userId, callbackId);
const openHome = (userId: string) => openRolesHome(h, userId);

async function openAddForm(userId: string): Promise<{ home: StoredView; form: StoredView }> {
  const home = await openHome(userId);
  await h.driver.clickButton({ view: home }, 'Add responder', userId);
  return { home, form: await topView(userId, VIEWS.roleEdit) };
}

const responders = async () =>
  (await h.runtime.db.em.fork().find(Responder, { teamId: TEAM }, { orderBy: { userId: 'asc' } })).map(
    (r) => `${r.userId}:${r.role}:${r.approver}`,
  );
const denials = (userId: string) => auditRows(h, `action = 'permission.denied' and actor_user_id = ?`, [userId]);
/**
 * Every refusal of this user, audited or counted: responders' refusals are one audit row each; people
 * from outside are counted per minute (one audit row when a minute's refusals start, a summary after).
 */
async function refusals(userId: string): Promise<number> {
  const outside = (r: Record<string, unknown>) =>
    /^(not a responder|user from another team)/.test(String((r.params as { why?: string }).why));
  const audited = (await denials(userId)).filter((r) => !outside(r)).length;
  const [row] = await h.runtime.db.em
    .fork()
    .getConnection()
    .execute<Array<{ n: string | number | null }>>('select sum(count) as n from refusal_window where user_id = ?', [
      userId,
    ]);
  return audited + Number(row?.n ?? 0);
}
const changes = () => auditRows(h, `action in ('responder.granted', 'responder.revoked', 'setting.changed')`);
const pushedViews = () => h.slack.callsTo('views.push').map((c) => JSON.stringify(c.args.view));
/** Polls an asynchronous check (block_actions are acked before their handler finishes). */
async function eventually<T>(fn: () => Promise<T | false | undefined>, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error('eventually: timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Web API calls the bot made for people (the audit channel relay left out). */
const botCalls = () =>
  h.slack.calls.filter((c) => (c.args as { channel?: string }).channel !== CHANNELS.audit && c.method !== 'auth.test');

describe('a role revoked between opening and submitting', () => {
  it('when an administrator is revoked while the add form is open, then the submit is denied and nothing changes', async () => {
    await h.grant(ADMIN, 'administrator');
    const { form } = await openAddForm(ADMIN);
    await h.revoke(ADMIN);
    const before = await responders();
    const changesBefore = (await changes()).length;
    const denied = await refusals(ADMIN);
    const r = await h.driver.submitView(form, ADMIN, { Person: NEWCOMER, Role: 'Help Desk' });
    expect(JSON.stringify(r.body)).toContain('You are not a duo-desk responder');
    expect(await responders()).toEqual(before);
    expect((await changes()).length).toBe(changesBefore);
    expect(await refusals(ADMIN)).toBe(denied + 1);
    expect((await denials(ADMIN)).at(-1)!.params).toMatchObject({ why: 'not a responder' });
  });

  it('when an administrator is demoted to read-only while the form is open, then the submit is denied by the new role', async () => {
    await h.grant(ADMIN, 'administrator');
    const { form } = await openAddForm(ADMIN);
    await h.grant(ADMIN, 'read_only');
    const before = await responders();
    const r = await h.driver.submitView(form, ADMIN, { Person: NEWCOMER, Role: 'Help Desk' });
    expect(JSON.stringify(r.body)).toContain('Only owners and administrators manage responders.');
    expect(await responders()).toEqual(before);
    expect((await denials(ADMIN)).at(-1)!.params).toMatchObject({ attempted: 'responders.manage' });
  });

  it('when an owner is demoted while a setting form is open, then the setting is not changed', async () => {
    await h.grant(ADMIN, 'owner');
    const home = await openHome(ADMIN);
    await clickAction(h, { view: home.id }, ACTIONS.settingsEdit, ADMIN, { match: 'step_up_for_unlock' });
    const form = await topView(ADMIN, VIEWS.settingEdit);
    await h.grant(ADMIN, 'administrator');
    const r = await h.driver.submitView(form, ADMIN, { Value: 'on' });
    expect(JSON.stringify(r.body)).toContain('Administrator responders cannot change settings.');
    expect((await loadSettings(h.runtime.db.em.fork(), TEAM)).step_up_for_unlock).toBe(false);
    expect((await denials(ADMIN)).at(-1)!.params).toMatchObject({ attempted: 'settings.manage' });
  });
});

async function bobsCard() {
  const before = h.slack.messages().length;
  await h.driver.command(PEOPLE.helpDesk, 'lookup bob');
  return h.slack.waitFor(
    () =>
      h.slack
        .messages()
        .slice(before)
        .find(
          (m) => m.ephemeralUser === PEOPLE.helpDesk && JSON.stringify(m.blocks ?? []).includes(ACTIONS.cardUnlock),
        ),
    { description: "bob's card" },
  );
}

const replies = () => h.slack.callsTo('response_url').map((c) => JSON.stringify(c.args));

describe('buttons pressed by someone without the right', () => {
  it('when a read-only responder or a stranger presses Unlock on a user card, then it is refused, audited, and Duo is not changed', async () => {
    const card = await bobsCard();
    const where = { message: { channel: card.channel, ts: card.ts } };
    const duoBefore = h.duo.requests().length;
    const opens = h.slack.callsTo('views.open').length;
    for (const userId of [PEOPLE.readOnly, PEOPLE.stranger]) {
      const denied = await refusals(userId);
      const answered = replies().length;
      const r = await clickAction(h, where, ACTIONS.cardUnlock, userId);
      expect(r.status).toBe(200);
      const reply = await h.slack.waitFor(() => replies().length > answered && replies().at(-1), {
        description: 'the refusal',
      });
      expect(reply).toContain(userId === PEOPLE.stranger ? 'not a duo-desk responder' : 'cannot unlock users');
      expect(await refusals(userId)).toBe(denied + 1);
      const rows = await denials(userId);
      expect(rows.at(-1)!.params).toMatchObject(
        userId === PEOPLE.stranger ? { why: 'not a responder' } : { attempted: 'user.unlock' },
      );
    }
    expect(h.duo.requests().slice(duoBefore)).toEqual([]);
    expect(h.slack.callsTo('views.open').length).toBe(opens);
  });

  it('when a stranger presses Verify on a user card, then no push is sent', async () => {
    const card = await bobsCard();
    const duoBefore = h.duo.requests().length;
    const denied = await refusals(PEOPLE.stranger);
    await clickAction(h, { message: { channel: card.channel, ts: card.ts } }, ACTIONS.cardVerify, PEOPLE.stranger);
    await eventually(async () => (await refusals(PEOPLE.stranger)) > denied);
    expect(
      h.duo
        .requests()
        .slice(duoBefore)
        .filter((r) => r.method === 'POST'),
    ).toEqual([]);
    expect(h.duo.requests().slice(duoBefore)).toEqual([]);
  });

  it('when a read-only responder or a stranger presses the roles buttons of an owner’s modal, then it is refused and audited', async () => {
    const home = await openHome(PEOPLE.owner);
    const before = await responders();
    const pushesBefore = pushedViews().length;
    for (const userId of [PEOPLE.readOnly, PEOPLE.stranger]) {
      for (const [action, value] of [
        [ACTIONS.rolesEdit, PEOPLE.helpDesk],
        [ACTIONS.rolesAdd, 'add'],
        [ACTIONS.settingsEdit, 'step_up_for_unlock'],
      ] as const) {
        const denied = await refusals(userId);
        const r = await clickAction(h, { view: home.id }, action, userId, { value });
        expect(r.status).toBe(200);
        const rows = await eventually(async () => (await refusals(userId)) > denied && denials(userId));
        expect(rows.at(-1)!.params).toMatchObject(
          userId === PEOPLE.stranger ? { why: 'not a responder' } : { attempted: expect.any(String) },
        );
      }
    }
    expect(
      pushedViews()
        .slice(pushesBefore)
        .some((v) => v.includes(VIEWS.roleEdit) || v.includes(VIEWS.settingEdit)),
    ).toBe(false);
    expect(await responders()).toEqual(before);
  });

  it('when a stranger submits a lookup modal, then it is refused, audited, and Duo is never called', async () => {
    await h.driver.command(PEOPLE.helpDesk, 'lookup');
    const modal = await topView(PEOPLE.helpDesk, VIEWS.lookup);
    const duoBefore = h.duo.requests().length;
    const denied = await refusals(PEOPLE.stranger);
    const r = await submitForged(h, modal.id, PEOPLE.stranger, {
      values: {
        [BLOCKS.userPicker]: {
          [ACTIONS.lookupPicker]: {
            type: 'external_select',
            selected_option: { text: { type: 'plain_text', text: 'alice' }, value: 'DU0000000000000000A1' },
          },
        },
      },
    });
    expect(JSON.stringify(r.body)).toContain('You are not a duo-desk responder');
    expect(await refusals(PEOPLE.stranger)).toBe(denied + 1);
    expect(h.duo.requests().slice(duoBefore)).toEqual([]);
  });
});

describe('forged references grant nothing', () => {
  it('when an administrator presses Edit with an owner’s id as the value, then it is refused and audited', async () => {
    await h.grant(ADMIN, 'administrator');
    const home = await openHome(ADMIN);
    const denied = await refusals(ADMIN);
    const pushes = pushedViews().length;
    await clickAction(h, { view: home.id }, ACTIONS.rolesEdit, ADMIN, { value: PEOPLE.owner });
    await h.slack.waitFor(() => pushedViews().length > pushes);
    expect(pushedViews().at(-1)).toContain(
      'Administrators may only grant, change and revoke roles below Administrator',
    );
    expect(await refusals(ADMIN)).toBe(denied + 1);
  });

  it('when the form’s private_metadata names another user’s root view, then only the submitter’s own view is updated', async () => {
    const ownerHome = await openHome(PEOPLE.owner);
    const { home, form } = await openAddForm(ADMIN);
    const live = h.slack.store.views.get(form.id)!;
    live.privateMetadata = JSON.stringify({ root: ownerHome.id });
    const ownerBefore = JSON.stringify(h.slack.view(ownerHome.id)!.definition);
    await h.driver.submitView(form, ADMIN, { Person: NEWCOMER, Role: 'Help Desk' });
    expect(await h.runtime.db.em.fork().findOne(Responder, { teamId: TEAM, userId: NEWCOMER })).toMatchObject({
      role: 'help_desk',
    });
    await h.slack.waitFor(() => JSON.stringify(h.slack.view(home.id)!.definition).includes(`<@${NEWCOMER}>`));
    expect(JSON.stringify(h.slack.view(ownerHome.id)!.definition)).toBe(ownerBefore);
    expect(h.slack.callsTo('views.update').every((c) => c.args.view_id !== ownerHome.id)).toBe(true);
  });

  it('when private_metadata and state name another user and a higher role than offered, then nothing beyond the administrator’s rights happens', async () => {
    const { form } = await openAddForm(ADMIN);
    const before = await responders();
    const denied = await refusals(ADMIN);
    const asOwner = JSON.stringify({ root: form.rootViewId, user: PEOPLE.owner, role: 'owner', actor: PEOPLE.owner });
    const attempts: Array<[string, string]> = [
      [OTHER, 'owner'],
      [OTHER, 'administrator'],
      [PEOPLE.owner, 'read_only'], // touching an owner
      [ADMIN, 'owner'], // self-promotion
    ];
    for (const [userId, role] of attempts) {
      const r = await submitForged(h, form.id, ADMIN, {
        privateMetadata: asOwner,
        values: {
          [BLOCKS.roleUser]: { role_user_input: { type: 'users_select', selected_user: userId } },
          [BLOCKS.roleRole]: {
            role_role_input: {
              type: 'static_select',
              selected_option: { text: { type: 'plain_text', text: role }, value: role },
            },
          },
        },
      });
      expect(r.status).toBe(200);
      expect(JSON.stringify(r.body)).toMatch(/below Administrator|cannot change your own role/);
    }
    expect(await responders()).toEqual(before);
    expect(await refusals(ADMIN)).toBeGreaterThanOrEqual(denied + 3);
  });

  it('when an administrator submits an owner’s setting form, then the setting is not changed', async () => {
    const ownerHome = await openHome(PEOPLE.owner);
    await clickAction(h, { view: ownerHome.id }, ACTIONS.settingsEdit, PEOPLE.owner, {
      match: 'help_desk_can_customize_bypass_codes',
    });
    const ownerForm = await topView(PEOPLE.owner, VIEWS.settingEdit);
    const r = await submitForged(h, ownerForm.id, ADMIN, {
      values: {
        [BLOCKS.settingValue]: {
          setting_value_input: {
            type: 'static_select',
            selected_option: { text: { type: 'plain_text', text: 'on' }, value: 'on' },
          },
        },
      },
    });
    expect(JSON.stringify(r.body)).toContain('Administrator responders cannot change settings.');
    expect((await loadSettings(h.runtime.db.em.fork(), TEAM)).help_desk_can_customize_bypass_codes).toBe(false);
    expect((await denials(ADMIN)).at(-1)!.params).toMatchObject({ attempted: 'settings.manage' });
  });
});

describe('users of another team', () => {
  it('when someone from another team presses a roles button or submits a roles form, then it is refused', async () => {
    const { form } = await openAddForm(PEOPLE.owner);
    const ownerHome = h.slack.view(form.rootViewId)!;
    const before = await responders();
    // A guest with their own id, and one whose id collides with an owner's here: the team decides.
    for (const userId of [FOREIGN, PEOPLE.owner]) {
      const pushes = pushedViews().length;
      await clickAction(h, { view: ownerHome.id }, ACTIONS.rolesAdd, userId, { userTeamId: OTHER_TEAM });
      await h.slack.waitFor(() => pushedViews().length > pushes);
      expect(pushedViews().at(-1)).toContain(FOREIGN_TEXT);
      expect(pushedViews().at(-1)).not.toContain(VIEWS.roleEdit);

      const r = await submitForged(h, form.id, userId, {
        userTeamId: OTHER_TEAM,
        values: {
          [BLOCKS.roleUser]: { role_user_input: { type: 'users_select', selected_user: NEWCOMER } },
          [BLOCKS.roleRole]: {
            role_role_input: {
              type: 'static_select',
              selected_option: { text: { type: 'plain_text', text: 'Owner' }, value: 'owner' },
            },
          },
        },
      });
      expect(JSON.stringify(r.body)).toContain(FOREIGN_TEXT);
      const rows = await denials(userId);
      expect(rows.at(-1)!.params).toMatchObject({ why: `user from another team (${OTHER_TEAM})` });
    }
    expect(await responders()).toEqual(before);
  });

  it('when someone from another team presses Unlock or Verify on a user card, then it is refused and Duo is untouched', async () => {
    const card = await bobsCard();
    const where = { message: { channel: card.channel, ts: card.ts } };
    const duoBefore = h.duo.requests().length;
    for (const action of [ACTIONS.cardUnlock, ACTIONS.cardVerify]) {
      const answered = replies().length;
      await clickAction(h, where, action, FOREIGN, { userTeamId: OTHER_TEAM });
      const reply = await h.slack.waitFor(() => replies().length > answered && replies().at(-1));
      expect(reply).toContain(FOREIGN_TEXT);
    }
    expect(h.duo.requests().slice(duoBefore)).toEqual([]);
  });
});

describe('commands from non-responders', () => {
  it('when a non-responder floods commands, then they only get a reply; each is counted and the minute has one audit row', async () => {
    const calls = botCalls().length;
    const duo = h.duo.requests().length;
    const changed = (await changes()).length;
    const used = (await auditRows(h, `action = 'command.used'`)).length;
    const denied = await refusals(PEOPLE.stranger);
    const rowsBefore = (await denials(PEOPLE.stranger)).length;
    const texts = ['roles', 'lookup alice', 'lookup', 'help'];
    for (const text of texts) {
      const r = await h.driver.command(PEOPLE.stranger, text);
      expect(r.body).toMatchObject({ response_type: 'ephemeral' });
      expect(JSON.stringify(r.body)).toContain('You are not a duo-desk responder');
    }
    // Give any stray asynchronous work a moment to show up.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(botCalls().slice(calls)).toEqual([]);
    expect(h.duo.requests().slice(duo)).toEqual([]);
    expect((await changes()).length).toBe(changed);
    expect((await auditRows(h, `action = 'command.used'`)).length).toBe(used);
    expect(await refusals(PEOPLE.stranger)).toBe(denied + texts.length);
    // Earlier tests refused this stranger in the same minute already, or this is the minute's first row.
    expect((await denials(PEOPLE.stranger)).length - rowsBefore).toBeLessThanOrEqual(1);
  });
});

describe('the log', () => {
  it('when all of the above ran, then no unknown error was logged', () => {
    const errors = h.logger.lines.filter((l) => JSON.parse(l).level === 'error');
    expect(errors).toEqual([]);
  });
});
