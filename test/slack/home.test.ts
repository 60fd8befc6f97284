import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { auditRows } from '../support/audit.js';
import { addVerification, eventually, waitForView } from '../support/bypass-kit.js';
import { CHANNELS, type Harness, PEOPLE, startHarness } from '../support/harness.js';

/**
 * The App Home tab in the test bed: opening it (app_home_opened over the signed Events API) publishes a page
 * built for that person's role; an approval request shows on the approvers' pages with the card's buttons,
 * and the page follows when the request changes.
 */
let h: Harness;
const homeText = (userId: string) => JSON.stringify(h.slack.homeView(userId)?.definition ?? {});
/** The "Your requests waiting" part of a page. */
const waitingPart = (userId: string) => {
  const t = homeText(userId);
  return t.slice(t.indexOf('Your requests waiting'), t.indexOf('Your last actions'));
};
/** views.publish calls for `userId` so far. */
const publishes = (userId: string) =>
  h.slack.calls.filter((c) => c.method === 'views.publish' && (c.args as { user_id?: string }).user_id === userId)
    .length;
/** Opens the Home tab and waits for the page published in answer. */
const open = async (userId: string) => {
  const before = publishes(userId);
  const r = await h.driver.openHome(userId);
  expect(r.status).toBe(200);
  await h.slack.waitFor(() => publishes(userId) > before || undefined, { description: `home of ${userId}` });
  return h.slack.homeView(userId)!;
};

describe('App Home', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('when the manifest is read, then the Home tab and its event are enabled', () => {
    const m = parse(readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8'));
    expect(m.features.app_home.home_tab_enabled).toBe(true);
    expect(m.settings.event_subscriptions.bot_events).toContain('app_home_opened');
    expect(m.settings.event_subscriptions.request_url).toMatch(/\/slack\/events$/);
  });

  it('when each role opens the Home tab, then it shows their role, approver status and step-up state; owners also the settings', async () => {
    const cases = [
      { who: PEOPLE.owner, role: 'Owner', approver: true, settings: true },
      { who: PEOPLE.helpDesk, role: 'Help Desk', approver: false, settings: false },
      { who: PEOPLE.userManager, role: 'User Manager', approver: true, settings: false },
      { who: PEOPLE.readOnly, role: 'Read-only', approver: false, settings: false },
    ];
    for (const c of cases) {
      const view = await open(c.who);
      expect(view.type).toBe('home');
      const text = homeText(c.who);
      expect(text).toContain(`*Your role:* ${c.role}`);
      expect(text.includes('· approver')).toBe(c.approver);
      expect(text).toContain('Step-up:');
      expect(text).toContain('Approvals waiting for you');
      expect(text).toContain('Your last actions');
      expect(text.includes('Settings (owners)')).toBe(c.settings);
      if (c.settings) expect(text).toContain('/duo roles');
    }
  });

  it('when someone who is not a responder opens the Home tab, then it says so and shows nothing else', async () => {
    await open(PEOPLE.stranger);
    const text = homeText(PEOPLE.stranger);
    expect(text).toContain('not a duo-desk responder');
    expect(text).not.toContain('Approvals waiting');
  });

  it("when an owner makes someone a responder, then that person's Home tab is published again showing the role", async () => {
    const newcomer = 'U0NEWCOMER';
    h.slack.store.addUser({ id: newcomer, name: 'nick', realName: 'Nick Newcomer' });
    await open(newcomer);
    expect(homeText(newcomer)).toContain('not a duo-desk responder');
    await h.grant(newcomer, 'help_desk');
    await h.slack.waitFor(() => homeText(newcomer).includes('*Your role:* Help Desk') || undefined, {
      description: "the newcomer's home after the grant",
    });
    // Their own actions show the next time they open the tab: a lookup is among their last actions.
    await h.driver.command(newcomer, 'lookup bob');
    await eventually(
      async () => (await auditRows(h, "action = 'user.lookup' and actor_user_id = ?", [newcomer])).length > 0,
      'the lookup audited',
    );
    await open(newcomer);
    expect(homeText(newcomer)).toContain('looked up');
  });

  it('when a bypass request waits, then the approvers see it with Approve and Deny and the requester sees it waiting; decided, it leaves both pages', async () => {
    await open(PEOPLE.helpDesk);
    await open(PEOPLE.userManager);
    const cardsBefore = h.slack.messages(CHANNELS.approvals).length;
    await addVerification(h, PEOPLE.helpDesk, 'bob');
    const before = h.slack.views(PEOPLE.helpDesk).length;
    await h.driver.command(PEOPLE.helpDesk, 'bypass bob');
    const form = await waitForView(h, PEOPLE.helpDesk, 'bypass_modal', before, 'Reason');
    await h.driver.submitView(form, PEOPLE.helpDesk, { Reason: 'Caller lost their phone, verified by push' });
    await h.slack.waitFor(() => h.slack.messages(CHANNELS.approvals).length > cardsBefore || undefined, {
      description: 'approval card',
    });
    await h.slack.waitFor(() => homeText(PEOPLE.userManager).includes('approval_approve') || undefined, {
      description: "the approver's home refreshed",
    });
    const approver = homeText(PEOPLE.userManager);
    expect(approver).toContain('approval_deny');
    expect(approver).toContain('`bob`');
    await h.slack.waitFor(() => waitingPart(PEOPLE.helpDesk).includes('`bob`') || undefined, {
      description: "the requester's home refreshed",
    });
    expect(homeText(PEOPLE.helpDesk)).not.toContain('approval_approve');
    expect(homeText(PEOPLE.readOnly)).not.toContain('approval_approve');

    // The Home tab's Deny is the card's: it opens the same form, and the decision clears both pages.
    const viewsBefore = h.slack.views(PEOPLE.userManager).length;
    await h.driver.clickButton({ view: h.slack.homeView(PEOPLE.userManager)! }, 'Deny', PEOPLE.userManager);
    const modal = await waitForView(h, PEOPLE.userManager, 'deny_modal', viewsBefore);
    await h.driver.submitView(modal, PEOPLE.userManager, { Why: 'Caller could not confirm their employee number' });
    await h.slack.waitFor(() => !homeText(PEOPLE.userManager).includes('approval_approve') || undefined, {
      description: "the approver's home without the request",
    });
    await h.slack.waitFor(() => !waitingPart(PEOPLE.helpDesk).includes('`bob`') || undefined, {
      description: "the requester's home without the request",
    });
    expect(homeText(PEOPLE.userManager)).toContain('Nothing to approve right now.');
  });
});
