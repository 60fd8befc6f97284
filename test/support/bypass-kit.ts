import { randomUUID } from 'node:crypto';
import { makePhone } from '@duo-desk/duo-sim';
import type { SlackDriver, StoredMessage, StoredView } from '@duo-desk/slack-testbed';
import { generate } from 'otplib';
import type { ManualClock } from '../../src/clock.js';
import { TotpEnrollment, Verification } from '../../src/db/entities.js';
import type { Caller } from '../../src/usecases/deps.js';
import { changeSetting } from '../../src/usecases/settings.js';
import { confirmTotpEnrollment, startTotpEnrollment } from '../../src/usecases/step-up.js';
import { followVerification } from '../../src/usecases/verify.js';
import { CHANNELS, type Harness, TEAM } from './harness.js';

/** Helpers for the bypass, codes and mfa tests: step-up enrollment through the real use cases, and waits. */
export const callerOf = (userId: string): Caller => ({ teamId: TEAM, userId, correlationId: `test-${userId}` });

export const nowSeconds = (h: Harness) => Math.floor(h.runtime.deps.clock.now().getTime() / 1000);

/** The TOTP code at the current time (shifted by `steps` 30-second steps). */
export const totpAt = (h: Harness, secret: string, steps = 0) =>
  generate({ secret, epoch: nowSeconds(h) + steps * 30 });

/**
 * Gives a Slack user their own Duo account when they have none: a Slack email, and a Duo user with that email
 * and a push phone (what step-up enrollment is bound to). The local people have theirs already.
 */
export function ensureOwnDuoAccount(h: Harness, userId: string): void {
  const slackUser = h.slack.store.user(userId);
  if (!slackUser) throw new Error(`no Slack user ${userId}`);
  const email = slackUser.email ?? `${slackUser.name}@staff.example.com`;
  if (!slackUser.email) h.slack.addUser({ ...slackUser, email });
  const username = email.split('@')[0]!;
  if (!h.duo.getUser(username))
    h.duo.addUser({
      username,
      email,
      phones: [makePhone(username, 1, 'iphone', '+15555550188', '2026-11-20T09:00:00')],
    });
}

/**
 * Enrolls the responder's authenticator through the real use cases: start, the push to the responder's own Duo
 * account approved on the simulator, confirm with a first code. Returns the secret.
 */
export async function enrollTotp(h: Harness, userId: string): Promise<string> {
  ensureOwnDuoAccount(h, userId);
  const em = h.runtime.db.em.fork();
  const e = await startTotpEnrollment(h.runtime.deps, em, callerOf(userId));
  await answerEnrollmentPush(h, e.enrollmentId, 'approve');
  await confirmTotpEnrollment(h.runtime.deps, em, callerOf(userId), await totpAt(h, e.secretForManualEntry));
  return e.secretForManualEntry;
}

/** Answers the push that confirms an enrollment, on the responder's own phone, and lets duo-desk see the answer. */
export async function answerEnrollmentPush(h: Harness, enrollmentId: string, result: 'approve' | 'deny' | 'fraud') {
  const em = h.runtime.db.em.fork();
  const enrollment = await em.findOneOrFail(TotpEnrollment, { id: enrollmentId });
  const v = await em.findOneOrFail(Verification, { id: enrollment.verificationId! });
  h.duo.answerPush(v.pushId!, result);
  await eventually(async () => (await followVerification(h.runtime.deps, em, v.id)).done, 'push answer seen');
}

/** Moves to the next TOTP step, so a fresh code exists (the last accepted step cannot be used again). */
export const nextStep = (clock: ManualClock) => clock.advance(30_000);

/** What the verify flow leaves behind after the caller approved a push (the verify flow is tested on its own). */
export async function addVerification(h: Harness, responderUserId: string, username: string): Promise<string> {
  const user = h.duo.getUser(username)!;
  const em = h.runtime.db.em.fork();
  const now = h.runtime.deps.clock.now();
  const id = randomUUID();
  em.create(Verification, {
    id,
    teamId: TEAM,
    responderUserId,
    duoUserId: user.user_id,
    username,
    phoneId: user.phones[0]?.phone_id ?? 'none',
    phoneLabel: 'test phone',
    pushId: `push-${id}`,
    status: 'approved',
    sentAt: now,
    answeredAt: now,
    validUntil: new Date(now.getTime() + 10 * 60_000),
    correlationId: 'test',
  });
  await em.flush();
  return id;
}

export const setSetting = (h: Harness, name: string, value: unknown) =>
  changeSetting(h.runtime.deps, h.runtime.db.em.fork(), { system: 'cli' }, TEAM, name, value, 'test');

export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, what: string): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`never happened: ${what}`);
}

export interface RequestRow {
  id: string;
  status: string;
  requester_user_id: string;
  decided_by: string | null;
  count: number;
  reuse_count: number;
  valid_secs: number;
  approval_ts: string | null;
  failure_reason: string | null;
  decision_note: string | null;
}

/**
 * Bypass-code requests in the columns these tests were written against (before requests moved onto the
 * approval engine): pending = requested, issued = done, approval_ts = the card's ts.
 */
const LEGACY_REQUESTS = `select id, team_id, requester_user_id, decided_by, decision_note, failure_reason, created_at,
    case state when 'requested' then 'pending' when 'done' then 'issued' else state end as status,
    (params->>'count')::int as count, (params->>'reuseCount')::int as reuse_count,
    (params->>'validSecs')::int as valid_secs, card_ts as approval_ts
  from approval_request where kind = 'bypass_codes'`;

export const requestRows = (h: Harness, where = 'true', params: unknown[] = []) =>
  h.runtime.db.em
    .fork()
    .getConnection()
    .execute<RequestRow[]>(`select * from (${LEGACY_REQUESTS}) r where ${where} order by created_at, id`, params);

export async function requestRow(h: Harness, id: string): Promise<RequestRow> {
  const [row] = await requestRows(h, 'id = ?', [id]);
  return row!;
}

/** Waits for a view that opened after `before` views of this user, with this callback_id and (optionally) text. */
export function waitForView(h: Harness, userId: string, callbackId: string, before: number, text?: string) {
  return h.slack.waitFor(
    () => {
      const v = h.slack.lastView(userId);
      const fresh = h.slack.views(userId).length > before;
      return fresh && v?.callbackId === callbackId && (!text || JSON.stringify(v.definition).includes(text))
        ? v
        : undefined;
    },
    { description: `${callbackId} view for ${userId}${text ? ` showing "${text}"` : ''}` },
  );
}

export const viewText = (v: StoredView | undefined) => JSON.stringify(v?.definition ?? {});
export const messageText = (m: StoredMessage | undefined) => JSON.stringify([m?.text ?? '', m?.blocks ?? []]);

/** The approval card of a request (its buttons carry the request id; once decided, its text names the user). */
export const cardOf = (h: Harness, approvalTs: string) => h.slack.message(CHANNELS.approvals, approvalTs);

/** Messages privately sent to `userId` (ephemeral anywhere, or in their DM) that contain `text`. */
export function privateMessages(h: Harness, userId: string, text: string): StoredMessage[] {
  const dm = h.slack.dmChannelFor(userId);
  return h.slack
    .messages()
    .filter((m) => m.ephemeralUser === userId || m.channel === dm)
    .filter((m) => messageText(m).includes(text));
}

/** Clicks Approve on the card and submits the code; returns the submission's HTTP answer. */
export async function approveWith(
  h: Harness,
  approvalTs: string,
  approverId: string,
  code: string,
  driver: SlackDriver = h.driver,
) {
  const before = h.slack.views(approverId).length;
  await driver.clickButton({ message: cardOf(h, approvalTs)! }, 'Approve', approverId);
  const modal = await waitForView(h, approverId, 'approve_modal', before);
  return driver.submitView(modal, approverId, { 'Code from your authenticator app': code });
}
