import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../../src/clock.js';
import { slackApprovalNotices } from '../../src/slack/approval-notices.js';
import { requireActor } from '../../src/usecases/access.js';
import { submitRequest } from '../../src/usecases/approval-engine.js';
import type { ApprovalKind } from '../../src/usecases/approval-model.js';
import { loadSettings } from '../../src/usecases/settings.js';
import { defineKindText } from '../../views/approvals.js';
import { ACTIONS, VIEWS } from '../../views/ids.js';
import { auditRows } from '../support/audit.js';
import {
  addVerification,
  approveWith,
  callerOf,
  cardOf,
  enrollTotp,
  eventually,
  nextStep,
  privateMessages,
  totpAt,
  viewText,
  waitForView,
} from '../support/bypass-kit.js';
import { clickAction, openRolesHome, topView } from '../support/forge.js';
import { CHANNELS, type Harness, PEOPLE, startHarness, TEAM } from '../support/harness.js';

/**
 * Guarded actions, tried as an attacker would: a caller posing as an employee, one responder's
 * hijacked session, an owner weakening the controls alone. Each refusal must leave an audit row
 * naming the guard, and nothing may reach Duo before every guard has passed.
 */
const clock = new ManualClock();
let h: Harness;
const ADMIN = 'UADMIN001';
const OWNER2 = 'UOWNER002';
const secrets: Record<string, string> = {};

/** A test's own kind: parameters, an executor and card text are all it takes. */
const executed: string[] = [];
const widgetKind: ApprovalKind<{ widgets: number }, null> = {
  name: 'test_widgets',
  audit: 'test_widgets',
  params: z.object({ widgets: z.number().int().min(1).max(9) }).strict(),
  async execute(_ctx, r) {
    executed.push(r.id);
    return { state: 'done', result: { made: r.params.widgets } };
  },
};
defineKindText(widgetKind, {
  title: 'Widgets requested',
  noun: 'widget request',
  summary: (r) => `${r.params.widgets} widgets`,
  fields: () => [],
  approveNote: 'The widgets are made at once.',
  nothingDone: 'No widgets were made.',
  failure: (reason) => `the widgets could not be made (${reason})`,
  done: (r) => `${String(r.result.made)} widgets made.`,
});

beforeAll(async () => {
  h = await startHarness({
    clock,
    users: [
      { id: ADMIN, name: 'adam', realName: 'Adam Admin' },
      { id: OWNER2, name: 'otto', realName: 'Otto Owner' },
    ],
    extraKinds: [widgetKind],
  });
  await h.grant(ADMIN, 'administrator');
  secrets[PEOPLE.owner] = await enrollTotp(h, PEOPLE.owner);
  secrets[PEOPLE.userManager] = await enrollTotp(h, PEOPLE.userManager);
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  clock.advance(15 * 60_000);
});

const duoUser = (username: string) => h.duo.getUser(username)!;
const statusSets = (username: string, status: string) =>
  h.duo
    .requests()
    .filter(
      (r) =>
        r.method === 'POST' &&
        r.path === `/admin/v1/users/${duoUser(username).user_id}` &&
        JSON.stringify(r.params).includes(`"status":"${status}"`),
    );
const guardRefusals = (userId: string) => auditRows(h, "action = 'guard.refused' and actor_user_id = ?", [userId]);
const approvalRows = (where: string, params: unknown[] = []) =>
  h.runtime.db.em
    .fork()
    .getConnection()
    .execute<Array<{ id: string; state: string; policy: string; card_ts: string | null; kind: string }>>(
      `select id, state, policy, card_ts, kind from approval_request where ${where} order by created_at`,
      params,
    );

async function statusForm(userId: string, username: string) {
  const before = h.slack.views(userId).length;
  await h.driver.command(userId, `status ${username}`);
  return waitForView(h, userId, VIEWS.status, before, 'Reason');
}

describe('bypass status', () => {
  it('when an administrator with no verification and no step-up sets bypass status, then every guard refuses in turn, each audited, and Duo never hears of it', async () => {
    const form = await statusForm(ADMIN, 'heidi');
    expect(viewText(form)).toContain('Bypass turns off two-factor');
    const fill = { status: 'bypass', reason: 'Says they lost their phone' };

    const unverified = await h.driver.submitView(form, ADMIN, fill);
    expect(JSON.stringify(unverified.body)).toContain('Verify the caller first');

    await addVerification(h, ADMIN, 'heidi');
    const noCode = await h.driver.submitView(form, ADMIN, fill);
    expect(JSON.stringify(noCode.body)).toContain('step-up');

    const notEnrolled = await h.driver.submitView(form, ADMIN, { ...fill, totp: '123456' });
    expect(JSON.stringify(notEnrolled.body)).toContain('/duo mfa');

    expect(statusSets('heidi', 'bypass')).toEqual([]);
    expect(duoUser('heidi').status).toBe('active');
    expect(await approvalRows("kind = 'bypass_status'")).toEqual([]);
    const params = (await guardRefusals(ADMIN)).map((r) => r.params as { guard: string; attempted: string });
    expect(params.map((p) => [p.guard, p.attempted])).toEqual([
      ['verification', 'bypass_status'],
      ['step_up', 'bypass_status'],
      ['step_up', 'bypass_status'],
    ]);
  });

  it('when the administrator passes verification and step-up, then bypass waits for a second person: the requester cannot approve it, an approver can, and it starts as an alert', async () => {
    secrets[ADMIN] = await enrollTotp(h, ADMIN);
    nextStep(clock);
    await addVerification(h, ADMIN, 'heidi');
    const form = await statusForm(ADMIN, 'heidi');
    await h.driver.submitView(form, ADMIN, {
      status: 'bypass',
      reason: 'Lost phone, verified by push',
      totp: await totpAt(h, secrets[ADMIN]!),
    });
    const req = await eventually(
      async () => (await approvalRows("kind = 'bypass_status' and card_ts is not null"))[0],
      'the bypass status card',
    );
    expect(req).toMatchObject({ state: 'requested', policy: 'second_person' });
    expect(statusSets('heidi', 'bypass')).toEqual([]);

    // The requester's own session tries to approve it.
    nextStep(clock);
    await h.driver.clickButton({ message: cardOf(h, req.card_ts!)! }, 'Approve', ADMIN);
    await h.slack.waitFor(() => privateMessages(h, ADMIN, 'cannot decide your own request')[0]);
    const [own] = await auditRows(h, "action = 'permission.denied' and actor_user_id = ? and request_ref = ?", [
      ADMIN,
      req.id,
    ]);
    expect(own!.params).toMatchObject({ guard: 'approval', why: 'own_request', attempted: 'bypass_status.approve' });
    expect(statusSets('heidi', 'bypass')).toEqual([]);

    await approveWith(h, req.card_ts!, PEOPLE.userManager, await totpAt(h, secrets[PEOPLE.userManager]!));
    await eventually(async () => duoUser('heidi').status === 'bypass', 'heidi in bypass');
    expect(statusSets('heidi', 'bypass')).toHaveLength(1);
    const [started] = await auditRows(h, "action = 'user.status_changed' and phase = 'intent' and request_ref = ?", [
      req.id,
    ]);
    expect(started!.params).toMatchObject({ to: 'bypass', change: 'bypass_start', alert: true });
    const [outbox] = await h.runtime.db.em
      .fork()
      .getConnection()
      .execute<Array<{ alert: boolean }>>('select alert from audit_outbox where event_id = ?', [started!.id]);
    expect(outbox!.alert).toBe(true);
    await h.slack.waitFor(() => JSON.stringify(cardOf(h, req.card_ts!)!.blocks).includes('In bypass status until'));
  });

  it('when bypass status is approved for 15 minutes with two instances running, then the user returns to their previous status at the end, exactly once, audited, and the requester is told', async () => {
    const second = await h.addInstance();
    const [req] = await approvalRows("kind = 'bypass_status' and state = 'active'");
    expect(req).toBeDefined();
    // Not yet: 14 minutes in, still bypass.
    clock.advance(14 * 60_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(duoUser('heidi').status).toBe('bypass');
    // The default time box is 60 minutes: move past it; both instances' job runners race for the end.
    clock.advance(50 * 60_000);
    await eventually(async () => duoUser('heidi').status === 'active', 'heidi back to active');
    await eventually(async () => (await approvalRows('id = ?', [req.id]))[0]?.state === 'ended', 'ended');
    await new Promise((r) => setTimeout(r, 300));
    expect(statusSets('heidi', 'active')).toHaveLength(1);
    expect(await auditRows(h, "action = 'bypass_status.ended' and request_ref = ?", [req.id])).toHaveLength(1);
    await h.slack.waitFor(() => privateMessages(h, ADMIN, 'Bypass ended')[0]);
    expect(second.runtime).toBeDefined();
  });

  it('when a time-boxed bypass is active, then the requester can end it early and it is undone once', async () => {
    nextStep(clock);
    await addVerification(h, ADMIN, 'alice');
    const form = await statusForm(ADMIN, 'alice');
    await h.driver.submitView(form, ADMIN, {
      status: 'bypass',
      reason: 'Travelling, verified',
      totp: await totpAt(h, secrets[ADMIN]!),
      duration: '15 minutes',
    });
    const req = await eventually(
      async () => (await approvalRows("kind = 'bypass_status' and state = 'requested' and card_ts is not null"))[0],
      'the alice request',
    );
    nextStep(clock);
    await approveWith(h, req.card_ts!, PEOPLE.userManager, await totpAt(h, secrets[PEOPLE.userManager]!));
    await eventually(async () => duoUser('alice').status === 'bypass', 'alice in bypass');
    const notice = await h.slack.waitFor(() =>
      privateMessages(h, ADMIN, 'approval_end').find((m) => JSON.stringify(m.blocks).includes('`alice`')),
    );
    await h.driver.clickButton({ message: notice }, 'End it now', ADMIN);
    await eventually(async () => duoUser('alice').status === 'active', 'alice back');
    expect(statusSets('alice', 'active')).toHaveLength(1);
    const ended = await eventually(
      async () => (await auditRows(h, "action = 'bypass_status.ended' and request_ref = ?", [req.id]))[0],
      'the end audited',
    );
    expect(ended).toMatchObject({ actor_user_id: ADMIN, params: { why: 'early' } });
  });
});

describe('changes that weaken the controls', () => {
  async function settingForm(userId: string, name: string) {
    const home = await openRolesHome(h, userId);
    await clickAction(h, { view: home.id }, ACTIONS.settingsEdit, userId, { match: name });
    return topView(h, userId, VIEWS.settingEdit);
  }

  it('when the only owner weakens a setting, then it asks for step-up, and then takes effect only after the announced delay', async () => {
    const form = await settingForm(PEOPLE.owner, 'bypass_approval_required');
    const noCode = await h.driver.submitView(form, PEOPLE.owner, { Value: 'all_but_owner' });
    expect(JSON.stringify(noCode.body)).toContain('step-up');
    expect((await guardRefusals(PEOPLE.owner)).at(-1)!.params).toMatchObject({
      guard: 'step_up',
      attempted: 'weakening_setting',
    });

    nextStep(clock);
    const r = await h.driver.submitView(form, PEOPLE.owner, {
      Value: 'all_but_owner',
      'Code from your authenticator app': await totpAt(h, secrets[PEOPLE.owner]!),
      Why: 'Owners handle their own emergencies',
    });
    expect(r.status).toBe(200);
    const [req] = await eventually(async () => {
      const rows = await approvalRows("kind = 'setting_change' and state = 'scheduled'");
      return rows.length ? rows : undefined;
    }, 'the scheduled change');
    expect(req.policy).toBe('delay');
    expect((await loadSettings(h.runtime.db.em.fork(), TEAM)).bypass_approval_required).toBe('all');
    const [announced] = await auditRows(h, "action = 'setting_change.requested' and request_ref = ?", [req.id]);
    expect(announced!.params).toMatchObject({ alert: true, policy: 'delay' });

    clock.advance(23 * 3600_000);
    await new Promise((r) => setTimeout(r, 300));
    expect((await loadSettings(h.runtime.db.em.fork(), TEAM)).bypass_approval_required).toBe('all');
    clock.advance(3600_000 + 60_000);
    await eventually(
      async () => (await loadSettings(h.runtime.db.em.fork(), TEAM)).bypass_approval_required === 'all_but_owner',
      'the change after its delay',
    );
    const [changed] = await auditRows(h, "action = 'setting.changed' and request_ref = ?", [req.id]);
    expect(changed).toMatchObject({ actor_user_id: 'duo-desk', params: { after: 'all_but_owner' } });
  });

  it('when a delay-scheduled weakening change is waiting, then any owner can cancel it and it never takes effect', async () => {
    nextStep(clock);
    const form = await settingForm(PEOPLE.owner, 'verification_valid_minutes_bypass');
    await h.driver.submitView(form, PEOPLE.owner, {
      Value: '0',
      'Code from your authenticator app': await totpAt(h, secrets[PEOPLE.owner]!),
    });
    const req = await eventually(
      async () => (await approvalRows("kind = 'setting_change' and state = 'scheduled'"))[0],
      'the scheduled change',
    );
    await h.driver.clickButton({ message: cardOf(h, req.card_ts!)! }, 'Cancel this change', PEOPLE.owner);
    await eventually(async () => (await approvalRows('id = ?', [req.id]))[0]?.state === 'cancelled', 'cancelled');
    clock.advance(25 * 3600_000);
    await new Promise((r) => setTimeout(r, 300));
    expect((await loadSettings(h.runtime.db.em.fork(), TEAM)).verification_valid_minutes_bypass).toBe(10);
  });

  it('when a second owner exists, then a weakening change waits for that owner, who approves it after step-up', async () => {
    await h.grant(OWNER2, 'owner');
    secrets[OWNER2] = await enrollTotp(h, OWNER2);
    nextStep(clock);
    const form = await settingForm(PEOPLE.owner, 'max_bypass_requests_per_responder_per_day');
    await h.driver.submitView(form, PEOPLE.owner, {
      Value: '40',
      'Code from your authenticator app': await totpAt(h, secrets[PEOPLE.owner]!),
    });
    const req = await eventually(
      async () => (await approvalRows("kind = 'setting_change' and state = 'requested'"))[0],
      'the change waiting for the second owner',
    );
    expect(req.policy).toBe('second_owner');
    // An administrator with the approver role rights for bypass cannot approve a weakening change.
    nextStep(clock);
    await h.driver.clickButton({ message: cardOf(h, req.card_ts!)! }, 'Approve', ADMIN);
    await h.slack.waitFor(() => privateMessages(h, ADMIN, 'only another Owner can approve it')[0]);
    await approveWith(h, req.card_ts!, OWNER2, await totpAt(h, secrets[OWNER2]!));
    await eventually(
      async () => (await loadSettings(h.runtime.db.em.fork(), TEAM)).max_bypass_requests_per_responder_per_day === 40,
      'the approved change',
    );
    await h.revoke(OWNER2);
  });

  it('when an administrator grants the approver flag, or an owner grants it to a Read-only responder, then it is refused and nobody becomes an approver', async () => {
    const home = await openRolesHome(h, ADMIN);
    await clickAction(h, { view: home.id }, ACTIONS.rolesEdit, ADMIN, { match: PEOPLE.helpDesk });
    const edit = await topView(h, ADMIN, VIEWS.roleEdit);
    const r = await h.driver.submitView(edit, ADMIN, {
      Role: 'Help Desk',
      'Two-person approval': 'Approver',
    });
    expect(JSON.stringify(r.body)).toContain('Only owners grant the approver flag.');

    const ownerHome = await openRolesHome(h, PEOPLE.owner);
    await clickAction(h, { view: ownerHome.id }, ACTIONS.rolesEdit, PEOPLE.owner, { match: PEOPLE.readOnly });
    const ownerEdit = await topView(h, PEOPLE.owner, VIEWS.roleEdit);
    nextStep(clock);
    const r2 = await h.driver.submitView(ownerEdit, PEOPLE.owner, {
      Role: 'Read-only',
      'Two-person approval': 'Approver',
      'Code from your authenticator app': await totpAt(h, secrets[PEOPLE.owner]!),
    });
    expect(JSON.stringify(r2.body)).toContain('can never be approvers');
    const flagged = await h.runtime.db.em
      .fork()
      .getConnection()
      .execute<Array<{ user_id: string }>>('select user_id from responder where approver and user_id in (?, ?)', [
        PEOPLE.helpDesk,
        PEOPLE.readOnly,
      ]);
    expect(flagged).toEqual([]);
    expect(await approvalRows("kind = 'responder_change'")).toEqual([]);
  });
});

describe('a new kind of guarded change', () => {
  it('when a kind brings only its parameters, executor and card text, then the engine gives it the card, the approval with step-up and one execution', async () => {
    const em = h.runtime.db.em.fork();
    const caller = callerOf(PEOPLE.helpDesk);
    const actor = await requireActor(h.runtime.deps, em, caller);
    const submitted = await submitRequest(
      h.runtime.deps,
      em,
      caller,
      actor,
      slackApprovalNotices(h.runtime.deps, h.runtime.slack.notifier),
      {
        kind: widgetKind,
        params: { widgets: 3 },
        policy: 'second_person',
        target: null,
        reason: 'The team needs widgets',
        ticket: null,
        requestChannel: CHANNELS.helpdesk,
        verificationId: null,
        delayHours: 24,
      },
    );
    expect(submitted.outcome).toBe('pending');
    const card = cardOf(h, submitted.request.card!.ts)!;
    expect(JSON.stringify(card.blocks)).toContain('Widgets requested');
    nextStep(clock);
    await approveWith(h, submitted.request.card!.ts, PEOPLE.userManager, await totpAt(h, secrets[PEOPLE.userManager]!));
    await eventually(async () => (await approvalRows('id = ?', [submitted.request.id]))[0]?.state === 'done', 'done');
    expect(executed).toEqual([submitted.request.id]);
    await h.slack.waitFor(() =>
      JSON.stringify(cardOf(h, submitted.request.card!.ts)!.blocks).includes('3 widgets made.'),
    );
    expect(
      await auditRows(h, "action = 'test_widgets.approved' and request_ref = ?", [submitted.request.id]),
    ).toHaveLength(1);
  });
});
