import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_METADATA_EVENT } from '../../src/audit/relay.js';
import { verifyAuditChain } from '../../src/audit/verify.js';
import { until } from '../support/audit.js';
import { testKeyring } from '../support/audit-key.js';
import { runCli } from '../support/cli.js';
import { CHANNELS, type Harness, PEOPLE, startHarness, TEAM } from '../support/harness.js';
import { oldWay, rewriteChain, teamRows, withKey } from '../support/tamper.js';

/**
 * `duo-desk audit verify --witness` against the audit channel the running instance mirrored to: the
 * insider rewrites, deletes or inserts rows (recomputing every later link, even with the audit key),
 * and the channel's posts and signed checkpoints still say what the trail was. Runs the real CLI with
 * the bot's Slack credentials; the channel is long enough that reading it back takes several pages.
 */
let h: Harness;
let approval: number;
const EVENTS = 210;

const sql = <T = Record<string, unknown>>(q: string, params: unknown[] = []) =>
  h.runtime.db.em.fork().getConnection().execute<T[]>(q, params);

const withSlack = (args: string[]) =>
  runCli(h.runtime.db.url, args, {
    SLACK_BOT_TOKEN: h.slack.botToken,
    SLACK_SIGNING_SECRET: h.signingSecret,
    SLACK_API_URL: h.slack.apiUrl,
    DUO_DESK_AUDIT_CHANNEL: CHANNELS.audit,
  });
const witness = () => withSlack(['audit', 'verify', '--witness']);

const verifyChain = () => verifyAuditChain(h.runtime.db.em.fork(), testKeyring(), { teamId: TEAM });

beforeAll(async () => {
  h = await startHarness();
  const audit = h.runtime.deps.audit;
  const em = h.runtime.db.em.fork();
  const set = (await teamRows(h.runtime.db, TEAM)).length;
  for (let i = set + 1; i <= EVENTS; i++) {
    const r = await audit.record(
      em,
      i === 150
        ? {
            teamId: TEAM,
            actor: { userId: PEOPLE.owner, role: 'owner' },
            action: 'bypass.approved',
            outcome: 'success',
            target: { username: 'bob' },
            requestRef: 'req-42',
          }
        : {
            teamId: TEAM,
            actor: { userId: PEOPLE.helpDesk, role: 'help_desk' },
            action: 'user.lookup',
            outcome: 'success',
            target: { username: `user${i}` },
          },
    );
    if (i === 150) approval = r.seq;
  }
  await until(
    async () => {
      const [w] = await sql<{ n: string }>(
        `select (select count(*) from audit_outbox where status <> 'posted') + (select count(*) from audit_checkpoint where status <> 'posted') as n`,
      );
      const [c] = await sql<{ n: string }>(`select count(*) as n from audit_checkpoint where status = 'posted'`);
      return Number(w!.n) === 0 && Number(c!.n) === 2;
    },
    'every event and the checkpoints at #100 and #200 to be posted',
    60_000,
  );
  await h.runtime.jobs.stop();
}, 120_000);
afterAll(async () => {
  await h?.close();
});

describe('audit verify --witness', { timeout: 120_000 }, () => {
  it('when nothing was touched, then it exits 0 and prints the counts checked against the channel', async () => {
    const historyCalls = h.slack.callsTo('conversations.history').length;
    const r = await witness();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`audit chain intact: ${EVENTS} events checked across 1 installation(s)`);
    expect(r.stdout).toContain(
      `witness intact: ${EVENTS} events and 2 checkpoints in ${CHANNELS.audit} checked against the database`,
    );
    // The channel was read back page by page.
    const pages = h.slack.callsTo('conversations.history').slice(historyCalls);
    expect(pages.length).toBeGreaterThanOrEqual(2);
    expect(pages.some((c) => typeof (c.args as { cursor?: unknown }).cursor === 'string')).toBe(true);
  });

  it('when the operator exports the checkpoints for storage the database admin cannot change, then each prints with its signature checked', async () => {
    const r = await withSlack(['audit', 'checkpoints']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const rows = await teamRows(h.runtime.db, TEAM);
    expect(lines.map((l) => [l.seq, l.link, l.signature_check])).toEqual([
      [100, rows[99]!.hash, 'valid'],
      [200, rows[199]!.hash, 'valid'],
    ]);
    expect(lines[0]).toMatchObject({ team_id: TEAM, key_id: testKeyring().current.id, channel: CHANNELS.audit });
  });

  it('when a superuser rewrites an approval row and recomputes every later hash and the head the old way, then --witness exits 1 naming the seq from the channel mismatch', async () => {
    const undo = await rewriteChain(
      h.runtime.db,
      TEAM,
      (rows) => rows.map((r) => (r.seq === approval ? { ...r, actorUserId: 'U0MALLORY' } : r)),
      oldWay,
    );
    try {
      const r = await witness();
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`audit chain BROKEN in ${TEAM} at event #${approval}`);
      expect(r.stdout).toMatch(
        new RegExp(
          `witness MISMATCH in ${TEAM} at event #${approval}: event #${approval} was posted with link [0-9a-f]{16}, the database now has`,
        ),
      );
      // The checkpoint at #200 vouched for the old chain too.
      expect(r.stdout).toContain(`${EVENTS - approval + 1} posted events and 1 checkpoint(s) differ from the database`);
    } finally {
      await undo();
    }
  });

  it('when someone holding the audit key rewrites the approval and relinks everything, then the chain verifies but --witness still names the seq', async () => {
    const undo = await rewriteChain(
      h.runtime.db,
      TEAM,
      (rows) => rows.map((r) => (r.seq === approval ? { ...r, actorUserId: 'U0MALLORY' } : r)),
      withKey(testKeyring().current),
    );
    try {
      expect((await verifyChain()).ok).toBe(true);
      const r = await witness();
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('audit chain intact');
      expect(r.stdout).toContain(
        `witness MISMATCH in ${TEAM} at event #${approval}: event #${approval} was posted with link`,
      );
    } finally {
      await undo();
    }
  });

  it('when a row is deleted and the later ones renumbered and relinked, then --witness names the seq of the deleted row', async () => {
    const undo = await rewriteChain(
      h.runtime.db,
      TEAM,
      (rows) => rows.filter((r) => r.seq !== approval),
      withKey(testKeyring().current),
    );
    try {
      expect((await verifyChain()).ok).toBe(true);
      const r = await witness();
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(
        new RegExp(
          `witness MISMATCH in ${TEAM} at event #${approval}: event #${approval} was posted as event id \\d+, the database has id \\d+ there`,
        ),
      );
    } finally {
      await undo();
    }
  });

  it('when a row is inserted and the later ones renumbered and relinked, then --witness names the seq where it went in', async () => {
    const undo = await rewriteChain(
      h.runtime.db,
      TEAM,
      // The ids move up with the seqs, so the rows keep their order in every index.
      (rows) => [
        ...rows.slice(0, 120),
        { ...rows[120]!, action: 'bypass.approved', actorUserId: PEOPLE.owner, actorRole: 'owner' },
        ...rows.slice(120).map((r) => ({ ...r, id: r.id + 1 })),
      ],
      withKey(testKeyring().current),
    );
    try {
      expect((await verifyChain()).ok).toBe(true);
      const r = await witness();
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`witness MISMATCH in ${TEAM} at event #121: event #121 was posted with link`);
    } finally {
      await undo();
    }
  });

  it('when the newest events are deleted and the head moved back, then the chain still verifies but --witness names the first missing seq', async () => {
    const undo = await rewriteChain(h.runtime.db, TEAM, (rows) => rows.slice(0, EVENTS - 3));
    try {
      expect((await verifyChain()).ok).toBe(true);
      const r = await witness();
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(
        `witness MISMATCH in ${TEAM} at event #${EVENTS - 2}: event #${EVENTS - 2} is in the audit channel but not in the database: it was deleted`,
      );
    } finally {
      await undo();
    }
  });

  it('when a checkpoint with a forged signature and a deleted post turn up in the channel, then --witness reports both', async () => {
    const client = new webApi.WebClient(h.slack.botToken, { slackApiUrl: h.slack.apiUrl });
    const forged = await client.chat.postMessage({
      channel: CHANNELS.audit,
      text: 'checkpoint',
      metadata: {
        event_type: CHECKPOINT_METADATA_EVENT,
        event_payload: {
          team_id: TEAM,
          seq: 50,
          link: (await teamRows(h.runtime.db, TEAM))[49]!.hash,
          signed_at: new Date().toISOString(),
          key_id: testKeyring().current.id,
          signature: '0'.repeat(64),
        },
      },
    });
    const [posted] = await sql<{ posted_ts: string }>(
      'select posted_ts from audit_outbox where team_id = ? and seq = 60',
      [TEAM],
    );
    await client.chat.delete({ channel: CHANNELS.audit, ts: posted!.posted_ts });
    try {
      const r = await witness();
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`at event #50: the checkpoint for event #50`);
      expect(r.stdout).toContain('has an invalid signature');
      expect(r.stdout).toContain('also #60: event #60 is in the database but not in the audit channel');
    } finally {
      await client.chat.delete({ channel: CHANNELS.audit, ts: String(forged.ts) });
    }
  });
});
