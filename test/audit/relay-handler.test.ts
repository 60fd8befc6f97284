import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChannelPoster, createAuditRelay, SlackRateLimitedError } from '../../src/audit/relay.js';
import { AuditTrail } from '../../src/audit/trail.js';
import { ManualClock } from '../../src/clock.js';
import type { Database } from '../../src/db/database.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { createMemoryLogger } from '../../src/log.js';
import { auditEventMessage } from '../../views/audit-event.js';
import { freshDatabase } from '../support/db.js';

/** The relay job's decisions with a poster the test controls (the end-to-end runs are in relay.test.ts). */
let db: Database & { drop(): Promise<void> };
const clock = new ManualClock();
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
  const trail = new AuditTrail(clock, new JobQueue(db, clock, logger), { mirrorToChannel: true });
  const r = await trail.record(db.em.fork(), {
    teamId: TEAM,
    actor: { userId: 'U123', role: 'owner' },
    action: 'user.lookup',
    outcome: 'success',
  });
  return r.id;
}

const run = (p: ChannelPoster) =>
  createAuditRelay({ channel: CHANNEL, poster: p, render: auditEventMessage, clock, paceMs: 0 })(
    { teamId: TEAM },
    {
      jobId: 1,
      attempt: 1,
      em: db.em.fork(),
      logger,
      signal: new AbortController().signal,
      extendLease: async () => {},
    },
  );

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
    const p = poster({ findPosted: async (_c, eventId) => (eventId === id ? '1700000001.000009' : undefined) });
    await run(p);
    expect(p.posts).toEqual([]);
    expect(await outbox(id)).toEqual({ status: 'posted', posted_ts: '1700000001.000009' });
  });
});
