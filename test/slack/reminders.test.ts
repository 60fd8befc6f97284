import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Responder } from '../../src/db/entities.js';
import {
  addVerification,
  enrollTotp,
  eventually,
  messageText,
  privateMessages,
  waitForView,
} from '../support/bypass-kit.js';
import { CHANNELS, type Harness, PEOPLE, startHarness, TEAM } from '../support/harness.js';

/**
 * Approval reminders: at half the approval timeout (30 minutes by default) the approvers who can decide now are
 * reminded in the card's thread; the requester is told when nobody can decide (no approver enrolled in step-up,
 * or the requester is the only possible approver).
 */
const clock = new ManualClock();
let h: Harness;

interface Row {
  id: string;
  card_ts: string | null;
  created_at: Date;
  expires_at: Date;
}
const requests = () =>
  h.runtime.db.em
    .fork()
    .getConnection()
    .execute<Row[]>(`select id, card_ts, created_at, expires_at from approval_request order by created_at, id`);
const reminderJobs = (id: string) =>
  h.runtime.db.em
    .fork()
    .getConnection()
    .execute<Array<{ status: string; run_at: Date; payload: { phase: string } }>>(
      `select status, run_at, payload from job where kind = 'approval.remind' and payload->>'requestId' = ? order by id`,
      [id],
    );

/** `/duo bypass <username>` by `requester`, submitted; resolves with the new request once its card is posted. */
async function requestBypass(requester: string, username: string): Promise<Row> {
  const known = new Set((await requests()).map((r) => r.id));
  await addVerification(h, requester, username);
  const before = h.slack.views(requester).length;
  await h.driver.command(requester, `bypass ${username}`);
  const form = await waitForView(h, requester, 'bypass_modal', before, 'Reason');
  await h.driver.submitView(form, requester, { Reason: 'Caller lost their phone, verified by push' });
  return eventually(
    async () => (await requests()).find((r) => !known.has(r.id) && r.card_ts),
    `request for ${username}`,
  );
}
const checked = (id: string) =>
  eventually(
    async () => (await reminderJobs(id)).find((j) => j.payload.phase === 'check' && j.status === 'done'),
    'check',
  );
const threadOf = (ts: string) => h.slack.messages(CHANNELS.approvals).filter((m) => m.threadTs === ts);

describe('approval reminders', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    h = await startHarness({ clock });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('when no approver has enrolled in step-up, then the requester is told at once that nobody can approve', async () => {
    const r = await requestBypass(PEOPLE.helpDesk, 'bob');
    await checked(r.id);
    const told = await h.slack.waitFor(() => privateMessages(h, PEOPLE.helpDesk, 'Nobody can approve your request')[0]);
    expect(messageText(told)).toContain('no approver has enrolled in TOTP step-up');
    expect(messageText(told)).toContain('`bob`');
  });

  it('when half of the approval timeout has passed, then the approvers who can decide are reminded in the card thread, not the requester', async () => {
    await enrollTotp(h, PEOPLE.userManager);
    const r = await requestBypass(PEOPLE.helpDesk, 'heidi');
    await checked(r.id);
    expect(
      privateMessages(h, PEOPLE.helpDesk, 'Nobody can approve your request').map(messageText).join(),
    ).not.toContain('`heidi`');
    const jobs = await reminderJobs(r.id);
    const remind = jobs.find((j) => j.payload.phase === 'remind')!;
    const half = (new Date(r.expires_at).getTime() - new Date(r.created_at).getTime()) / 2;
    expect(new Date(remind.run_at).getTime() - new Date(r.created_at).getTime()).toBe(half);
    expect(threadOf(r.card_ts!)).toHaveLength(0);
    clock.advance(half + 1000);
    const reminder = await h.slack.waitFor(() => threadOf(r.card_ts!)[0], { description: 'reminder in the thread' });
    const text = messageText(reminder);
    expect(text).toContain('Still waiting for a decision');
    expect(text).toContain(`<@${PEOPLE.userManager}>`);
    // The requester cannot approve their own request; the owner has no step-up yet.
    expect(text).not.toContain(`<@${PEOPLE.helpDesk}>`);
    expect(text).not.toContain(`<@${PEOPLE.owner}>`);
  });

  it('when the request was decided before half of its timeout, then no reminder is posted', async () => {
    const r = await requestBypass(PEOPLE.helpDesk, 'bob');
    await checked(r.id);
    const card = h.slack.message(CHANNELS.approvals, r.card_ts!)!;
    const before = h.slack.views(PEOPLE.userManager).length;
    await h.driver.clickButton({ message: card }, 'Deny', PEOPLE.userManager);
    const modal = await waitForView(h, PEOPLE.userManager, 'deny_modal', before);
    await h.driver.submitView(modal, PEOPLE.userManager, { Why: 'Caller could not confirm their employee number' });
    await h.slack.waitFor(() => messageText(h.slack.message(CHANNELS.approvals, r.card_ts!)).includes('Denied by'));
    clock.advance(31 * 60_000);
    await eventually(
      async () => (await reminderJobs(r.id)).find((j) => j.payload.phase === 'remind' && j.status === 'done'),
      'the reminder job ran',
    );
    expect(threadOf(r.card_ts!)).toHaveLength(0);
  });

  it('when the requester is the only one who could approve, then they are told so', async () => {
    // Only the user manager holds the approver flag: the owner is made a help-desk responder for this test.
    const em = h.runtime.db.em.fork();
    await em.nativeUpdate(Responder, { teamId: TEAM, userId: PEOPLE.owner }, { role: 'help_desk', approver: false });
    const r = await requestBypass(PEOPLE.userManager, 'niaj');
    await checked(r.id);
    const told = await h.slack.waitFor(
      () => privateMessages(h, PEOPLE.userManager, 'Nobody can approve your request')[0],
    );
    expect(messageText(told)).toContain('you are the only one who could approve it');
    await em.nativeUpdate(Responder, { teamId: TEAM, userId: PEOPLE.owner }, { role: 'owner', approver: true });
  });
});
