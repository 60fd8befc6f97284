import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.js';
import { shortLink } from '../../src/audit/chain.js';
import { AUDIT_METADATA_EVENT } from '../../src/audit/relay.js';
import { auditRowById } from '../../src/audit/store.js';
import { verifyAuditChain } from '../../src/audit/verify.js';
import { createRelayClient, SlackChannelPoster } from '../../src/slack/channel-poster.js';
import { auditEventMessage } from '../../views/audit-event.js';
import { auditEventIdOf as eventIdOf, until } from '../support/audit.js';
import { CHANNELS, type Harness, PEOPLE, startHarness, TEAM } from '../support/harness.js';

/**
 * The audit-channel mirror through the whole runtime: a backlog built while the relay is down,
 * Slack answering 500 and 429, the bot restarting mid-backlog, and a post that reached Slack although
 * the bot crashed before storing its ts. Every event must appear once, in order, with its ts stored.
 * (The fake cannot post and then answer 500, so that crash is played by posting the way the relay
 * does and leaving the outbox row in "sending".)
 */
let h: Harness;
/** The instance whose job runner is live. */
let current: Runtime;
beforeAll(async () => {
  h = await startHarness();
  current = h.runtime;
});
afterAll(async () => {
  await h?.close();
});

const sql = <T = Record<string, unknown>>(q: string, params: unknown[] = []) =>
  h.runtime.db.em.fork().getConnection().execute<T[]>(q, params);

const auditMessages = () => h.slack.messages(CHANNELS.audit).filter((m) => eventIdOf(m) !== undefined);
const eventIds = async () =>
  (await sql<{ id: string }>('select id from audit_event where team_id = ? order by seq', [TEAM])).map((r) =>
    Number(r.id),
  );
const unposted = async () =>
  Number((await sql<{ n: string }>(`select count(*) as n from audit_outbox where status <> 'posted'`))[0]!.n);

describe('audit channel relay', () => {
  it('when Slack rate-limits and fails during a backlog and the bot restarts midway, then every event is posted once, in order, with its ts stored', async () => {
    // 1. The relay drains a first batch (after the harness's own grants).
    const setUp = (await eventIds()).length;
    for (const who of [PEOPLE.helpDesk, PEOPLE.owner, PEOPLE.readOnly]) await h.driver.command(who, 'help');
    await until(async () => (await unposted()) === 0 && auditMessages().length === setUp + 3, 'the first batch');

    // 2. Slack fails (500, ambiguous) on the next event; the bot goes down right after.
    h.slack.failNext('chat.postMessage', { status: 500 });
    await h.driver.command(PEOPLE.helpDesk, 'lookup bob');
    await h.slack.waitFor(() => h.slack.callsTo('chat.postMessage').find((c) => c.fault && 'status' in c.fault));
    await current.jobs.stop();

    // 3. A backlog builds while it is down.
    for (const who of [PEOPLE.userManager, PEOPLE.helpDesk, PEOPLE.owner]) await h.driver.command(who, 'help');
    await h.driver.command(PEOPLE.owner, 'lookup alice');
    // 3 + 1 + 3 + 1 events: one per command (a lookup records its own after the ack)
    const ids = await until(async () => {
      const all = await eventIds();
      return all.length === setUp + 8 && all;
    }, 'the backlog events');

    // 4. Slack rate-limits the first posts after the restart; another instance takes over.
    h.slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const postsBefore = h.slack.callsTo('chat.postMessage').length;
    current = (await h.addInstance()).runtime;
    await until(async () => (await unposted()) === 0, 'the backlog to drain');

    // Every event once, in seq order.
    const messages = auditMessages();
    expect(messages.map(eventIdOf)).toEqual(ids);
    // The ts of each message is stored with its event.
    const outbox = await sql<{ event_id: string; status: string; posted_ts: string; posted_channel: string }>(
      'select event_id, status, posted_ts, posted_channel from audit_outbox order by seq',
    );
    expect(outbox.map((r) => Number(r.event_id))).toEqual(ids);
    for (const r of outbox) {
      expect(r.status).toBe('posted');
      expect(r.posted_channel).toBe(CHANNELS.audit);
      expect(r.posted_ts).toBe(messages.find((m) => eventIdOf(m) === Number(r.event_id))!.ts);
    }

    // The 429 was honoured: the next post came after Retry-After.
    const after = h.slack.callsTo('chat.postMessage').slice(postsBefore);
    const limited = after.findIndex((c) => c.fault && 'status' in c.fault && c.fault.status === 429);
    expect(limited).toBeGreaterThanOrEqual(0);
    expect(after[limited + 1]!.at - after[limited]!.at).toBeGreaterThanOrEqual(950);

    // Readable: who, what, whom, outcome, when.
    const lookup = messages.find((m) => m.text?.includes('looked up *alice*'));
    expect(lookup?.text).toMatch(
      /^:white_check_mark: <@U123> \(Owner\) looked up \*alice\*: \*success\* \(#\d+, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, link [0-9a-f]{16}\)$/,
    );
    expect((await verifyAuditChain(h.runtime.db.em.fork(), h.runtime.deps.audit.keyring)).ok).toBe(true);
  });

  it('when the bot crashed after Slack accepted a post, then the restart finds that message and does not post it again', async () => {
    await current.jobs.stop();
    const before = (await eventIds()).length;
    await h.driver.command(PEOPLE.owner, 'help');
    const ids = await until(async () => {
      const all = await eventIds();
      return all.length === before + 1 && all;
    }, 'the new event');
    // What the relay does for the head of the queue, then "crashes" before storing the ts.
    const head = (await auditRowById(h.runtime.db.em.fork(), ids.at(-1)!))!;
    await sql(
      `update audit_outbox set status = 'sending', attempts = attempts + 1, updated_at = now() where event_id = ?`,
      [head.id],
    );
    const cfg = h.runtime.deps.config;
    const poster = new SlackChannelPoster(createRelayClient(webApi.WebClient, cfg.slack.botToken!, cfg.slack.apiUrl));
    const { ts } = await poster.post(CHANNELS.audit, {
      ...auditEventMessage(head),
      metadata: {
        event_type: AUDIT_METADATA_EVENT,
        event_payload: { event_id: head.id, team_id: head.teamId, seq: head.seq, link: shortLink(head.hash) },
      },
    });
    const postsBefore = h.slack.callsTo('chat.postMessage').length;

    current = (await h.addInstance()).runtime;
    await until(async () => (await unposted()) === 0, 'the outbox to settle');
    expect(auditMessages().map(eventIdOf)).toEqual(ids);
    expect(h.slack.callsTo('chat.postMessage').slice(postsBefore)).toHaveLength(0);
    const [row] = await sql<{ posted_ts: string }>('select posted_ts from audit_outbox where event_id = ?', [head.id]);
    expect(row!.posted_ts).toBe(ts);

    // and one more restart with nothing new posts nothing
    const again = await h.addInstance();
    await again.runtime.jobs.drain();
    expect(auditMessages().map(eventIdOf)).toEqual(ids);
  });
});
