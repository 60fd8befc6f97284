import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows } from '../support/audit.js';
import { eventually } from '../support/bypass-kit.js';
import { type Harness, PEOPLE, startHarness } from '../support/harness.js';

/**
 * Someone who captured a signed request (a proxy log, a compromised load balancer) sends it again within
 * Slack's five-minute signature window; Slack itself retries requests it thinks were lost. Either way the
 * bot must act once, on whichever instance the copies reach, and answer the others with an empty 200.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const pushesSent = () => h.duo.requests().filter((r) => r.path.endsWith('/send_verification_push')).length;
const replays = () => auditRows(h, "action = 'request.replayed'");
const intents = (action: string) => auditRows(h, "action = ? and phase = 'intent'", [action]);

describe('replayed requests', () => {
  it('when the same signed slash command is sent three times within 5 minutes, then it acts once (one Duo call, one audit row for the action) and the other two are answered and audited as replays', async () => {
    const pushesBefore = pushesSent();
    await h.driver.command(PEOPLE.helpDesk, 'verify alice');
    const captured = h.driver.lastSent()!;
    await eventually(async () => pushesSent() > pushesBefore, 'the first push');
    const before = (await replays()).length;

    const again = [await h.driver.resend(captured), await h.driver.resend(captured)];
    expect(again.map((r) => r.status)).toEqual([200, 200]);
    expect(again.map((r) => r.body)).toEqual([undefined, undefined]);

    // The answer goes out first; the audit row follows.
    const rows = await eventually(async () => {
      const r = (await replays()).slice(before);
      return r.length === 2 && r;
    }, 'two replays audited');
    for (const r of rows) {
      expect(r).toMatchObject({ actor_user_id: PEOPLE.helpDesk, outcome: 'denied' });
      expect(r.params).toMatchObject({ matched: 'signature', request: 'slash_command', slackRetry: false });
    }
    expect(pushesSent()).toBe(pushesBefore + 1);
    expect(await intents('verification.sent')).toHaveLength(1);
  });

  it('when copies of one captured command reach two instances at the same moment, then exactly one acts', async () => {
    const second = await h.addInstance();
    const looked = async () => (await auditRows(h, "action = 'user.lookup' and target_username = 'erin'")).length;
    const replaysBefore = (await replays()).length;
    // Captured, never delivered: the attacker holds the only copies.
    const captured = await captureCommand(PEOPLE.helpDesk, 'lookup erin');
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? second.driver : h.driver).resend(captured)),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    await eventually(async () => (await looked()) > 0, 'the one lookup');
    await eventually(async () => (await replays()).length - replaysBefore === 5, 'five replays audited');
    expect(await looked()).toBe(1);
  });

  it('when Slack retries a command it thinks was lost (X-Slack-Retry-Num, signed again), then the handler does not run twice and the retry is audited', async () => {
    const looked = async () => (await auditRows(h, "action = 'user.lookup'")).length;
    const before = await looked();
    await h.driver.command(PEOPLE.helpDesk, 'lookup carol');
    const original = h.driver.lastSent()!;
    await eventually(async () => (await looked()) > before, 'the lookup');
    const replaysBefore = (await replays()).length;
    // Slack's first retry, a minute later: a new timestamp, so a new signature; the same trigger_id.
    const retry = await h.driver.resend(original, {
      resignAt: Number(original.headers['x-slack-request-timestamp']) + 60,
      headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' },
    });
    expect(retry.status).toBe(200);
    const [row] = await eventually(async () => {
      const r = (await replays()).slice(replaysBefore);
      return r.length > 0 && r;
    }, 'the retry audited');
    expect(row!.params).toMatchObject({ matched: 'trigger_id', slackRetry: true, retryNum: 1 });
    expect(await looked()).toBe(before + 1);
  });

  it('when a request was never seen before, then a retry header alone does not stop it', async () => {
    const looked = async () => (await auditRows(h, "action = 'user.lookup'")).length;
    const before = await looked();
    const captured = await captureCommand(PEOPLE.helpDesk, 'lookup dave');
    await h.driver.resend(captured, {
      resignAt: Number(captured.headers['x-slack-request-timestamp']) + 60,
      headers: { 'x-slack-retry-num': '2' },
    });
    await eventually(async () => (await looked()) > before, 'the lookup from the first copy that arrived');
  });
});

/** A signed command as Slack would send it, captured before it reached the bot (sent to a closed port). */
async function captureCommand(userId: string, text: string) {
  const { SlackDriver } = await import('@duo-desk/slack-testbed');
  const nowhere = new SlackDriver({ slack: h.slack, signingSecret: h.signingSecret, eventsUrl: 'http://127.0.0.1:9/' });
  await nowhere.command(userId, text).catch(() => undefined);
  return nowhere.lastSent()!;
}
