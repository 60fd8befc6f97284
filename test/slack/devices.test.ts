import type { StoredMessage, StoredView } from '@duo-desk/slack-testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ACTIONS, VIEWS } from '../../views/ids.js';
import { auditRows, until } from '../support/audit.js';
import {
  addVerification,
  approveWith,
  enrollTotp,
  messageText,
  nextStep,
  totpAt,
  viewText,
} from '../support/bypass-kit.js';
import { clickAction } from '../support/forge.js';
import { CHANNELS, type Harness, PEOPLE, startHarness } from '../support/harness.js';
import { scanForSecrets } from '../support/secret-scan.js';

/**
 * "I lost my phone", end to end through the Slack test bed and the Duo simulator: device help from the user
 * card, verified in the employee's own Slack when the phone is gone, approved by a second person; and the
 * attacks: a caller posing as the employee ("This wasn't me"), a forged button for a device that does not
 * allow it, someone else answering the employee's DM, a removal nobody approved.
 */
const clock = new ManualClock();
let h: Harness;
let ownerSecret: string;
const ALICE = 'UALICE0001';
const BOB = 'UBOB000001';
const JUDY_GUEST = 'UJUDYGUEST';
const REASON = 'Caller says their phone was lost; employee id checked';

beforeAll(async () => {
  h = await startHarness({
    clock,
    users: [
      { id: ALICE, name: 'alice.anders', realName: 'Alice Anders', email: 'alice.anders@example.com' },
      { id: BOB, name: 'bob.brown', realName: 'Bob Brown', email: 'bob.brown@example.com' },
      { id: JUDY_GUEST, name: 'judy', realName: 'Judy Jones', email: 'judy.jones@example.com', isRestricted: true },
    ],
  });
  ownerSecret = await enrollTotp(h, PEOPLE.owner);
});
afterAll(async () => {
  await h?.close();
});

const duoUser = (username: string) => h.duo.getUser(username)!;
const phoneOf = (username: string, i = 0) => duoUser(username).phones[i]!;

async function cardOf(userId: string, username: string): Promise<StoredMessage> {
  const before = h.slack.messages().length;
  await h.driver.command(userId, `lookup ${username}`);
  return h.slack.waitFor(
    () =>
      h.slack
        .messages()
        .slice(before)
        .reverse()
        .find((m) => m.ephemeralUser === userId && JSON.stringify(m.blocks ?? []).includes(`(${username})`)),
    { description: `card of ${username}` },
  );
}

const buttonsOn = (m: StoredMessage) =>
  (m.blocks ?? [])
    .filter((b) => (b as { type: string }).type === 'actions')
    .flatMap((b) => ((b as { elements?: Array<{ action_id: string; value?: string }> }).elements ?? []).map((e) => e));

/** The settled modal of this kind (not the working one) that shows `text`, updated after `since`. */
function formView(userId: string, callbackId: string, since: number, text = ''): Promise<StoredView> {
  return h.slack.waitFor(
    () => {
      const v = h.slack.lastView(userId);
      return v && v.updatedAt >= since && v.callbackId === callbackId && viewText(v).includes(text) ? v : undefined;
    },
    { description: `${callbackId} for ${userId} showing "${text}"` },
  );
}

async function openDeviceForm(userId: string, username: string, button: string, callbackId: string) {
  const card = await cardOf(userId, username);
  const since = Date.now();
  await h.driver.clickButton({ message: card }, button, userId);
  return formView(userId, callbackId, since);
}

const dmTo = (userId: string, text: string) =>
  h.slack.waitFor(
    () =>
      h.slack
        .messages(h.slack.dmChannelFor(userId))
        .reverse()
        .find((m) => messageText(m).includes(text)),
    { description: `DM to ${userId} with "${text}"` },
  );

const approvalCard = (username: string, title: string) =>
  h.slack.waitFor(
    () =>
      h.slack
        .messages(CHANNELS.approvals)
        .reverse()
        .find((m) => messageText(m).includes(title) && messageText(m).includes(username)),
    { description: `approval card ${title} for ${username}` },
  );

const bodyText = (r: { body: unknown }) => JSON.stringify(r.body ?? '');

describe('reactivating Duo Mobile after the employee confirmed in their own Slack', () => {
  it('when the employee confirms in their DM and a manager approves, then the SMS outbox has the activation for the number on file, and no link or barcode is anywhere in Slack, the database or the logs', async () => {
    const form = await openDeviceForm(PEOPLE.helpDesk, 'alice', 'Reactivate Duo Mobile', VIEWS.deviceReactivate);
    expect(viewText(form)).toContain('old Duo Mobile credentials on this device stop working');
    expect(viewText(form)).toContain('24 hours');

    // Without a verification, the submission is refused.
    const early = await h.driver.submitView(form, PEOPLE.helpDesk, { Reason: REASON });
    expect(bodyText(early)).toContain('Verify the caller first');

    const since = Date.now();
    await h.driver.clickButton({ view: form }, 'Verify another way', PEOPLE.helpDesk);
    const dm = await dmTo(ALICE, 'Did you ask for this?');
    expect(messageText(dm)).toContain('reactivate Duo Mobile');
    const asked = await formView(PEOPLE.helpDesk, VIEWS.deviceReactivate, since, 'Asked <@');

    // Someone else clicking the employee's Confirm (the agent, from a forged payload) is refused and audited.
    await clickAction(h, { message: { channel: dm.channel, ts: dm.ts } }, ACTIONS.deviceConfirm, PEOPLE.helpDesk);
    await until(
      async () =>
        (await auditRows(h, "action = 'device.confirmation_refused' and actor_user_id = ?", [PEOPLE.helpDesk])).length >
        0,
      'refusal of a second Slack account',
    );

    await h.driver.clickButton({ message: dm }, 'Confirm, it was me', ALICE);
    await dmTo(PEOPLE.helpDesk, 'confirmed in their own Slack');
    // The button is one-time: the DM no longer offers it.
    expect(messageText(h.slack.message(dm.channel, dm.ts))).not.toContain(ACTIONS.deviceConfirm);

    const submitted = await h.driver.submitView(asked, PEOPLE.helpDesk, {
      Reason: REASON,
      'Activation link valid for': '4 hours',
    });
    expect(bodyText(submitted)).not.toContain('errors');
    const card = await approvalCard('alice', 'Duo Mobile reactivation requested');
    expect(messageText(card)).toContain('by the employee, in their own Slack');
    expect(h.duo.smsOutbox()).toEqual([]);
    expect(phoneOf('alice').activated).toBe(true);

    await h.driver.clickButton({ message: card }, 'Approve', PEOPLE.helpDesk).catch(() => undefined);
    nextStep(clock);
    const approved = await approveWith(h, card.ts, PEOPLE.owner, await totpAt(h, ownerSecret));
    expect(bodyText(approved)).not.toContain('errors');
    expect(approved.status).toBe(200);
    await until(async () => h.duo.smsOutbox().some((m) => m.kind === 'activation'), 'activation SMS');
    const sms = h.duo.smsOutbox().filter((m) => m.phoneId === phoneOf('alice').phone_id);
    expect(sms.map((m) => [m.to, m.kind])).toEqual([
      ['+15555550101', 'installation'],
      ['+15555550101', 'activation'],
    ]);
    const activation = h.duo.issuedActivations().at(-1)!;
    expect(sms[1]!.body).toContain(activation.activationUrl);
    expect(phoneOf('alice').activated).toBe(false);
    const activationCall = h.duo.requests().find((r) => r.path.endsWith('/send_sms_activation'))!;
    expect(activationCall.params).toMatchObject({ valid_secs: '14400', install: '1' });

    // No activation link or barcode in anything Slack received, any table, the audit trail or the logs.
    expect(await scanForSecrets(h, [activation.activationUrl, activation.activationBarcode])).toEqual([]);

    // Every step is in the audit trail, the change with its intent and outcome.
    const trail = (await auditRows(h, "target_username = 'alice' and action like 'device%'")).map((r) => [
      r.action,
      r.outcome,
    ]);
    expect(trail).toEqual(
      expect.arrayContaining([
        ['device.confirmation_sent', 'success'],
        ['device.confirmed', 'success'],
        ['device_reactivation.requested', 'success'],
        ['device_reactivation.approved', 'success'],
        ['device.reactivation_sent', 'success'],
      ]),
    );
    const [sent] = await auditRows(h, "action = 'device.reactivation_sent'");
    expect(sent!.params).toMatchObject({ channel: 'sms', validSecs: 14400, oldCredentialsInvalidated: true });
  });
});

describe('"This wasn\'t me"', () => {
  it('when the employee says it was not them, then the request stops, the agent is told, the audit channel gets an alert, and device help for that user is refused', async () => {
    const form = await openDeviceForm(PEOPLE.helpDesk, 'bob', 'Reactivate Duo Mobile', VIEWS.deviceReactivate);
    await h.driver.clickButton({ view: form }, 'Verify another way', PEOPLE.helpDesk);
    const dm = await dmTo(BOB, 'Did you ask for this?');
    const since = Date.now();
    await h.driver.clickButton({ message: dm }, "This wasn't me", BOB);

    const told = await dmTo(PEOPLE.helpDesk, "said *this wasn't them*");
    expect(messageText(told)).toContain('bob');
    await h.slack.waitFor(
      () => viewText(h.slack.views(PEOPLE.helpDesk).find((v) => v.id === form.id)).includes('request is stopped'),
      { description: 'the open form stopped' },
    );
    expect(since).toBeGreaterThan(0);
    const alert = await h.slack.waitFor(
      () =>
        h.slack
          .messages(CHANNELS.audit)
          .find((m) => (m.text ?? '').includes('ALERT') && messageText(m).includes('bob')),
      // That it is posted is the promise here; how soon ahead of a backlog is test/audit/mirror.test.ts's. The relay
      // runs on this file's manual clock and a loaded machine, so allow it the test's own time.
      { description: "the This wasn't me alert in the audit channel", timeoutMs: 25_000 },
    );
    expect(alert).toBeDefined();
    const [notMe] = await auditRows(h, "action = 'device.not_me'");
    expect(notMe!.params).toMatchObject({ alert: true, responder: PEOPLE.helpDesk });

    // Trying again (any device action on bob) is refused and audited as a guard refusal.
    const card = await cardOf(PEOPLE.helpDesk, 'bob');
    const again = Date.now();
    await h.driver.clickButton({ message: card }, 'Send SMS passcodes', PEOPLE.helpDesk);
    await h.slack.waitFor(
      () => {
        const v = h.slack.lastView(PEOPLE.helpDesk);
        return v && v.updatedAt >= again && viewText(v).includes("This wasn't me") ? v : undefined;
      },
      { description: 'the refusal after This wasn’t me' },
    );
    expect(h.duo.smsOutbox().filter((m) => m.phoneId === phoneOf('bob').phone_id)).toEqual([]);
    const refused = await auditRows(h, "action = 'guard.refused' and target_username = 'bob'");
    expect(refused.length).toBeGreaterThan(0);
  });
});

describe('SMS passcodes', () => {
  it('when a landline and a tablet are shown, then neither offers SMS passcodes; a mobile does, and its batch goes to the number on file', async () => {
    for (const username of ['ivan', 'judy']) {
      const ids = buttonsOn(await cardOf(PEOPLE.helpDesk, username)).map((b) => b.action_id);
      expect(ids).not.toContain(ACTIONS.deviceSmsPasscodes);
    }
    expect(buttonsOn(await cardOf(PEOPLE.helpDesk, 'ivan')).map((b) => b.action_id)).toContain(ACTIONS.deviceRemove);

    await addVerification(h, PEOPLE.helpDesk, 'heidi');
    const form = await openDeviceForm(PEOPLE.helpDesk, 'heidi', 'Send SMS passcodes', VIEWS.deviceSmsPasscodes);
    expect(viewText(form)).toContain('Older SMS passcodes stop working');
    await h.driver.submitView(form, PEOPLE.helpDesk, { Reason: REASON });
    await h.slack.waitFor(
      () =>
        viewText(h.slack.views(PEOPLE.helpDesk).find((v) => v.id === form.id)).includes(
          'Older passcodes no longer work',
        ),
      { description: 'the SMS result in the form' },
    );
    await until(async () => h.duo.smsOutbox().some((m) => m.kind === 'passcodes'), 'passcode SMS');
    const sms = h.duo.smsOutbox().filter((m) => m.kind === 'passcodes');
    expect(sms.map((m) => m.to)).toEqual([phoneOf('heidi').number]);
    const rows = await auditRows(h, "action = 'device.sms_passcodes_sent'");
    expect(rows.map((r) => [r.target_username, r.outcome])).toEqual([
      ['heidi', 'pending'],
      ['heidi', 'success'],
    ]);
  });

  it('when a forged button asks SMS passcodes for a landline, then it is refused and audited as tampering, and Duo hears nothing', async () => {
    const card = await cardOf(PEOPLE.helpDesk, 'ivan');
    const ivan = duoUser('ivan');
    const before = h.duo.requests().length;
    await clickAction(
      h,
      { message: { channel: card.channel, ts: card.ts } },
      ACTIONS.deviceSmsPasscodes,
      PEOPLE.helpDesk,
      {
        value: `${ivan.user_id}:${ivan.phones[0]!.phone_id}`,
      },
    );
    await until(
      async () =>
        (await auditRows(h, "action = 'request.tampered' and actor_user_id = ?", [PEOPLE.helpDesk])).length > 0,
      'tamper audit',
    );
    const [denied] = await auditRows(h, "action = 'permission.denied' and target_username = 'ivan'");
    expect(denied).toBeDefined();
    const posts = h.duo
      .requests()
      .slice(before)
      .filter((r) => r.method !== 'GET');
    expect(posts).toEqual([]);
    expect(h.duo.smsOutbox().filter((m) => m.phoneId === ivan.phones[0]!.phone_id)).toEqual([]);
  });
});

describe('removing a lost device', () => {
  it('when a help-desk agent asks to remove a device, then nothing reaches Duo until a second person approves, and then Duo receives exactly one DELETE for that phone', async () => {
    // Bob said "This wasn't me" above (device help for him is stopped): a fresh user with two phones.
    const u = h.duo.addUser({
      username: 'walt',
      email: 'walt@example.com',
      phones: [duoPhone('walt', 1, 'android', '+15555550177'), duoPhone('walt', 2, 'iphone', '+15555550178')],
    });
    await addVerification(h, PEOPLE.helpDesk, 'walt');
    const form = await openDeviceForm(PEOPLE.helpDesk, 'walt', 'Remove device', VIEWS.deviceRemove);
    await h.driver.submitView(form, PEOPLE.helpDesk, { Reason: REASON });
    const card = await approvalCard('walt', 'Device removal requested');
    const deletes = () =>
      h.duo.requests().filter((r) => r.method === 'DELETE' && r.path.includes(`/users/${u.user_id}/phones/`));
    expect(deletes()).toEqual([]);
    expect(duoUser('walt').phones).toHaveLength(2);
    // The requester cannot approve their own request.
    await h.driver.clickButton({ message: card }, 'Approve', PEOPLE.helpDesk);
    expect(deletes()).toEqual([]);

    nextStep(clock);
    const approved = await approveWith(h, card.ts, PEOPLE.owner, await totpAt(h, ownerSecret));
    expect(bodyText(approved)).not.toContain('errors');
    await until(async () => deletes().length > 0, 'the DELETE');
    await new Promise((r) => setTimeout(r, 300));
    expect(deletes().map((r) => r.path)).toEqual([`/admin/v1/users/${u.user_id}/phones/${u.phones[0]!.phone_id}`]);
    expect(duoUser('walt').phones.map((p) => p.phone_id)).toEqual([u.phones[1]!.phone_id]);
    const trail = (await auditRows(h, "target_username = 'walt' and action like 'device%'")).map((r) => [
      r.action,
      r.outcome,
    ]);
    expect(trail).toEqual(
      expect.arrayContaining([
        ['device_removal.requested', 'success'],
        ['device_removal.approved', 'success'],
        ['device.removed', 'success'],
      ]),
    );
  });

  it('when the device is the user’s only one and no enrollment email follows, then the removal is refused', async () => {
    h.duo.addUser({
      username: 'xena',
      email: 'xena@example.com',
      phones: [duoPhone('xena', 1, 'iphone', '+15555550179')],
    });
    await addVerification(h, PEOPLE.helpDesk, 'xena');
    const form = await openDeviceForm(PEOPLE.helpDesk, 'xena', 'Remove device', VIEWS.deviceRemove);
    expect(viewText(form)).toContain('It is their only device');
    const r = await h.driver.submitView(form, PEOPLE.helpDesk, { Reason: REASON });
    expect(bodyText(r)).toContain('only device');
  });
});

describe('the Slack confirmation is bound and short-lived', () => {
  const confirmFor = async (
    username: string,
    employee: string,
    button = 'Reactivate Duo Mobile',
    callback = VIEWS.deviceReactivate,
  ) => {
    const form = await openDeviceForm(PEOPLE.userManager, username, button, callback);
    await h.driver.clickButton({ view: form }, 'Verify another way', PEOPLE.userManager);
    return { form, dm: await dmTo(employee, 'Did you ask for this?') };
  };

  it('when the employee answers after 10 minutes, then the answer is refused and nothing counts as verified', async () => {
    h.slack.addUser({ id: 'UCAROL0001', name: 'carl', email: 'carl@example.com' });
    h.duo.addUser({
      username: 'carl',
      email: 'carl@example.com',
      phones: [duoPhone('carl', 1, 'iphone', '+15555550181')],
    });
    const { form, dm } = await confirmFor('carl', 'UCAROL0001');
    clock.advance(11 * 60_000);
    await h.driver.clickButton({ message: dm }, 'Confirm, it was me', 'UCAROL0001');
    await dmTo('UCAROL0001', 'expired');
    const r = await h.driver.submitView(form, PEOPLE.userManager, { Reason: REASON });
    expect(bodyText(r)).toContain('Verify the caller first');
    const [refused] = await auditRows(h, "action = 'device.confirmation_refused' and target_username = 'carl'");
    expect(refused!.params).toMatchObject({ why: 'expired' });
  });

  it('when the employee confirmed a reactivation, then it does not verify a removal, nor bypass codes for the same user', async () => {
    h.slack.addUser({ id: 'UDORA00001', name: 'dora', email: 'dora@example.com' });
    h.duo.addUser({
      username: 'dora',
      email: 'dora@example.com',
      phones: [duoPhone('dora', 1, 'iphone', '+15555550182'), duoPhone('dora', 2, 'android', '+15555550183')],
    });
    const { dm } = await confirmFor('dora', 'UDORA00001');
    await h.driver.clickButton({ message: dm }, 'Confirm, it was me', 'UDORA00001');
    await dmTo(PEOPLE.userManager, 'confirmed in their own Slack');

    const removal = await openDeviceForm(PEOPLE.userManager, 'dora', 'Remove device', VIEWS.deviceRemove);
    expect(bodyText(await h.driver.submitView(removal, PEOPLE.userManager, { Reason: REASON }))).toContain(
      'Verify the caller first',
    );

    const card = await cardOf(PEOPLE.userManager, 'dora');
    const since = Date.now();
    await h.driver.clickButton({ message: card }, 'Request bypass codes', PEOPLE.userManager);
    const bypass = await formView(PEOPLE.userManager, VIEWS.bypass, since, 'Reason');
    const r = await h.driver.submitView(bypass, PEOPLE.userManager, { Reason: REASON });
    expect(bodyText(r)).toContain('Verify the caller first');
    expect(await auditRows(h, "action = 'bypass.requested' and target_username = 'dora'")).toEqual([]);
  });
});

describe('the employee’s buttons', () => {
  it('when the employee’s Confirm is replayed after it was answered, or sent with a forged value, then it is refused and audited', async () => {
    h.slack.addUser({ id: 'UERIC00001', name: 'eric', email: 'eric@example.com' });
    h.duo.addUser({
      username: 'eric',
      email: 'eric@example.com',
      phones: [duoPhone('eric', 1, 'iphone', '+15555550187')],
    });
    const form = await openDeviceForm(PEOPLE.helpDesk, 'eric', 'Send SMS passcodes', VIEWS.deviceSmsPasscodes);
    await h.driver.clickButton({ view: form }, 'Verify another way', PEOPLE.helpDesk);
    const dm = await dmTo('UERIC00001', 'Did you ask for this?');
    const id = JSON.stringify(dm.blocks).match(/"value":"([0-9a-f-]{36})"/)![1]!;
    await h.driver.clickButton({ message: dm }, 'Confirm, it was me', 'UERIC00001');
    await dmTo(PEOPLE.helpDesk, 'confirmed in their own Slack');

    await clickAction(h, { message: { channel: dm.channel, ts: dm.ts } }, ACTIONS.deviceNotMe, 'UERIC00001', {
      value: id,
    });
    await until(
      async () =>
        (await auditRows(h, "action = 'device.confirmation_refused' and target_username = 'eric'")).some(
          // Refused on the state it read, or by the conditional update when two answers meet.
          (r) => ['already confirmed', 'answered twice'].includes((r.params as { why: string }).why),
        ),
      'the replay refused',
    );
    await clickAction(h, { message: { channel: dm.channel, ts: dm.ts } }, ACTIONS.deviceConfirm, 'UERIC00001', {
      value: 'not-a-confirmation',
    });
    await until(
      async () => (await auditRows(h, "action = 'request.tampered' and actor_user_id = 'UERIC00001'")).length > 0,
      'the forged value audited',
    );
    expect(await auditRows(h, "action = 'device.not_me' and target_username = 'eric'")).toEqual([]);
  });
});

describe('no Slack account to verify with', () => {
  it('when the only Slack account with the Duo user’s email is a guest, then the form says so, and the request needs approval and says the caller is not verified', async () => {
    const form = await openDeviceForm(PEOPLE.helpDesk, 'judy', 'Reactivate Duo Mobile', VIEWS.deviceReactivate);
    expect(viewText(form)).toContain('is a guest');
    expect(viewText(form)).not.toContain('Verify another way');
    expect(viewText(form)).toContain("Duo's enrollment email");
    await h.driver.submitView(form, PEOPLE.helpDesk, { Reason: REASON });
    const card = await approvalCard('judy', 'Duo Mobile reactivation requested');
    expect(messageText(card)).toContain('not verified');
    expect(h.duo.issuedActivations().filter((a) => a.phoneId === phoneOf('judy').phone_id)).toEqual([]);

    // Approved: a new code ends the tablet's old credentials, and Duo's enrollment email goes to the address on file.
    nextStep(clock);
    const approved = await approveWith(h, card.ts, PEOPLE.owner, await totpAt(h, ownerSecret));
    expect(bodyText(approved)).not.toContain('errors');
    await until(async () => h.duo.enrollmentOutbox().some((e) => e.username === 'judy'), 'the enrollment email');
    expect(
      h.duo
        .enrollmentOutbox()
        .filter((e) => e.username === 'judy')
        .map((e) => e.email),
    ).toEqual(['judy.jones@example.com']);
    expect(phoneOf('judy').activated).toBe(false);
    expect(h.duo.smsOutbox().filter((m) => m.phoneId === phoneOf('judy').phone_id)).toEqual([]);
    const tablet = h.duo.issuedActivations().filter((a) => a.phoneId === phoneOf('judy').phone_id);
    expect(tablet).toHaveLength(1);
    expect(await scanForSecrets(h, [tablet[0]!.activationUrl, tablet[0]!.activationBarcode])).toEqual([]);
  });
});

describe('users outside device help', () => {
  it('when the user is disabled or in the Trash, then the card offers no device help; when directory-synced, removal is explained and Duo never asked', async () => {
    for (const username of ['carol']) {
      const ids = buttonsOn(await cardOf(PEOPLE.helpDesk, username)).map((b) => b.action_id);
      expect(ids.filter((id) => id.startsWith('device_'))).toEqual([]);
    }
    const trashed = h.duo.addUser({
      username: 'tom',
      email: 'tom@example.com',
      status: 'pending deletion',
      phones: [duoPhone('tom', 1, 'iphone', '+15555550184')],
    });
    expect(buttonsOn(await cardOf(PEOPLE.helpDesk, 'tom')).filter((b) => b.action_id.startsWith('device_'))).toEqual(
      [],
    );
    expect(trashed.status).toBe('pending deletion');

    const synced = h.duo.addUser({
      username: 'sam',
      email: 'sam@example.com',
      external_id: 'ad-0001',
      last_directory_sync: 1_764_000_000,
      phones: [duoPhone('sam', 1, 'iphone', '+15555550185'), duoPhone('sam', 2, 'android', '+15555550186')],
    });
    const card = await cardOf(PEOPLE.helpDesk, 'sam');
    const ids = buttonsOn(card).map((b) => b.action_id);
    expect(ids).toContain(ACTIONS.deviceReactivate);
    expect(ids).not.toContain(ACTIONS.deviceRemove);
    const since = Date.now();
    await clickAction(h, { message: { channel: card.channel, ts: card.ts } }, ACTIONS.deviceRemove, PEOPLE.helpDesk, {
      value: `${synced.user_id}:${synced.phones[0]!.phone_id}`,
    });
    const explained = await h.slack.waitFor(
      () => {
        const v = h.slack.lastView(PEOPLE.helpDesk);
        return v && v.updatedAt >= since && viewText(v).includes('directory sync') ? v : undefined;
      },
      { description: 'the directory-sync explanation' },
    );
    expect(viewText(explained)).toContain('source directory');
    expect(h.duo.requests().filter((r) => r.method === 'DELETE' && r.path.includes(synced.user_id))).toEqual([]);
  });
});

describe('a Slack Connect account', () => {
  it('when the Slack account with the Duo user’s email belongs to another workspace, then it never gets the DM and the form says so', async () => {
    h.slack.addUser({ id: 'UEXTDAVE01', teamId: 'T0OTHERORG', name: 'dave', email: 'dave.diaz@example.com' });
    const form = await openDeviceForm(PEOPLE.helpDesk, 'dave', 'Reactivate Duo Mobile', VIEWS.deviceReactivate);
    expect(viewText(form)).toContain('Slack Connect (external) user');
    expect(viewText(form)).not.toContain('Verify another way');
    expect(h.slack.messages(h.slack.dmChannelFor('UEXTDAVE01'))).toEqual([]);
  });
});

import { makePhone } from '@duo-desk/duo-sim';

function duoPhone(owner: string, i: number, kind: 'android' | 'iphone', number: string) {
  return makePhone(owner, i, kind, number, '2026-11-20T09:00:00');
}
