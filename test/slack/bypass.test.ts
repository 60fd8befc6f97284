import type { StoredView } from '@duo-desk/slack-testbed';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { slackBypassNotices } from '../../src/slack/bypass-jobs.js';
import { describeError } from '../../src/slack/error-translator.js';
import { approveBypassRequest } from '../../src/usecases/bypass-approval.js';
import { transition } from '../../src/usecases/bypass-store.js';
import { auditRows } from '../support/audit.js';
import {
  addVerification,
  approveWith,
  callerOf,
  cardOf,
  enrollTotp,
  eventually,
  messageText,
  nextStep,
  privateMessages,
  type RequestRow,
  requestRow,
  requestRows,
  setSetting,
  totpAt,
  viewText,
  waitForView,
} from '../support/bypass-kit.js';
import { clickAction } from '../support/forge.js';
import { CHANNELS, type Harness, PEOPLE, startHarness, TEAM } from '../support/harness.js';
import { scanForSecrets } from '../support/secret-scan.js';

const clock = new ManualClock();
let h: Harness;
/** TOTP secrets of the approvers (owner and user manager), enrolled through the real use cases. */
const secrets: Record<string, string> = {};
/** Every bypass code issued in this file: the final scan looks for them everywhere. */
const issued = new Map<string, string>(); // code -> the requester it was delivered to

/** Extra approvers for the race: ten user managers with the approver flag. */
const RACERS = Array.from({ length: 10 }, (_, i) => `UAPPR${String(i).padStart(4, '0')}`);

beforeAll(async () => {
  h = await startHarness({ clock, users: RACERS.map((id) => ({ id, name: id.toLowerCase() })) });
  for (const id of RACERS) await h.grant(id, 'user_manager', true);
  for (const id of [PEOPLE.owner, PEOPLE.userManager, ...RACERS]) secrets[id] = await enrollTotp(h, id);
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  // Fresh TOTP steps and verification windows for every test.
  clock.advance(15 * 60_000);
});

const userId = (username: string) => h.duo.getUser(username)!.user_id;
const codesOf = (username: string) => h.duo.bypassCodesOf(userId(username));
const createCalls = () => h.duo.requests().filter((r) => r.method === 'POST' && r.path.endsWith('/bypass_codes'));

/** Opens the request form with `/duo bypass <username>`. */
async function openForm(requester: string, username: string) {
  const before = h.slack.views(requester).length;
  await h.driver.command(requester, `bypass ${username}`);
  return waitForView(h, requester, 'bypass_modal', before, 'Reason');
}

/** Fills in and submits the form; waits for the request to be posted for approval (or decided). */
async function requestCodes(
  requester: string,
  username: string,
  values: Record<string, string | { value: string; text?: string }> = {},
): Promise<RequestRow> {
  const known = new Set((await requestRows(h)).map((r) => r.id));
  const form = await openForm(requester, username);
  await h.driver.submitView(form, requester, { Reason: 'Caller lost their phone, verified by push', ...values });
  return eventually(async () => {
    const row = (await requestRows(h)).find((r) => !known.has(r.id));
    return row && (row.approval_ts || row.status !== 'pending') ? row : undefined;
  }, `request for ${username}`);
}

const waitStatus = (id: string, status: string) =>
  eventually(async () => {
    const r = await requestRow(h, id);
    return r.status === status ? r : undefined;
  }, `request ${id} ${status}`);

let second: Awaited<ReturnType<Harness['addInstance']>> | undefined;
/** One more app instance on the same database, shared by the race tests. */
async function secondInstance() {
  if (!second) {
    second = await h.addInstance();
  }
  return second;
}

/** Records the codes delivered to `requester`, so the final scan can look for them. */
function remember(requester: string, codes: string[]) {
  for (const c of codes) issued.set(c, requester);
}

describe('bypass codes with approval', () => {
  it('when help desk requests a code and an approver approves with a valid TOTP code, then only the requester gets the code, once', async () => {
    await addVerification(h, PEOPLE.helpDesk, 'alice');
    const before = codesOf('alice').map((c) => c.code);
    const req = await requestCodes(PEOPLE.helpDesk, 'alice', { Ticket: 'INC-42' });
    expect(req).toMatchObject({ status: 'pending', count: 1, reuse_count: 1, valid_secs: 3600 });
    const card = cardOf(h, req.approval_ts!)!;
    expect(messageText(card)).toContain('alice');
    expect(messageText(card)).toContain('Help Desk');
    expect(messageText(card)).toContain('INC-42');
    expect(messageText(card)).toContain('Approved'); // the verification status
    const status = await h.slack.waitFor(() => privateMessages(h, PEOPLE.helpDesk, 'waiting for a second person')[0]);
    expect(messageText(status)).toContain('Cancel request');

    nextStep(clock);
    const res = await approveWith(
      h,
      req.approval_ts!,
      PEOPLE.userManager,
      await totpAt(h, secrets[PEOPLE.userManager]!),
    );
    expect(res.status).toBe(200);
    const done = await waitStatus(req.id, 'issued');
    expect(done.decided_by).toBe(PEOPLE.userManager);

    const fresh = codesOf('alice').filter((c) => !before.includes(c.code));
    expect(fresh).toHaveLength(1);
    expect(fresh[0]!.reuse_count).toBe(1);
    expect(fresh[0]!.expiration! - fresh[0]!.created).toBe(3600);
    const delivery = await h.slack.waitFor(() => privateMessages(h, PEOPLE.helpDesk, fresh[0]!.code)[0]);
    expect(delivery.ephemeralUser).toBe(PEOPLE.helpDesk);
    expect(delivery.channel).toBe(CHANNELS.helpdesk);
    expect(messageText(delivery)).toContain('1 use per code');
    remember(PEOPLE.helpDesk, [fresh[0]!.code]);

    const after = await h.slack.waitFor(() => {
      const m = cardOf(h, req.approval_ts!);
      return messageText(m).includes('Codes issued') ? m : undefined;
    });
    expect(messageText(after)).toContain(`Approved by <@${PEOPLE.userManager}>`);
    expect(JSON.stringify(after.blocks)).not.toContain('approval_approve');
    await h.slack.waitFor(() => viewText(h.slack.lastView(PEOPLE.userManager)).includes('delivered to'));
    const actions = (await auditRows(h, 'request_ref = ?', [req.id])).map((r) => `${r.action}/${r.phase}/${r.outcome}`);
    expect(actions).toEqual([
      'bypass.requested/event/success',
      'bypass.approved/event/success',
      'bypass.issued/intent/pending',
      'bypass.issued/outcome/success',
    ]);
  });

  it('when the approver enters a wrong code, or a code already used, then the approval is refused and the request stays pending', async () => {
    await addVerification(h, PEOPLE.helpDesk, 'bob');
    await addVerification(h, PEOPLE.helpDesk, 'peggy');
    const a = await requestCodes(PEOPLE.helpDesk, 'bob');
    const b = await requestCodes(PEOPLE.helpDesk, 'peggy');
    nextStep(clock);
    const secret = secrets[PEOPLE.owner]!;
    const near = new Set(await Promise.all([-1, 0, 1].map((n) => totpAt(h, secret, n))));
    const wrong = ['000000', '111111', '222222'].find((c) => !near.has(c))!;
    await approveWith(h, a.approval_ts!, PEOPLE.owner, wrong);
    const retry = await h.slack.waitFor(() => {
      const v = h.slack.lastView(PEOPLE.owner);
      return viewText(v).includes("isn't valid") ? v : undefined;
    });
    expect(retry.callbackId).toBe('approve_modal');
    expect((await requestRow(h, a.id)).status).toBe('pending');

    const good = await totpAt(h, secret);
    const before = codesOf('bob').map((c) => c.code);
    await approveWith(h, a.approval_ts!, PEOPLE.owner, good);
    await waitStatus(a.id, 'issued');
    const fresh = codesOf('bob').filter((c) => !before.includes(c.code));
    remember(
      PEOPLE.helpDesk,
      fresh.map((c) => c.code),
    );

    await approveWith(h, b.approval_ts!, PEOPLE.owner, good);
    await h.slack.waitFor(() => viewText(h.slack.lastView(PEOPLE.owner)).includes('already used'));
    expect((await requestRow(h, b.id)).status).toBe('pending');
    const failures = await auditRows(h, "action = 'stepup.failed' and actor_user_id = ?", [PEOPLE.owner]);
    expect(failures.map((r) => (r.params as { why: string }).why)).toEqual(['wrong_code', 'replayed']);
  });

  it('when the requester tries to approve their own request, or a help-desk responder tries, then both are refused and audited', async () => {
    await addVerification(h, PEOPLE.userManager, 'judy');
    const req = await requestCodes(PEOPLE.userManager, 'judy');
    const card = cardOf(h, req.approval_ts!)!;
    await h.driver.clickButton({ message: card }, 'Approve', PEOPLE.userManager);
    await h.driver.clickButton({ message: card }, 'Approve', PEOPLE.helpDesk);
    await h.slack.waitFor(() => privateMessages(h, PEOPLE.userManager, 'cannot decide your own request')[0]);
    await h.slack.waitFor(() => privateMessages(h, PEOPLE.helpDesk, 'without the approver flag')[0]);
    const denied = await auditRows(h, "action = 'permission.denied' and params->>'attempted' = 'bypass.approve'");
    expect(denied.map((r) => r.actor_user_id)).toEqual([PEOPLE.userManager, PEOPLE.helpDesk]);
    expect((await requestRow(h, req.id)).status).toBe('pending');
    expect(h.slack.views(PEOPLE.helpDesk).some((v) => v.callbackId === 'approve_modal')).toBe(false);
  });

  it("when a non-approver forges an Approve click carrying another request's id, then nothing is decided and the attempt is audited", async () => {
    const [target] = await requestRows(h, "status = 'pending' and requester_user_id = ?", [PEOPLE.userManager]);
    const [decided] = await requestRows(h, "status = 'issued'");
    const res = await clickAction(
      h,
      { message: { channel: CHANNELS.approvals, ts: decided!.approval_ts! } },
      'approval_approve',
      PEOPLE.helpDesk,
      { value: target!.id },
    );
    expect(res.status).toBe(200);
    const denied = await eventually(async () => {
      const rows = await auditRows(
        h,
        "action = 'permission.denied' and actor_user_id = ? and params->>'attempted' = 'bypass.approve'",
        [PEOPLE.helpDesk],
      );
      const mine = rows.filter((r) => r.target_duo_user_id === userId('judy'));
      return mine.length >= 2 ? mine : undefined;
    }, 'audited forgery');
    expect(denied.length).toBeGreaterThanOrEqual(2);
    expect((await requestRow(h, target!.id)).status).toBe('pending');
  });

  it('when an approver denies with a reason, then the requester is told why and the card loses its buttons', async () => {
    await addVerification(h, PEOPLE.helpDesk, 'niaj');
    const req = await requestCodes(PEOPLE.helpDesk, 'niaj');
    const before = h.slack.views(PEOPLE.owner).length;
    await h.driver.clickButton({ message: cardOf(h, req.approval_ts!)! }, 'Deny', PEOPLE.owner);
    const modal = await waitForView(h, PEOPLE.owner, 'deny_modal', before);
    await h.driver.submitView(modal, PEOPLE.owner, { Why: 'Caller could not confirm their employee number' });
    const row = await waitStatus(req.id, 'denied');
    expect(row).toMatchObject({
      decided_by: PEOPLE.owner,
      decision_note: 'Caller could not confirm their employee number',
    });
    const told = await h.slack.waitFor(() => privateMessages(h, PEOPLE.helpDesk, 'denied your bypass request')[0]);
    expect(messageText(told)).toContain('could not confirm their employee number');
    await h.slack.waitFor(() => messageText(cardOf(h, req.approval_ts!)).includes('Denied by'));
    expect(JSON.stringify(cardOf(h, req.approval_ts!)!.blocks)).not.toContain('approval_approve');
    const [audit] = await auditRows(h, "action = 'bypass.denied' and request_ref = ?", [req.id]);
    expect(audit).toMatchObject({
      actor_user_id: PEOPLE.owner,
      reason: 'Caller could not confirm their employee number',
    });
  });

  it('when nobody decides within approval_timeout_minutes, then the request expires, the card says so and the requester is told', async () => {
    await addVerification(h, PEOPLE.helpDesk, 'heidi');
    const req = await requestCodes(PEOPLE.helpDesk, 'heidi');
    clock.advance(31 * 60_000);
    await waitStatus(req.id, 'expired');
    await h.slack.waitFor(() => privateMessages(h, PEOPLE.helpDesk, 'Your bypass request for `heidi` expired')[0]);
    await h.slack.waitFor(() => messageText(cardOf(h, req.approval_ts!)).includes('Expired'));
    const [audit] = await auditRows(h, "action = 'bypass.expired' and request_ref = ?", [req.id]);
    expect(audit).toMatchObject({ actor_user_id: 'duo-desk', outcome: 'success' });
    const late = await clickAction(
      h,
      { message: { channel: CHANNELS.approvals, ts: req.approval_ts! } },
      'approval_approve',
      PEOPLE.owner,
      {
        value: req.id,
      },
    );
    expect(late.status).toBe(200);
    await h.slack.waitFor(() => privateMessages(h, PEOPLE.owner, 'expired before anyone decided')[0]);
  });

  it('when duo-desk stopped between an approval and Duo’s answer, then the request is closed as unknown and the requester told to check', async () => {
    await addVerification(h, PEOPLE.helpDesk, 'judy');
    const req = await requestCodes(PEOPLE.helpDesk, 'judy');
    // The decision committed, then the process died before it called Duo (no intent was written).
    const em = h.runtime.db.em.fork();
    expect(
      await transition(em, {
        id: req.id,
        teamId: TEAM,
        from: 'pending',
        to: 'approved',
        set: { decidedBy: PEOPLE.owner, decidedAt: h.runtime.deps.clock.now() },
      }),
    ).toBe(true);
    clock.advance(31 * 60_000);
    await waitStatus(req.id, 'unknown');
    await h.slack.waitFor(() => privateMessages(h, PEOPLE.helpDesk, "Duo's answer was lost")[0]);
    const [audit] = await auditRows(h, "action = 'bypass.failed' and request_ref = ?", [req.id]);
    expect(audit).toMatchObject({ actor_user_id: 'duo-desk', outcome: 'unknown' });
    const judy = h.duo.getUser('judy')!.user_id;
    expect(h.duo.requests().filter((r) => r.method === 'POST' && r.path.endsWith(`${judy}/bypass_codes`))).toHaveLength(
      0,
    );
  });

  it('when the requester cancels a pending request, then it is cancelled and the card updated; nobody else can cancel it', async () => {
    await addVerification(h, PEOPLE.helpDesk, 'ivan');
    const req = await requestCodes(PEOPLE.helpDesk, 'ivan');
    const status = await h.slack.waitFor(() =>
      privateMessages(h, PEOPLE.helpDesk, 'waiting for a second person').find((m) => messageText(m).includes(req.id)),
    );
    await clickAction(h, { message: status }, 'request_cancel', PEOPLE.userManager);
    await h.slack.waitFor(() => privateMessages(h, PEOPLE.userManager, 'Only the person who asked')[0]);
    expect((await requestRow(h, req.id)).status).toBe('pending');
    await h.driver.clickButton({ message: status }, 'Cancel request', PEOPLE.helpDesk);
    await waitStatus(req.id, 'cancelled');
    await h.slack.waitFor(() => messageText(h.slack.message(status.channel, status.ts)).includes('You cancelled'));
    await h.slack.waitFor(() => messageText(cardOf(h, req.approval_ts!)).includes('Cancelled by the requester'));
    expect(await auditRows(h, "action = 'bypass.cancelled' and request_ref = ?", [req.id])).toHaveLength(1);
  });
});

describe('bypass request checks', () => {
  it('when the caller was not verified recently, then the form says so, offers a push, and the submission is refused', async () => {
    const form = await openForm(PEOPLE.helpDesk, 'walter');
    expect(viewText(form)).toContain('Verify the caller first');
    expect(viewText(form)).toContain('verify_send_from_modal');
    const known = (await requestRows(h)).length;
    const res = await h.driver.submitView(form, PEOPLE.helpDesk, { Reason: 'Locked out, says it is urgent' });
    expect(res.body).toMatchObject({ response_action: 'errors' });
    expect(JSON.stringify(res.body)).toContain('Verify the caller first');
    expect(await requestRows(h)).toHaveLength(known);
    const [audit] = await auditRows(
      h,
      "action = 'bypass.requested' and outcome = 'denied' and target_duo_user_id = ?",
      [userId('walter')],
    );
    expect(audit).toBeDefined();
  });

  it('when help desk submits the form with a higher count than it offered, then nothing is requested and the attempt is audited', async () => {
    await addVerification(h, PEOPLE.helpDesk, 'alice');
    const form = await openForm(PEOPLE.helpDesk, 'alice');
    const counts = JSON.stringify(form.definition).match(/"\d+ codes?"/g);
    expect(counts).toEqual(['"1 code"', '"1 code"']); // the option and the initial option
    const known = (await requestRows(h)).length;
    const posts = createCalls().length;
    const res = await h.driver.submitView(form, PEOPLE.helpDesk, {
      Reason: 'Needs several',
      'Number of codes': { value: '5', text: '5 codes' },
    });
    expect(JSON.stringify(res.body)).toContain('one single-use code valid for 1 hour');
    expect(await requestRows(h)).toHaveLength(known);
    expect(createCalls()).toHaveLength(posts);
    const [audit] = await auditRows(
      h,
      "action = 'permission.denied' and actor_user_id = ? and params->>'attempted' = 'bypass.request'",
      [PEOPLE.helpDesk],
    );
    expect(audit).toBeDefined();
  });

  it('when the user has no enrolled device, then no codes can be requested', async () => {
    const before = h.slack.views(PEOPLE.helpDesk).length;
    await h.driver.command(PEOPLE.helpDesk, 'bypass grace');
    const v = await h.slack.waitFor(() => {
      const top = h.slack.lastView(PEOPLE.helpDesk);
      return h.slack.views(PEOPLE.helpDesk).length > before && viewText(top).includes('no enrolled device')
        ? top
        : undefined;
    });
    expect(viewText(v)).not.toContain('Reason');
  });

  it('when Duo refuses with 50001 because the user reached 100 codes meanwhile, then the request fails, both are told, and nothing is retried', async () => {
    await addVerification(h, PEOPLE.userManager, 'victor');
    const form = await openForm(PEOPLE.userManager, 'victor');
    expect(JSON.stringify(form.definition)).toContain('"5 codes"');
    expect(JSON.stringify(form.definition)).not.toContain('"6 codes"');
    const known = new Set((await requestRows(h)).map((r) => r.id));
    await h.driver.submitView(form, PEOPLE.userManager, {
      Reason: 'Travelling without phone',
      'Number of codes': '5 codes',
    });
    const req = await eventually(
      async () => (await requestRows(h)).find((r) => !known.has(r.id) && r.approval_ts),
      'victor request',
    );
    // Someone else fills the user up to 98 codes through the Admin API before the approval.
    await h.runtime.deps.duo.createBypassCodes(userId('victor'), { count: 3, reuseCount: 1, validSecs: 3600 });
    const posts = createCalls().length;
    nextStep(clock);
    await approveWith(h, req.approval_ts!, PEOPLE.owner, await totpAt(h, secrets[PEOPLE.owner]!));
    const row = await waitStatus(req.id, 'failed');
    expect(row.failure_reason).toBe('DUO_LIMIT_EXCEEDED');
    expect(createCalls()).toHaveLength(posts + 1);
    expect(codesOf('victor')).toHaveLength(98);
    await h.slack.waitFor(() => privateMessages(h, PEOPLE.userManager, 'Duo could not create the codes')[0]);
    await h.slack.waitFor(() => viewText(h.slack.lastView(PEOPLE.owner)).includes('DUO_LIMIT_EXCEEDED'));
  });
});

describe('Duo failures and races', () => {
  it('when Duo answers 500 to the creation, then the request is failed, both people are told, and no codes exist anywhere', async () => {
    await addVerification(h, PEOPLE.helpDesk, 'trent');
    const req = await requestCodes(PEOPLE.helpDesk, 'trent');
    const before = codesOf('trent').length;
    h.duo.injectFault({ kind: 'server_error', method: 'POST', path: /\/bypass_codes$/, times: 1 });
    nextStep(clock);
    await approveWith(h, req.approval_ts!, PEOPLE.owner, await totpAt(h, secrets[PEOPLE.owner]!));
    const row = await waitStatus(req.id, 'failed');
    expect(row.failure_reason).toBe('DUO_UNAVAILABLE');
    expect(codesOf('trent')).toHaveLength(before);
    await h.slack.waitFor(
      () => privateMessages(h, PEOPLE.helpDesk, 'Duo could not create the codes (DUO_UNAVAILABLE)')[0],
    );
    await h.slack.waitFor(() => viewText(h.slack.lastView(PEOPLE.owner)).includes('Duo could not create the codes'));
    await h.slack.waitFor(() => messageText(cardOf(h, req.approval_ts!)).includes('Duo failed'));
    expect(privateMessages(h, PEOPLE.helpDesk, 'Bypass codes for trent')).toHaveLength(0);
    const outcome = await auditRows(h, "action = 'bypass.issued' and phase = 'outcome' and request_ref = ?", [req.id]);
    expect(outcome).toMatchObject([{ outcome: 'failed', duo_ref: 'DUO_UNAVAILABLE' }]);
    h.duo.clearFaults();
  });

  it('when 50 Approve submissions race across two app instances, then exactly one decision and one Duo create call happen', async () => {
    const second = await secondInstance();
    await addVerification(h, PEOPLE.helpDesk, 'dave');
    const req = await requestCodes(PEOPLE.helpDesk, 'dave');
    nextStep(clock);
    const drivers = [h.driver, second.driver];
    const modals: Array<{ id: string; modal: StoredView; code: string }> = [];
    for (const [i, id] of RACERS.entries()) {
      const before = h.slack.views(id).length;
      await drivers[i % 2]!.clickButton({ message: cardOf(h, req.approval_ts!)! }, 'Approve', id);
      modals.push({
        id,
        modal: await waitForView(h, id, 'approve_modal', before),
        code: await totpAt(h, secrets[id]!),
      });
    }
    const posts = createCalls().length;
    const before = codesOf('dave').map((c) => c.code);
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, n) => {
        const m = modals[n % modals.length]!;
        return drivers[n % 2]!.submitView(m.modal, m.id, { 'Code from your authenticator app': m.code });
      }),
    );
    expect(answers.map((a) => a.status).filter((s) => s !== 200)).toEqual([]);
    const row = await waitStatus(req.id, 'issued');
    expect(RACERS).toContain(row.decided_by);
    expect(createCalls()).toHaveLength(posts + 1);
    expect(await auditRows(h, "action = 'bypass.approved' and request_ref = ?", [req.id])).toHaveLength(1);
    expect(
      await auditRows(h, "action = 'bypass.issued' and phase = 'intent' and request_ref = ?", [req.id]),
    ).toHaveLength(1);
    // Every approver's modal settles on the approval or on who decided (never a spinner); the winner's
    // own later submissions of the same modal may end on "already approved by" themselves.
    const finals = await h.slack.waitFor(() => {
      const texts = RACERS.map((id) => viewText(h.slack.lastView(id)));
      return texts.every((t) => !t.includes('Checking your code')) ? texts : undefined;
    });
    for (const t of finals)
      expect(t.includes(':white_check_mark: Approved.') || t.includes(`already approved by <@${row.decided_by}>`)).toBe(
        true,
      );
    expect(finals.filter((t) => t.includes(':white_check_mark: Approved.')).length).toBeLessThanOrEqual(1);
    const fresh = codesOf('dave').filter((c) => !before.includes(c.code));
    expect(fresh).toHaveLength(1);
    await h.slack.waitFor(() => privateMessages(h, PEOPLE.helpDesk, fresh[0]!.code)[0]);
    remember(PEOPLE.helpDesk, [fresh[0]!.code]);
  });
});

describe('settings', () => {
  it('when the settings exempt owners, then an owner gets exactly the chosen codes at once, with no approval card', async () => {
    await setSetting(h, 'bypass_approval_required', 'all_but_owner');
    try {
      await addVerification(h, PEOPLE.owner, 'alice');
      const cards = h.slack.messages(CHANNELS.approvals).length;
      const before = codesOf('alice').map((c) => c.code);
      const req = await requestCodes(PEOPLE.owner, 'alice', {
        'Number of codes': '2 codes',
        'Valid for': '4 hours',
        'Uses per code': '2 uses per code',
      });
      await waitStatus(req.id, 'issued');
      const fresh = codesOf('alice').filter((c) => !before.includes(c.code));
      expect(fresh.map((c) => [c.reuse_count, c.expiration! - c.created])).toEqual([
        [2, 4 * 3600],
        [2, 4 * 3600],
      ]);
      const delivery = await h.slack.waitFor(() => privateMessages(h, PEOPLE.owner, fresh[1]!.code)[0]);
      expect(messageText(delivery)).toContain(fresh[0]!.code);
      remember(
        PEOPLE.owner,
        fresh.map((c) => c.code),
      );
      expect(h.slack.messages(CHANNELS.approvals)).toHaveLength(cards);
    } finally {
      await setSetting(h, 'bypass_approval_required', 'all');
    }
  });

  it('when step-up is required for requests, then the form asks for a code and a wrong one is refused on the form', async () => {
    await setSetting(h, 'step_up_for_bypass_request', true);
    try {
      await addVerification(h, PEOPLE.userManager, 'bob');
      nextStep(clock);
      const form = await openForm(PEOPLE.userManager, 'bob');
      expect(viewText(form)).toContain('Code from your authenticator app');
      const near = new Set(await Promise.all([-1, 0, 1].map((n) => totpAt(h, secrets[PEOPLE.userManager]!, n))));
      const wrong = ['000000', '111111', '222222'].find((c) => !near.has(c))!;
      const known = (await requestRows(h)).length;
      const res = await h.driver.submitView(form, PEOPLE.userManager, {
        Reason: 'Phone in the repair shop',
        'Code from your authenticator app': wrong,
      });
      expect(res.body).toMatchObject({
        response_action: 'errors',
        errors: { totp: expect.stringContaining("isn't valid") },
      });
      expect(await requestRows(h)).toHaveLength(known);
      const ok = await h.driver.submitView(h.slack.lastView(PEOPLE.userManager)!, PEOPLE.userManager, {
        'Code from your authenticator app': await totpAt(h, secrets[PEOPLE.userManager]!),
      });
      expect(ok.body).toMatchObject({ response_action: 'update' });
      await eventually(async () => (await requestRows(h)).length > known, 'request recorded');
    } finally {
      await setSetting(h, 'step_up_for_bypass_request', false);
    }
  });

  it('when a responder reached max_bypass_requests_per_responder_per_day, then the form is refused', async () => {
    const made = (await requestRows(h, 'requester_user_id = ?', [PEOPLE.helpDesk])).length;
    await setSetting(h, 'max_bypass_requests_per_responder_per_day', made);
    try {
      await addVerification(h, PEOPLE.helpDesk, 'alice');
      const before = h.slack.views(PEOPLE.helpDesk).length;
      await h.driver.command(PEOPLE.helpDesk, 'bypass alice');
      await h.slack.waitFor(() => {
        const v = h.slack.lastView(PEOPLE.helpDesk);
        return h.slack.views(PEOPLE.helpDesk).length > before && viewText(v).includes('in the last 24 hours');
      });
      expect(await requestRows(h, 'requester_user_id = ?', [PEOPLE.helpDesk])).toHaveLength(made);
    } finally {
      await setSetting(h, 'max_bypass_requests_per_responder_per_day', 20);
    }
  });
});

describe('the decision itself', () => {
  it('when ten approvers with valid codes reach the decision at the same moment on two instances, then one wins and the others are told who decided', async () => {
    const second = await secondInstance();
    await addVerification(h, PEOPLE.helpDesk, 'judy');
    const req = await requestCodes(PEOPLE.helpDesk, 'judy');
    nextStep(clock);
    const posts = createCalls().length;
    const before = codesOf('judy').map((c) => c.code);
    const runtimes = [h.runtime, second.runtime];
    const results = await Promise.allSettled(
      RACERS.map(async (id, i) => {
        const rt = runtimes[i % 2]!;
        const notices = slackBypassNotices(rt.slack.notifier, CHANNELS.approvals);
        const code = await totpAt(h, secrets[id]!);
        return approveBypassRequest(rt.deps, rt.db.em.fork(), callerOf(id), notices, {
          requestId: req.id,
          totpCode: code,
        });
      }),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost.map((r) => describeError(r.reason, 'c').text)).toEqual(
      Array(RACERS.length - 1).fill(
        expect.stringMatching(/^:warning: This request was already approved by <@UAPPR\d+>/),
      ),
    );
    expect(createCalls()).toHaveLength(posts + 1);
    const fresh = codesOf('judy').filter((c) => !before.includes(c.code));
    expect(fresh).toHaveLength(1);
    await h.slack.waitFor(() => privateMessages(h, PEOPLE.helpDesk, fresh[0]!.code)[0]);
    remember(PEOPLE.helpDesk, [fresh[0]!.code]);
  });
});

describe('where the codes go', () => {
  it("when everything above has run, then the issued codes appear only in the requester's delivery messages", async () => {
    expect(issued.size).toBeGreaterThanOrEqual(3);
    const codes = [...issued.keys()];
    const findings = await scanForSecrets(h, codes);
    const received = JSON.parse(h.slack.everythingReceived()) as {
      requests: Array<{ method: string; args: Record<string, unknown> }>;
    };
    for (const [i, code] of codes.entries()) {
      const places = findings.filter((f) => f.secret === i).map((f) => f.where);
      expect(places).toHaveLength(1);
      const n = Number(places[0]!.match(/^slack chat\.postEphemeral #(\d+)$/)?.[1]);
      const delivery = received.requests[n - 1]!;
      expect(delivery.args.user).toBe(issued.get(code));
      expect(JSON.stringify(delivery.args)).toContain('Bypass codes for');
    }
  });
});
