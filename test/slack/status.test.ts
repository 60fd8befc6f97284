import { randomUUID } from 'node:crypto';
import type { StoredView } from '@duo-desk/slack-testbed';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Verification } from '../../src/db/entities.js';
import { changeSetting } from '../../src/usecases/settings.js';
import { VIEWS } from '../../views/ids.js';
import { auditRows } from '../support/audit.js';
import { type Harness, PEOPLE, startHarness, TEAM } from '../support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});
afterEach(() => {
  h.duo.clearFaults();
});

const REASON = 'Caller locked out after a phone swap; verified by Duo Push';
const duoId = (username: string) => h.duo.getUser(username)!.user_id;
const statusOf = (username: string) => h.duo.getUser(username)!.status;
const viewText = (v: StoredView | undefined) => JSON.stringify(v?.definition ?? {});

async function verified(responder: string, username: string, minutesAgo = 1): Promise<void> {
  const em = h.runtime.db.em.fork();
  const at = new Date(Date.now() - minutesAgo * 60_000);
  em.create(Verification, {
    id: randomUUID(),
    teamId: TEAM,
    responderUserId: responder,
    duoUserId: duoId(username),
    username,
    phoneId: 'DPTEST',
    status: 'approved',
    sentAt: at,
    answeredAt: at,
    version: 1,
  });
  await em.flush();
}

async function setting(name: string, value: string): Promise<void> {
  await changeSetting(h.runtime.deps, h.runtime.db.em.fork(), { system: 'cli' }, TEAM, name, value, 'test');
}

/** The modal on top once it no longer shows a working state (a form, an error or a result). */
async function settledView(userId: string, since: number, contains = ''): Promise<StoredView> {
  return h.slack.waitFor(
    () => {
      const v = h.slack.lastView(userId);
      if (!v || v.updatedAt < since || viewText(v).includes(':hourglass_flowing_sand:')) return undefined;
      return viewText(v).includes(contains) ? v : undefined;
    },
    { description: `a settled modal for ${userId}${contains ? ` containing "${contains}"` : ''}` },
  );
}

async function openForm(userId: string, text: string): Promise<StoredView> {
  const previous = h.slack.lastView(userId)?.id;
  const r = await h.driver.command(userId, text);
  expect(r.status).toBe(200);
  // Each command opens a new modal: wait for that one (not the last form, settled in the same millisecond).
  return h.slack.waitFor(
    () => {
      const v = h.slack.lastView(userId);
      return v && v.id !== previous && !viewText(v).includes(':hourglass_flowing_sand:') ? v : undefined;
    },
    { description: `the modal opened by ${text}` },
  );
}

async function submit(view: StoredView, userId: string, values: Record<string, string>, expectText: string) {
  const since = Date.now();
  const r = await h.driver.submitView(view, userId, values);
  const errors = (r.body as { response_action?: string; errors?: Record<string, string> } | undefined)?.errors;
  if (errors) return { errors, view: undefined };
  return { errors: undefined, view: await settledView(userId, since, expectText) };
}

const statusRows = (username: string) =>
  auditRows(h, `action = 'user.status_changed' and target_username = ?`, [username]);

describe('unlock', () => {
  it('when a help-desk agent with a recent verification unlocks bob, then Duo has him active, the change is audited and the card is refreshed', async () => {
    await verified(PEOPLE.helpDesk, 'bob');
    const form = await openForm(PEOPLE.helpDesk, 'unlock bob');
    expect(form.callbackId).toBe(VIEWS.unlock);
    expect(viewText(form)).toContain('Failed Attempts');
    expect(viewText(form)).toContain('Caller verified');
    expect(JSON.parse(form.privateMetadata!)).toEqual({ duoUserId: duoId('bob'), channelId: 'C0HELPDESK' });
    const cardsBefore = h.slack.callsTo('chat.postEphemeral').length;
    const done = await submit(form, PEOPLE.helpDesk, { reason: REASON, ticket: 'INC-1001' }, 'is now');
    expect(viewText(done.view)).toContain('*Active*');
    expect(statusOf('bob')).toBe('active');
    const rows = await statusRows('bob');
    expect(rows.map((r) => [r.phase, r.outcome])).toEqual([
      ['intent', 'pending'],
      ['outcome', 'success'],
    ]);
    expect(rows[1]).toMatchObject({ reason: REASON, ticket: 'INC-1001', actor_user_id: PEOPLE.helpDesk });
    expect(rows[1]!.params).toMatchObject({ from: 'locked out', to: 'active', change: 'unlock' });
    const card = await h.slack.waitFor(() => h.slack.callsTo('chat.postEphemeral').slice(cardsBefore).at(0));
    expect(JSON.stringify(card.args)).toContain('(bob)');
    expect(JSON.stringify(card.args)).toContain('Active');
    expect(JSON.stringify(card.args)).not.toContain('"Unlock"');
  });

  it('when there is no recent verification, then the modal says so and the submit is refused; with the setting at 0 it goes through', async () => {
    await verified(PEOPLE.helpDesk, 'erin', 30); // too old for the 10-minute window
    const form = await openForm(PEOPLE.helpDesk, 'unlock erin');
    expect(viewText(form)).toContain('Not verified');
    expect(viewText(form)).toContain('Send verification push');
    const refused = await submit(form, PEOPLE.helpDesk, { reason: REASON }, '');
    expect(refused.errors?.reason).toContain('Verify the caller first');
    expect(statusOf('erin')).toBe('locked out');
    expect(await statusRows('erin')).toEqual([]);

    await setting('verification_valid_minutes_unlock', '0');
    try {
      const again = await openForm(PEOPLE.helpDesk, 'unlock erin');
      expect(viewText(again)).toContain('No caller verification is required');
      await submit(again, PEOPLE.helpDesk, { reason: REASON }, 'is now');
      expect(statusOf('erin')).toBe('active');
    } finally {
      await setting('verification_valid_minutes_unlock', '10');
    }
  });

  it('when the responder presses Send verification push in the modal, then the push goes out on top of the form', async () => {
    const form = await openForm(PEOPLE.helpDesk, 'unlock trent');
    const since = Date.now();
    await h.driver.clickButton({ view: form }, 'Send verification push', PEOPLE.helpDesk);
    const sent = await settledView(PEOPLE.helpDesk, since, 'DM');
    expect(sent.previousViewId).toBe(form.id);
    expect(h.duo.pendingPushes().some((p) => p.username === 'trent')).toBe(true);
  });

  it('when the user has no push-capable device, then the pushed view explains the alternatives', async () => {
    h.duo.addUser({
      username: 'pia',
      status: 'locked out',
      lockout_reason: 'Failed Attempts',
      is_enrolled: true,
      webauthncredentials: structuredClone(h.duo.getUser('mallory')!.webauthncredentials),
    });
    const form = await openForm(PEOPLE.helpDesk, 'unlock pia');
    const since = Date.now();
    await h.driver.clickButton({ view: form }, 'Send verification push', PEOPLE.helpDesk);
    const explained = await settledView(PEOPLE.helpDesk, since, 'security key');
    expect(explained.previousViewId).toBe(form.id);
  });

  it('when a read-only responder asks to unlock, then the card has no Unlock button and the command answers with the roles that may', async () => {
    const before = h.slack.calls.length;
    await h.driver.command(PEOPLE.readOnly, 'lookup trent');
    const card = await h.slack.waitFor(() => h.slack.calls.slice(before).find((c) => c.method === 'response_url'));
    expect(JSON.stringify(card.args)).toContain('(trent)');
    expect(JSON.stringify(card.args)).not.toContain('"Unlock"');
    const r = await h.driver.command(PEOPLE.readOnly, 'unlock trent');
    const text = JSON.stringify(r.body);
    expect(text).toContain('cannot unlock users');
    expect(text).toContain('Help Desk');
    expect(statusOf('trent')).toBe('locked out');
  });

  it('when the role is revoked between opening and submitting, then the submit is denied and Duo is unchanged', async () => {
    await verified(PEOPLE.userManager, 'trent');
    const form = await openForm(PEOPLE.userManager, 'unlock trent');
    expect(form.callbackId).toBe(VIEWS.unlock);
    await h.revoke(PEOPLE.userManager);
    try {
      const r = await h.driver.submitView(form, PEOPLE.userManager, { reason: REASON });
      expect(JSON.stringify(r.body)).toContain('not a duo-desk responder');
      expect(statusOf('trent')).toBe('locked out');
      expect(await statusRows('trent')).toEqual([]);
      const denied = await auditRows(h, `action = 'permission.denied' and actor_user_id = ?`, [PEOPLE.userManager]);
      expect(denied.length).toBeGreaterThan(0);
    } finally {
      await h.grant(PEOPLE.userManager, 'user_manager', true);
    }
  });

  it('when private_metadata is forged to another Duo user, then nothing beyond the forger’s own rights happens and it is audited', async () => {
    await verified(PEOPLE.helpDesk, 'walter');
    const form = await openForm(PEOPLE.helpDesk, 'unlock walter');
    const carolId = duoId('carol');
    h.slack.store.views.get(form.id)!.privateMetadata = JSON.stringify({ duoUserId: carolId, channelId: 'C0HELPDESK' });
    const r = await submit(form, PEOPLE.helpDesk, { reason: REASON }, '');
    expect(r.errors?.reason).toContain('Verify the caller first');
    expect(statusOf('carol')).toBe('disabled');
    expect(statusOf('walter')).toBe('locked out');
    // The verification guard refused it for carol, the Duo user the forged metadata names.
    const denied = await auditRows(h, `action = 'guard.refused' and target_duo_user_id = ?`, [carolId]);
    expect(denied.at(-1)).toMatchObject({
      actor_user_id: PEOPLE.helpDesk,
      outcome: 'denied',
      params: { guard: 'verification', attempted: 'unlock' },
    });

    // Garbage metadata is refused outright.
    h.slack.store.views.get(form.id)!.privateMetadata = '{"duoUserId":"DU1","role":"owner"}';
    const garbage = await h.driver.submitView(form, PEOPLE.helpDesk, { reason: REASON });
    expect(JSON.stringify(garbage.body)).toContain('no longer valid');
  });

  it('when step-up for unlock is on, then the modal asks for a code and a responder without an authenticator is refused before Duo', async () => {
    await setting('step_up_for_unlock', 'on');
    try {
      await verified(PEOPLE.helpDesk, 'pia');
      const form = await openForm(PEOPLE.helpDesk, 'unlock pia');
      expect(viewText(form)).toContain('Code from your authenticator app');
      const r = await submit(form, PEOPLE.helpDesk, { reason: REASON, totp: '123456' }, '');
      expect(r.errors?.totp).toContain('/duo mfa');
      expect(statusOf('pia')).toBe('locked out');
    } finally {
      await setting('step_up_for_unlock', 'off');
    }
  });
});

describe("Duo's status rules for Help Desk (the seed)", () => {
  const cardFor = async (userId: string, username: string) => {
    const before = h.slack.calls.length;
    await h.driver.command(userId, `lookup ${username}`);
    const card = await h.slack.waitFor(() => h.slack.calls.slice(before).find((c) => c.method === 'response_url'));
    return JSON.stringify(card.args);
  };

  it('when a help-desk agent unlocks mallory (locked out from Trust Monitor), then it is refused with who may; the card offers no Unlock; an administrator-level responder may', async () => {
    await verified(PEOPLE.helpDesk, 'mallory');
    expect(await cardFor(PEOPLE.helpDesk, 'mallory')).not.toContain('"Unlock"');
    const r = await h.driver.command(PEOPLE.helpDesk, 'unlock mallory');
    const refused = await h.slack.waitFor(() => {
      const text = JSON.stringify(r.body ?? '') + viewText(h.slack.lastView(PEOPLE.helpDesk));
      return text.includes('Trust Monitor') ? text : undefined;
    });
    expect(refused).toContain('Owner, Administrator');
    expect(statusOf('mallory')).toBe('locked out');
    const denied = await auditRows(h, `action = 'permission.denied' and target_username = 'mallory'`);
    expect(denied.at(-1)).toMatchObject({ actor_user_id: PEOPLE.helpDesk, params: { why: 'trust_monitor_lockout' } });

    expect(await cardFor(PEOPLE.owner, 'mallory')).toContain('"Unlock"');
    await verified(PEOPLE.owner, 'mallory');
    const form = await openForm(PEOPLE.owner, 'unlock mallory');
    await submit(form, PEOPLE.owner, { reason: REASON }, 'is now');
    expect(statusOf('mallory')).toBe('active');
  });

  it('when a help-desk agent forges Active onto dave (Bypass), then it is refused: Help Desk sets only Locked Out or Disabled users to Active', async () => {
    expect(statusOf('dave')).toBe('bypass');
    const form = await openForm(PEOPLE.helpDesk, 'status dave');
    expect(viewText(form)).toContain('Locked Out or Disabled');
    // A form opened for another user, re-pointed at dave through its metadata, is refused on Duo's state.
    const carolForm = await openForm(PEOPLE.helpDesk, 'status carol');
    h.slack.store.views.get(carolForm.id)!.privateMetadata = JSON.stringify({
      duoUserId: duoId('dave'),
      channelId: 'C0HELPDESK',
    });
    await verified(PEOPLE.helpDesk, 'dave');
    const r = await submit(carolForm, PEOPLE.helpDesk, { status: 'active', reason: REASON }, 'Locked Out or Disabled');
    expect(viewText(r.view)).toContain('User Manager');
    expect(statusOf('dave')).toBe('bypass');
    const denied = await auditRows(h, `action = 'permission.denied' and target_username = 'dave'`);
    expect(denied.at(-1)).toMatchObject({ actor_user_id: PEOPLE.helpDesk, params: { why: 'help_desk_unlock_only' } });
  });

  it('when anyone re-enables a directory-synced Disabled user, then it is refused (the directory owns that status) and the card offers no Unlock', async () => {
    h.duo.addUser({
      username: 'sven',
      status: 'disabled',
      external_id: '0d4c1e2f-1111-4a2b-9c3d-5e6f7a8b9c0d',
      last_directory_sync: Math.floor(Date.now() / 1000) - 3600,
      is_enrolled: true,
    });
    await verified(PEOPLE.helpDesk, 'sven');
    expect(await cardFor(PEOPLE.helpDesk, 'sven')).not.toContain('"Unlock"');
    const r = await h.driver.command(PEOPLE.helpDesk, 'unlock sven');
    const refused = await h.slack.waitFor(() => {
      const text = JSON.stringify(r.body ?? '') + viewText(h.slack.lastView(PEOPLE.helpDesk));
      return text.includes('source directory') ? text : undefined;
    });
    expect(refused).toContain('directory sync');
    expect(statusOf('sven')).toBe('disabled');
    expect(await cardFor(PEOPLE.owner, 'sven')).not.toContain('"Unlock"');
  });
});

describe('change status', () => {
  const optionTexts = (v: StoredView) => {
    const block = (v.definition.blocks as Array<{ block_id?: string; element?: { options?: unknown[] } }>).find(
      (b) => b.block_id === 'status',
    );
    return (block?.element?.options ?? []).map((o) => (o as { value: string }).value);
  };

  it('when a help-desk agent changes a disabled user, then only Active is offered', async () => {
    const form = await openForm(PEOPLE.helpDesk, 'status carol');
    expect(form.callbackId).toBe(VIEWS.status);
    expect(optionTexts(form)).toEqual(['active']);
  });

  it('when a help-desk agent forges bypass into the status form, then it is denied, audited and Duo is unchanged', async () => {
    await verified(PEOPLE.helpDesk, 'carol');
    const form = await openForm(PEOPLE.helpDesk, 'status carol');
    h.slack.store.views.get(form.id)!.stateValues.status = {
      status_input: {
        type: 'static_select',
        selected_option: { text: { type: 'plain_text', text: 'x' }, value: 'bypass' },
      },
    };
    const r = await h.driver.submitView(form, PEOPLE.helpDesk, { reason: REASON });
    expect(JSON.stringify(r.body)).toContain('cannot apply bypass status');
    expect(statusOf('carol')).toBe('disabled');
    const denied = await auditRows(h, `action = 'permission.denied' and actor_user_id = ?`, [PEOPLE.helpDesk]);
    expect(denied.at(-1)!.params).toMatchObject({ attempted: 'user.set_status' });
  });

  it('when the owner changes niaj (directory-synced), then disabled is not offered and a forged disabled is refused', async () => {
    const form = await openForm(PEOPLE.owner, 'status niaj');
    expect(optionTexts(form)).toEqual(['bypass']);
    expect(viewText(form)).toContain('Bypass turns off two-factor');
    h.slack.store.views.get(form.id)!.stateValues.status = {
      status_input: {
        type: 'static_select',
        selected_option: { text: { type: 'plain_text', text: 'x' }, value: 'disabled' },
      },
    };
    const r = await submit(form, PEOPLE.owner, { reason: REASON }, 'directory sync');
    expect(viewText(r.view)).toContain('source directory');
    expect(statusOf('niaj')).toBe('active');
    const denied = await auditRows(h, `action = 'permission.denied' and target_username = 'niaj'`);
    expect(denied.at(-1)).toMatchObject({ actor_user_id: PEOPLE.owner, outcome: 'denied' });
  });

  it('when a user manager sets bypass, then it is refused by default and, with the setting, offered behind its guards', async () => {
    const form = await openForm(PEOPLE.userManager, 'status heidi');
    expect(optionTexts(form)).toEqual(['disabled']);
    await setting('user_managers_can_apply_bypass_status', 'on');
    try {
      const again = await openForm(PEOPLE.userManager, 'status heidi');
      expect(optionTexts(again)).toEqual(['bypass', 'disabled']);
      expect(viewText(again)).toContain('Bypass for');
      // Unverified caller: the verification guard refuses it before Duo is asked anything.
      const r = await submit(again, PEOPLE.userManager, { status: 'bypass', reason: REASON }, '');
      expect(r.errors?.status).toContain('Verify the caller first');
      expect(statusOf('heidi')).toBe('active');
      expect(await statusRows('heidi')).toEqual([]);
    } finally {
      await setting('user_managers_can_apply_bypass_status', 'off');
    }
  });

  it('when the user is pending deletion, then the responder is told it cannot be changed', async () => {
    const view = await openForm(PEOPLE.owner, 'status olivia');
    expect(viewText(view)).toContain('pending deletion');
    expect(statusOf('olivia')).toBe('pending deletion');
  });
});

describe('enrollment email', () => {
  it('when frank is not enrolled and has an email, then Duo sends it and it is audited', async () => {
    const form = await openForm(PEOPLE.helpDesk, 'enroll frank');
    expect(form.callbackId).toBe(VIEWS.enroll);
    expect(viewText(form)).toContain('frank.fischer@example.com');
    const done = await submit(form, PEOPLE.helpDesk, { ticket: 'INC-2002' }, 'enrollment email');
    expect(viewText(done.view)).toContain('frank.fischer@example.com');
    expect(h.duo.enrollmentOutbox()).toEqual([
      expect.objectContaining({ username: 'frank', email: 'frank.fischer@example.com' }),
    ]);
    const rows = await auditRows(h, `action = 'enrollment.sent' and target_username = 'frank'`);
    expect(rows.map((r) => [r.phase, r.outcome])).toEqual([
      ['intent', 'pending'],
      ['outcome', 'success'],
    ]);
  });

  it('when grace has no email or alice is already enrolled, then the responder gets a clear message', async () => {
    expect(viewText(await openForm(PEOPLE.helpDesk, 'enroll grace'))).toContain('has no email address in Duo');
    expect(viewText(await openForm(PEOPLE.helpDesk, 'enroll alice'))).toContain('already enrolled');
    expect(h.duo.enrollmentOutbox().map((e) => e.username)).toEqual(['frank']);
  });
});

describe('when Duo fails', () => {
  for (const kind of ['server_error', 'html'] as const) {
    it(`when Duo answers the unlock with ${kind}, then the modal shows a clear error, Duo is unchanged and the outcome is not success`, async () => {
      const user = kind === 'html' ? 'walter' : 'trent';
      await verified(PEOPLE.owner, user);
      const form = await openForm(PEOPLE.owner, `unlock ${user}`);
      h.duo.injectFault({ kind, method: 'POST', path: `/admin/v1/users/${duoId(user)}`, times: 1 });
      const failed = await submit(form, PEOPLE.owner, { reason: REASON }, ':warning:');
      expect(viewText(failed.view)).toMatch(/Duo (is unreachable|sent an answer)/);
      expect(failed.view!.definition.callback_id).not.toBe(VIEWS.working);
      expect(viewText(failed.view)).not.toContain('hourglass');
      expect(statusOf(user)).toBe('locked out');
      const rows = (await statusRows(user)).filter((r) => r.actor_user_id === PEOPLE.owner);
      expect(rows.map((r) => r.phase)).toEqual(['intent', 'outcome']);
      expect(['failed', 'unknown']).toContain(rows[1]!.outcome);
      expect(String(rows[1]!.duo_ref)).toMatch(/^DUO_/);
    });
  }

  it('when Duo keeps answering 429 on the unlock, then the responder hears Duo is rate limiting and nothing changed', async () => {
    h.duo.addUser({ username: 'rhoda', status: 'locked out', lockout_reason: 'Failed Attempts', is_enrolled: true });
    await verified(PEOPLE.owner, 'rhoda');
    const form = await openForm(PEOPLE.owner, 'unlock rhoda');
    h.duo.injectFault({ kind: 'rate_limit', method: 'POST', path: `/admin/v1/users/${duoId('rhoda')}`, times: 5 });
    const failed = await submit(form, PEOPLE.owner, { reason: REASON }, ':warning:');
    h.duo.clearFaults();
    expect(viewText(failed.view)).toContain('rate limiting');
    expect(statusOf('rhoda')).toBe('locked out');
    const rows = (await statusRows('rhoda')).filter((r) => r.actor_user_id === PEOPLE.owner);
    expect(rows.map((r) => [r.phase, r.outcome])).toEqual([
      ['intent', 'pending'],
      ['outcome', 'failed'],
    ]);
    expect(rows[1]!.duo_ref).toBe('DUO_RATE_LIMITED');
  });

  it('when Duo does not answer the unlock in time, then the responder is told and the outcome is recorded as unknown', async () => {
    h.duo.addUser({ username: 'tomas', status: 'locked out', lockout_reason: 'Failed Attempts', is_enrolled: true });
    await verified(PEOPLE.owner, 'tomas');
    const form = await openForm(PEOPLE.owner, 'unlock tomas');
    h.duo.injectFault({
      kind: 'latency',
      latencyMs: 5000,
      method: 'POST',
      path: `/admin/v1/users/${duoId('tomas')}`,
      times: 1,
    });
    const failed = await submit(form, PEOPLE.owner, { reason: REASON }, ':warning:');
    expect(viewText(failed.view)).toContain("didn't answer in time");
    expect(viewText(failed.view)).not.toContain('hourglass');
    const rows = (await statusRows('tomas')).filter((r) => r.actor_user_id === PEOPLE.owner);
    expect(rows.map((r) => [r.phase, r.outcome])).toEqual([
      ['intent', 'pending'],
      ['outcome', 'unknown'],
    ]);
    expect(rows[1]!.duo_ref).toBe('DUO_TIMEOUT');
  });

  it('when Duo fails while sending the enrollment email, then the modal says so and no email is recorded', async () => {
    h.duo.addUser({ username: 'yusuf', email: 'yusuf@example.com', is_enrolled: false });
    const form = await openForm(PEOPLE.owner, 'enroll yusuf');
    h.duo.injectFault({ kind: 'server_error', method: 'POST', path: '/admin/v1/users/enroll', times: 1 });
    const failed = await submit(form, PEOPLE.owner, {}, 'Duo');
    expect(viewText(failed.view)).toContain('Duo');
    expect(h.duo.enrollmentOutbox().map((e) => e.username)).not.toContain('yusuf');
    const rows = await auditRows(h, `action = 'enrollment.sent' and target_username = 'yusuf'`);
    expect(rows.map((r) => r.outcome)).toEqual(['pending', 'unknown']);
  });
});

describe('from the user card', () => {
  it('when a help-desk agent presses Unlock on a disabled user’s card, then the re-enable modal opens and the submit re-enables in Duo', async () => {
    await verified(PEOPLE.helpDesk, 'carol');
    await h.driver.command(PEOPLE.helpDesk, 'lookup carol');
    const card = await h.slack.waitFor(() => {
      const m = h.slack.lastMessage({ userId: PEOPLE.helpDesk });
      return m && JSON.stringify(m.blocks ?? []).includes('(carol)') ? m : undefined;
    });
    const since = Date.now();
    await h.driver.clickButton({ message: card }, 'Unlock', PEOPLE.helpDesk);
    const form = await settledView(PEOPLE.helpDesk, since, 'Re-enable');
    expect(form.callbackId).toBe(VIEWS.unlock);
    await submit(form, PEOPLE.helpDesk, { reason: REASON }, 'is now');
    expect(statusOf('carol')).toBe('active');
    expect((await statusRows('carol')).at(-1)!.params).toMatchObject({ from: 'disabled', change: 'reenable' });
  });
});
