import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCheckpoint } from '../../src/audit/checkpoint.js';
import {
  CHECKPOINT_MAX_AGE_MS,
  CHECKPOINT_METADATA_EVENT,
  type ChannelPoster,
  createAuditRelay,
  SlackRateLimitedError,
} from '../../src/audit/relay.js';
import { AuditTrail } from '../../src/audit/trail.js';
import { ManualClock } from '../../src/clock.js';
import type { Database } from '../../src/db/database.js';
import { createMemoryLogger } from '../../src/log.js';
import { auditCheckpointMessage, auditEventMessage } from '../../views/audit-event.js';
import { testKeyring } from '../support/audit-key.js';
import { freshDatabase } from '../support/db.js';

/** The relay job's decisions with a poster the test controls (the end-to-end runs are in relay.test.ts). */
let db: Database & { drop(): Promise<void> };
const clock = new ManualClock();
const trail = new AuditTrail(clock, testKeyring());
const logger = createMemoryLogger('debug');
const TEAM = 'T0RELAY01';
const CHANNEL = 'C0AUDIT01';

beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db?.drop();
});

function poster(overrides: Partial<ChannelPoster>): ChannelPoster & { posts: number[] } {
  const posts: number[] = [];
  return {
    posts,
    post: async (_channel, message) => {
      posts.push(Number(message.metadata.event_payload.event_id));
      return { ts: `1700000000.${String(posts.length).padStart(6, '0')}` };
    },
    findPosted: async () => undefined,
    ...overrides,
  };
}

const outbox = async (eventId: number) =>
  (
    await db.em
      .fork()
      .getConnection()
      .execute<Array<{ status: string; posted_ts: string | null }>>(
        'select status, posted_ts from audit_outbox where event_id = ?',
        [eventId],
      )
  )[0]!;

async function newEvent(): Promise<number> {
  const r = await trail.record(db.em.fork(), {
    teamId: TEAM,
    actor: { userId: 'U123', role: 'owner' },
    action: 'user.lookup',
    outcome: 'success',
  });
  return r.id;
}

const relay = (p: ChannelPoster, paceMs = 0) =>
  createAuditRelay({
    channel: CHANNEL,
    poster: p,
    render: auditEventMessage,
    renderCheckpoint: auditCheckpointMessage,
    audit: trail,
    clock,
    paceMs,
  });
const ctx = () => ({
  jobId: 1,
  attempt: 1,
  em: db.em.fork(),
  logger,
  signal: new AbortController().signal,
  extendLease: async () => {},
});
const run = (p: ChannelPoster) => relay(p)({ teamId: TEAM }, ctx());

describe('audit relay job', () => {
  it('when Slack cannot be asked whether an ambiguous post landed, then the job waits and retries instead of failing', async () => {
    const id = await newEvent();
    await db.em
      .fork()
      .getConnection()
      .execute(`update audit_outbox set status = 'sending', attempts = 1 where event_id = ?`, [id]);
    const down = poster({
      findPosted: async () => {
        throw new Error('An HTTP protocol error occurred: statusCode = 500');
      },
    });
    const result = await run(down);
    expect(result?.runAgainAt.getTime()).toBeGreaterThan(clock.now().getTime());
    expect(down.posts).toEqual([]);
    expect((await outbox(id)).status).toBe('sending');

    const up = poster({});
    await run(up);
    expect(up.posts).toEqual([id]);
    expect(await outbox(id)).toEqual({ status: 'posted', posted_ts: '1700000000.000001' });
  });

  it('when Slack answers 429, then the event goes back to pending and the job comes back after Retry-After', async () => {
    const id = await newEvent();
    const limited = poster({
      post: async () => {
        throw new SlackRateLimitedError(7);
      },
    });
    const result = await run(limited);
    expect(result?.runAgainAt.getTime()).toBe(clock.now().getTime() + 7000);
    expect((await outbox(id)).status).toBe('pending');
  });

  it('when an ambiguous post did land, then it is found and not posted again', async () => {
    const pending = await db.em
      .fork()
      .getConnection()
      .execute<Array<{ event_id: string }>>(`select event_id from audit_outbox where status <> 'posted'`);
    const id = Number(pending[0]!.event_id);
    await db.em.fork().getConnection().execute(`update audit_outbox set status = 'sending' where event_id = ?`, [id]);
    const p = poster({ findPosted: async (_c, match) => (match.value === id ? '1700000001.000009' : undefined) });
    await run(p);
    expect(p.posts).toEqual([]);
    expect(await outbox(id)).toEqual({ status: 'posted', posted_ts: '1700000001.000009' });
  });
});

describe('audit relay pacing', () => {
  it('when a backlog is waiting, then each run posts one message and asks to run again after the pace; a run brought forward early posts nothing', async () => {
    const team = 'T0PACE001';
    for (let i = 0; i < 3; i++)
      await trail.record(db.em.fork(), {
        teamId: team,
        actor: { system: 'cli' },
        action: 'user.lookup',
        outcome: 'success',
      });
    const p = poster({});
    const handler = relay(p, 1100);
    const start = clock.now().getTime();
    const first = await handler({ teamId: team }, ctx());
    expect(p.posts).toHaveLength(1);
    expect(first?.runAgainAt.getTime()).toBe(start + 1100);
    // An append pokes the job: it runs at once, but the channel's pace still holds.
    clock.advance(400);
    const early = await handler({ teamId: team }, ctx());
    expect(p.posts).toHaveLength(1);
    expect(early?.runAgainAt.getTime()).toBe(start + 1100);
    clock.advance(700);
    await handler({ teamId: team }, ctx());
    expect(p.posts).toHaveLength(2);
  });

  it('when Slack answers 429 with Retry-After, then no run posts before it has passed, even when brought forward', async () => {
    const team = 'T0PACE002';
    await trail.record(db.em.fork(), {
      teamId: team,
      actor: { system: 'cli' },
      action: 'user.lookup',
      outcome: 'success',
    });
    let limited = true;
    const p = poster({
      post: async (_c, message) => {
        if (limited) throw new SlackRateLimitedError(30);
        p.posts.push(Number(message.metadata.event_payload.event_id));
        return { ts: '1700000002.000001' };
      },
    });
    const handler = relay(p, 1100);
    const start = clock.now().getTime();
    expect((await handler({ teamId: team }, ctx()))?.runAgainAt.getTime()).toBe(start + 30_000);
    limited = false;
    clock.advance(10_000);
    expect((await handler({ teamId: team }, ctx()))?.runAgainAt.getTime()).toBe(start + 30_000);
    expect(p.posts).toEqual([]);
    clock.advance(20_000);
    await handler({ teamId: team }, ctx());
    expect(p.posts).toHaveLength(1);
  });

  it('when 300 events wait and an alert is written after them, then the very next run posts the alert', async () => {
    const team = 'T0PACE003';
    const em = db.em.fork();
    for (let i = 0; i < 300; i++)
      await trail.record(em, { teamId: team, actor: { system: 'cli' }, action: 'user.lookup', outcome: 'success' });
    const alert = await trail.record(em, {
      teamId: team,
      actor: { userId: 'U234', role: 'help_desk' },
      action: 'stepup.locked',
      outcome: 'denied',
    });
    const p = poster({});
    const handler = relay(p, 1100);
    await handler({ teamId: team }, ctx());
    expect(p.posts).toEqual([alert.id]);
    clock.advance(1100);
    await handler({ teamId: team }, ctx());
    expect(p.posts).toEqual([alert.id, alert.id - 300]);
  });

  it('when the 100th event is posted and when an hour passes, then a signed checkpoint follows ahead of the backlog', async () => {
    const team = 'T0CHECK01';
    const em = db.em.fork();
    const events = [];
    for (let i = 0; i < 101; i++)
      events.push(
        await trail.record(em, { teamId: team, actor: { system: 'cli' }, action: 'user.lookup', outcome: 'success' }),
      );
    const metadata: Array<{ event_type: string; event_payload: Record<string, string | number> }> = [];
    const p = poster({
      post: async (_c, message) => {
        metadata.push(message.metadata);
        return { ts: `1700000003.${String(metadata.length).padStart(6, '0')}` };
      },
    });
    const handler = relay(p);
    for (let i = 0; i < 101; i++) await handler({ teamId: team }, ctx());
    expect(metadata.map((m) => m.event_payload.seq)).toEqual([...events.slice(0, 100).map((e) => e.seq), 100]);
    const cp = metadata[100]!;
    expect(cp.event_type).toBe(CHECKPOINT_METADATA_EVENT);
    expect(cp.event_payload).toMatchObject({ seq: 100, link: events[99]!.hash, key_id: testKeyring().current.id });
    const checkpoint = {
      teamId: team,
      seq: 100,
      link: String(cp.event_payload.link),
      signedAt: new Date(String(cp.event_payload.signed_at)),
      keyId: String(cp.event_payload.key_id),
      signature: String(cp.event_payload.signature),
    };
    expect(checkCheckpoint(testKeyring(), checkpoint)).toBe('valid');
    expect(checkCheckpoint(testKeyring(), { ...checkpoint, seq: 99 })).toBe('invalid');

    clock.advance(CHECKPOINT_MAX_AGE_MS);
    await handler({ teamId: team }, ctx());
    expect(metadata.at(-1)).toMatchObject({ event_type: CHECKPOINT_METADATA_EVENT, event_payload: { seq: 101 } });
  });
});
