import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../src/log.js';
import { createDuoSettingsJob, readDuoCeilingState, refreshDuoSettings } from '../../src/usecases/duo-settings.js';
import { loadSettings } from '../../src/usecases/settings.js';
import { auditRows } from '../support/audit.js';
import { addVerification, setSetting } from '../support/bypass-kit.js';
import { type Harness, PEOPLE, startHarness, TEAM } from '../support/harness.js';

/** Duo's own settings (GET /admin/v1/settings) as the ceiling over duo-desk's. */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});
afterEach(async () => {
  h.duo.reset();
  h.duo.clearFaults();
  await refresh();
});

const refresh = () =>
  refreshDuoSettings(h.runtime.db.em.fork(), {
    duo: h.runtime.deps.duo,
    clock: h.runtime.deps.clock,
    logger: createMemoryLogger('error'),
    audit: { deps: h.runtime.deps, teamId: TEAM },
  });

/** Everything Slack showed the responder since `since` (command reply, modal, response_url). */
function shownSince(userId: string, since: number, reply: unknown): string {
  const calls = h.slack.calls.slice(since).map((c) => JSON.stringify(c.args));
  return [JSON.stringify(reply ?? ''), JSON.stringify(h.slack.lastView(userId)?.definition ?? {}), ...calls].join(' ');
}

async function commandShows(userId: string, text: string, expected: string): Promise<string> {
  const since = h.slack.calls.length;
  const r = await h.driver.command(userId, text);
  return h.slack.waitFor(
    () => {
      const shown = shownSince(userId, since, r.body);
      return shown.includes(expected) ? shown : undefined;
    },
    { description: `"${expected}" after /duo ${text}` },
  );
}

describe("Duo's settings as the ceiling", () => {
  it('when duo-desk starts, then it has read Duo’s settings with Duo’s field names and keeps them in the database', async () => {
    expect(h.duo.requests().some((r) => r.method === 'GET' && r.path === '/admin/v1/settings')).toBe(true);
    const state = await readDuoCeilingState(h.runtime.db.em.fork());
    expect(state.ceiling).toMatchObject({ helpdeskBypass: 'allow', helpdeskCanSendEnrollEmail: true });
    const settings = await loadSettings(h.runtime.db.em.fork(), TEAM);
    expect(settings.duo).toMatchObject({ helpdeskBypass: 'allow', userManagersCanPutUsersInBypass: true });
  });

  it('when the tenant forbids help-desk bypass codes, then duo-desk refuses them even though its own setting allows them, and says it is Duo’s setting', async () => {
    expect((await loadSettings(h.runtime.db.em.fork(), TEAM)).help_desk_can_create_bypass_codes).toBe(true);
    h.duo.setSettings({ helpdesk_bypass: 'deny' });
    await refresh();
    const changed = await auditRows(h, `action = 'duo_settings.changed'`);
    expect(changed.at(-1)!.params).toMatchObject({ helpdesk_bypass: 'allow -> deny' });

    await addVerification(h, PEOPLE.helpDesk, 'bob');
    const shown = await commandShows(PEOPLE.helpDesk, 'bypass bob', 'helpdesk_bypass');
    expect(shown).toContain("Duo's own settings forbid this");
    expect(shown).toContain('deny');
    expect(h.duo.bypassCodesOf(h.duo.getUser('bob')!.user_id)).toEqual([]);
    const denied = await auditRows(h, `action = 'permission.denied' and actor_user_id = ?`, [PEOPLE.helpDesk]);
    expect(denied.at(-1)!.params).toMatchObject({
      why: 'duo_setting',
      duoSetting: 'helpdesk_bypass',
      duoValue: 'deny',
    });

    // A user manager is not Help Desk: Duo's helpdesk_bypass does not apply.
    await addVerification(h, PEOPLE.userManager, 'bob');
    await commandShows(PEOPLE.userManager, 'bypass bob', 'Reason');
  });

  it('when the tenant limits help-desk bypass codes to 30 minutes, then the one-hour default is refused for help desk', async () => {
    h.duo.setSettings({ helpdesk_bypass: 'limit', helpdesk_bypass_expiration: 30 });
    await refresh();
    await addVerification(h, PEOPLE.helpDesk, 'bob');
    const shown = await commandShows(PEOPLE.helpDesk, 'bypass bob', 'helpdesk_bypass_expiration');
    expect(shown).toContain('30 minutes');
  });

  it('when the tenant forbids enrollment email by help desk, then duo-desk refuses it although its own setting allows it', async () => {
    h.duo.setSettings({ helpdesk_can_send_enroll_email: false });
    await refresh();
    await commandShows(PEOPLE.helpDesk, 'enroll frank', 'helpdesk_can_send_enroll_email');
    expect(h.duo.enrollmentOutbox()).toEqual([]);
  });

  it('when the tenant forbids user managers bypass status, then duo-desk refuses it even with its own setting on', async () => {
    await setSetting(h, 'user_managers_can_apply_bypass_status', 'on');
    try {
      h.duo.setSettings({ user_managers_can_put_users_in_bypass: false });
      await refresh();
      const shown = await commandShows(PEOPLE.userManager, 'status heidi', '"block_id":"status"');
      const options = (h.slack.lastView(PEOPLE.userManager)!.definition.blocks as Array<Record<string, unknown>>)
        .filter((b) => b.block_id === 'status')
        .flatMap((b) => ((b.element as { options?: Array<{ value: string }> }).options ?? []).map((o) => o.value));
      expect(options).toEqual(['disabled']);
      expect(shown).not.toContain('Bypass for');
    } finally {
      await setSetting(h, 'user_managers_can_apply_bypass_status', 'off');
    }
  });

  it('when Duo cannot be read (an error, or no settings grant), then the last settings stay and the failure is kept; never read means nothing Duo could forbid is allowed', async () => {
    h.duo.setSettings({ helpdesk_bypass: 'deny' });
    await refresh();
    h.duo.injectFault({ kind: 'server_error', method: 'GET', path: '/admin/v1/settings' });
    expect(await refresh()).toBeNull();
    const state = await readDuoCeilingState(h.runtime.db.em.fork());
    expect(state.ceiling?.helpdeskBypass).toBe('deny');
    expect(state.lastError).toMatch(/^DUO_/);

    // The job asks again in five minutes after a failure, in an hour after a read.
    const job = createDuoSettingsJob(h.runtime.deps, TEAM);
    const ctx = { em: h.runtime.db.em.fork(), logger: createMemoryLogger('error') } as never;
    const now = h.runtime.deps.clock.now().getTime();
    const failed = (await job({}, ctx)) as { runAgainAt: Date };
    expect(failed.runAgainAt.getTime() - now).toBeLessThanOrEqual(5 * 60_000 + 1000);
    h.duo.clearFaults();
    const read = (await job({}, ctx)) as { runAgainAt: Date };
    expect(read.runAgainAt.getTime() - now).toBeGreaterThanOrEqual(3600_000);

    await h.runtime.db.em.fork().getConnection().execute('delete from duo_tenant_settings');
    expect((await loadSettings(h.runtime.db.em.fork(), TEAM)).duo).toBeNull();
    await commandShows(PEOPLE.helpDesk, 'enroll frank', 'settings grant');
  });

  it('when an owner opens /duo roles, then each capped setting shows Duo’s setting beside it', async () => {
    h.duo.setSettings({ helpdesk_bypass: 'deny' });
    await refresh();
    const shown = await commandShows(PEOPLE.owner, 'roles', 'help_desk_can_create_bypass_codes');
    expect(shown).toContain('Duo: `helpdesk_bypass` = `deny`');
    expect(shown).toContain('`helpdesk_can_send_enroll_email` = `true`');
    expect(shown).toContain('`user_managers_can_put_users_in_bypass` = `true`');
  });
});
