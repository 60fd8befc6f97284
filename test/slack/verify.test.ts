import type { PushAnswer } from '@duo-desk/duo-sim';
import type { StoredMessage } from '@duo-desk/slack-testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows, auditRowsText } from '../support/audit.js';
import { CHANNELS, type Harness, PEOPLE, startHarness } from '../support/harness.js';

interface Row {
  id: string;
  status: string;
  push_id: string;
  phone_id: string;
  responder_user_id: string;
  duo_user_id: string;
  message_channel: string | null;
  message_ts: string | null;
  answered_at: Date | null;
  valid_until: Date | null;
}

/** Every confirmation code the simulator issued in this file, for the secret scan at the end. */
const codes: string[] = [];

const rowsFor = (h: Harness, username: string) =>
  h.runtime.db.em
    .fork()
    .getConnection()
    .execute<Row[]>('select * from verification where username = ? order by sent_at, id', [username]);

async function eventually<T>(fn: () => Promise<T | undefined | null | false>, what: string): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`never happened: ${what}`);
}

const blocksText = (m: StoredMessage | undefined) => JSON.stringify(m?.blocks ?? []);
const viewText = (h: Harness, userId: string) => JSON.stringify(h.slack.lastView(userId)?.definition ?? {});

/** Sends `/duo verify <username>` (or runs `start`) and waits for the DM status message of the new verification. */
async function startVerify(h: Harness, userId: string, username: string, start?: () => Promise<unknown>) {
  const before = (await rowsFor(h, username)).length;
  await (start ? start() : h.driver.command(userId, `verify ${username}`));
  const row = await eventually(async () => {
    const rows = await rowsFor(h, username);
    return rows.length > before && rows.at(-1)!.message_ts ? rows.at(-1)! : undefined;
  }, `verification message for ${username}`);
  const push = h.duo.pendingPushes().find((p) => p.pushId === row.push_id);
  expect(push).toBeDefined();
  codes.push(push!.confirmationCode);
  await h.slack.waitFor(() => viewText(h, userId).includes('Push sent'), { description: 'push sent modal' });
  return { row, push: push!, message: () => h.slack.message(row.message_channel!, row.message_ts!) };
}

const waitForMessage = (h: Harness, row: Row, text: string) =>
  h.slack.waitFor(
    () => {
      const m = h.slack.message(row.message_channel!, row.message_ts!);
      return blocksText(m).includes(text) ? m : undefined;
    },
    { description: `DM shows "${text}"`, timeoutMs: 10_000 },
  );

const answered = (h: Harness, row: Row) =>
  auditRows(h, 'action = ? and request_ref = ?', ['verification.answered', row.id]);

describe('/duo verify', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ verificationPollMs: 50 });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function answerAndWait(username: string, userId: string, answer: PushAnswer, shows: string) {
    const v = await startVerify(h, userId, username);
    expect(blocksText(v.message())).toContain(v.push.confirmationCode);
    expect(v.row.status).toBe('waiting');
    h.duo.answerPush(v.push.pushId, answer);
    const final = await waitForMessage(h, v.row, shows);
    expect(blocksText(final)).not.toContain(v.push.confirmationCode);
    const [row] = (await rowsFor(h, username)).filter((r) => r.id === v.row.id);
    const audit = await answered(h, v.row);
    expect(audit).toHaveLength(1);
    return { ...v, row: row!, audit: audit[0]! };
  }

  it('when the caller approves, then the DM shows the code, then "approved", and the verification counts for unlock', async () => {
    const v = await answerAndWait('alice', PEOPLE.helpDesk, 'approve', 'approved');
    expect(v.row.message_channel).toBe(h.slack.dmChannelFor(PEOPLE.helpDesk));
    expect(v.row.status).toBe('approved');
    expect(v.row.responder_user_id).toBe(PEOPLE.helpDesk);
    expect(new Date(v.row.valid_until!).getTime() - new Date(v.row.answered_at!).getTime()).toBe(10 * 60_000);
    expect(v.audit).toMatchObject({ outcome: 'success', target_username: 'alice', actor_user_id: PEOPLE.helpDesk });
    expect(v.audit.params).toMatchObject({ result: 'approve' });
    const sent = await auditRows(h, 'action = ? and request_ref = ?', ['verification.sent', v.row.id]);
    expect(sent.map((r) => [r.phase, r.outcome])).toEqual([
      ['intent', 'pending'],
      ['outcome', 'success'],
    ]);
  });

  it('when a read-only responder verifies and the caller denies, then the DM says not verified and it is audited as failed', async () => {
    const v = await answerAndWait('dave', PEOPLE.readOnly, 'deny', 'denied');
    expect(blocksText(v.message())).toContain('not verified');
    expect(v.row.status).toBe('denied');
    expect(v.row.valid_until).toBeNull();
    expect(v.audit).toMatchObject({ outcome: 'failed', actor_role: 'read_only' });
    expect(v.audit.params).toMatchObject({ result: 'deny' });
  });

  it('when the caller reports fraud, then the DM warns of impersonation and the audit channel raises an alert', async () => {
    const v = await answerAndWait('peggy', PEOPLE.userManager, 'fraud', 'reported the push as fraud');
    expect(v.row.status).toBe('fraud');
    expect(v.audit).toMatchObject({ outcome: 'failed' });
    expect(v.audit.params).toMatchObject({ result: 'fraud', alert: true });
    const alert = await h.slack.waitFor(
      () =>
        h.slack
          .messages(CHANNELS.audit)
          .find((m) => (m.text ?? '').includes('ALERT') && (m.text ?? '').includes('peggy')),
      { description: 'fraud alert in the audit channel', timeoutMs: 10_000 },
    );
    expect(blocksText(alert)).toContain('fraud');
  });

  it('when the user has two push phones, then the responder picks one and the push goes to that phone', async () => {
    const bob = h.duo.getUser('bob')!;
    await h.driver.command(PEOPLE.owner, 'verify bob');
    const picker = await h.slack.waitFor(() => {
      const v = h.slack.lastView(PEOPLE.owner);
      return v?.callbackId === 'verify_pick_modal' ? v : undefined;
    });
    expect(h.duo.pendingPushes().filter((p) => p.username === 'bob')).toHaveLength(0);
    const second = bob.phones[1]!;
    const v = await startVerify(h, PEOPLE.owner, 'bob', () =>
      h.driver.submitView(picker, PEOPLE.owner, { phone: { value: second.phone_id } }),
    );
    expect(v.push.phoneId).toBe(second.phone_id);
    expect(v.row.phone_id).toBe(second.phone_id);
    h.duo.answerPush(v.push.pushId, 'approve');
    await waitForMessage(h, v.row, 'approved');
  });

  it('when the user has no device that takes a push, then the responder gets why and the safe alternatives, and nothing is sent', async () => {
    for (const username of ['heidi', 'ivan', 'mallory', 'grace']) {
      await h.driver.command(PEOPLE.helpDesk, `verify ${username}`);
      const text = await h.slack.waitFor(() => {
        const t = viewText(h, PEOPLE.helpDesk);
        return t.includes(`(${username})`) && t.includes('no phone that can receive') ? t : undefined;
      });
      expect(text).toContain('call back on the number in the HR records');
      expect(text).toContain('Make no change');
      expect(await rowsFor(h, username)).toHaveLength(0);
    }
    expect(viewText(h, PEOPLE.helpDesk)).toContain('No email address on file');
    expect(h.duo.requests().filter((r) => r.path.includes('send_verification_push') && r.status === 200)).toHaveLength(
      codes.length,
    );
  });

  it('when the Verify button on a user card is clicked, then the push is sent for that user', async () => {
    const before = h.slack.calls.length;
    await h.driver.command(PEOPLE.owner, 'lookup victor');
    const card = await h.slack.waitFor(() =>
      h.slack.calls.slice(before).find((c) => c.method === 'response_url' && JSON.stringify(c.args).includes('Verify')),
    );
    const message = await h.slack.waitFor(() =>
      h.slack.messages().findLast((m) => m.via === 'response_url' && blocksText(m).includes('(victor)')),
    );
    expect(card).toBeDefined();
    const v = await startVerify(h, PEOPLE.owner, 'victor', () =>
      h.driver.clickButton({ message }, 'Verify with Duo Push', PEOPLE.owner),
    );
    expect(v.row.duo_user_id).toBe(h.duo.getUser('victor')!.user_id);
    h.duo.answerPush(v.push.pushId, 'approve');
    await waitForMessage(h, v.row, 'approved');
  });

  it('when someone who is not a responder tries to verify, then they are refused and no push is sent', async () => {
    const r = await h.driver.command(PEOPLE.stranger, 'verify alice');
    expect(JSON.stringify(r.body)).toContain('not a duo-desk responder');
    expect(h.slack.lastView(PEOPLE.stranger)).toBeUndefined();
    expect(h.duo.pendingPushes()).toHaveLength(0);
  });

  it('when Duo fails on send, then the modal says so clearly and no verification is left waiting', async () => {
    h.duo.injectFault({ kind: 'server_error', path: /send_verification_push$/, method: 'POST', times: 5 });
    await h.driver.command(PEOPLE.helpDesk, 'verify trent');
    const text = await h.slack.waitFor(() => {
      const t = viewText(h, PEOPLE.helpDesk);
      return t.includes('Duo is unreachable') ? t : undefined;
    });
    expect(text).not.toContain('hourglass');
    h.duo.clearFaults();
    expect(await rowsFor(h, 'trent')).toHaveLength(0);
    const sent = await auditRows(h, 'action = ? and target_username = ?', ['verification.sent', 'trent']);
    expect(sent.at(-1)).toMatchObject({ phase: 'outcome' });
    expect(['failed', 'unknown']).toContain(sent.at(-1)!.outcome);
  });

  it('when Duo fails while the answer is awaited, then the follower retries and still gets the answer', async () => {
    const v = await startVerify(h, PEOPLE.helpDesk, 'walter');
    h.duo.injectFault({ kind: 'server_error', path: /verification_push_response$/, method: 'GET', times: 3 });
    await h.slack.waitFor(() =>
      h.duo.requests().filter((r) => r.path.endsWith('verification_push_response') && r.status === 500).length >= 3
        ? true
        : undefined,
    );
    h.duo.answerPush(v.push.pushId, 'approve');
    await waitForMessage(h, v.row, 'approved');
    expect(await answered(h, v.row)).toHaveLength(1);
  });

  it('when the bot restarts with a push pending, then another instance picks it up and the result lands', async () => {
    const v = await startVerify(h, PEOPLE.helpDesk, 'niaj');
    await h.runtime.jobs.stop();
    h.duo.answerPush(v.push.pushId, 'approve');
    expect((await rowsFor(h, 'niaj')).at(-1)!.status).toBe('waiting');
    await h.addInstance();
    await waitForMessage(h, v.row, 'approved');
    expect((await rowsFor(h, 'niaj')).at(-1)!.status).toBe('approved');
    expect(await answered(h, v.row)).toHaveLength(1);
    h.runtime.jobs.start();
  });

  it('when all is done, then each confirmation code was only ever in the responder DM, never in audit rows, logs or the audit channel', async () => {
    expect(codes.length).toBeGreaterThanOrEqual(6);
    const audit = await auditRowsText(h);
    const logs = h.logger.lines.join('\n');
    const auditChannel = JSON.stringify(h.slack.messages(CHANNELS.audit));
    for (const code of codes) {
      const re = new RegExp(`\\b${code}\\b`);
      expect(audit).not.toMatch(re);
      expect(logs).not.toMatch(re);
      expect(auditChannel).not.toMatch(re);
      const carriers = h.slack.calls.filter((c) => re.test(JSON.stringify(c.args)));
      expect(carriers.map((c) => c.method)).toEqual(['chat.postMessage']);
      expect(String(carriers[0]!.args.channel)).toMatch(/^D/);
    }
  });
});

describe('/duo verify when nobody answers', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ pushTimeoutMs: 1500, verificationPollMs: 50 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('when the push is not answered in the window, then the DM says timed out and it is audited as failed', async () => {
    const v = await startVerify(h, PEOPLE.helpDesk, 'alice');
    const final = await waitForMessage(h, v.row, 'No answer within 120 seconds');
    expect(blocksText(final)).not.toContain(v.push.confirmationCode);
    expect((await rowsFor(h, 'alice')).at(-1)!.status).toBe('timed_out');
    const [audit] = await answered(h, v.row);
    expect(audit).toMatchObject({ outcome: 'failed' });
    expect(audit!.params).toMatchObject({ result: 'timeout' });
  });
});
