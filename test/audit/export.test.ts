import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { Database } from '../../src/db/database.js';
import { directAuditTrail, runCli } from '../support/cli.js';
import { freshDatabase } from '../support/db.js';

/** `duo-desk audit export` as a real child process: CSV and JSON on stdout, filtered by time. */
let db: Database & { drop(): Promise<void> };
const TEAM = 'T0EXPORT1';
const START = Date.UTC(2026, 10, 1, 8, 0, 0);
const hour = 3_600_000;

beforeAll(async () => {
  db = await freshDatabase();
  const clock = new ManualClock(START);
  const audit = directAuditTrail(clock);
  const em = db.em.fork();
  // events #1..#5 at 08:00 … 12:00 UTC; #2 carries a reason that looks like a spreadsheet formula
  for (let i = 1; i <= 5; i++) {
    await audit.record(em, {
      teamId: TEAM,
      actor: { userId: 'U234', role: 'help_desk' },
      action: 'user.status_changed',
      outcome: i === 3 ? 'failed' : 'success',
      target: { duoUserId: 'DU000000000000000042', username: 'bob' },
      reason: i === 2 ? '=HYPERLINK("http://evil")' : `caller "verified", ticket ${i}`,
      ticket: `INC-${i}`,
      correlationId: `corr-${i}`,
      params: { from: 'locked out', to: 'active' },
    });
    clock.advance(hour);
  }
});
afterAll(async () => {
  await db?.drop();
});

const iso = (ms: number) => new Date(ms).toISOString();

describe('duo-desk audit export', { timeout: 120_000 }, () => {
  it('when exported as CSV with --since and --until, then stdout holds the header and only the events in [since, until)', async () => {
    const r = await runCli(db.url, [
      'audit',
      'export',
      '--format',
      'csv',
      '--since',
      iso(START + hour),
      '--until',
      iso(START + 3 * hour),
    ]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(
      'seq,occurred_at,team_id,actor_user_id,actor_role,action,phase,outcome,target_duo_user_id,target_username,reason,ticket,request_ref,duo_ref,correlation_id,intent_id,params,hash',
    );
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^"2","2026-11-01T09:00:00.000Z","T0EXPORT1","U234","help_desk","user.status_changed"/);
    expect(lines[2]).toMatch(/^"3","2026-11-01T10:00:00.000Z",.*"failed"/);
    // quoted, and the formula neutralised
    expect(lines[1]).toContain(`"'=HYPERLINK(""http://evil"")"`);
  });

  it('when exported as JSON with --since only, then stdout is a JSON array of the later events with every field', async () => {
    const r = await runCli(db.url, ['audit', 'export', '--format', 'json', '--since', iso(START + 3 * hour)]);
    expect(r.code).toBe(0);
    const events = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(events.map((e) => e.seq)).toEqual([4, 5]);
    expect(events[0]).toMatchObject({
      occurred_at: '2026-11-01T11:00:00.000Z',
      team_id: TEAM,
      actor_user_id: 'U234',
      actor_role: 'help_desk',
      action: 'user.status_changed',
      phase: 'event',
      outcome: 'success',
      target_duo_user_id: 'DU000000000000000042',
      target_username: 'bob',
      reason: 'caller "verified", ticket 4',
      ticket: 'INC-4',
      correlation_id: 'corr-4',
      params: { from: 'locked out', to: 'active' },
    });
    expect(events[0]!.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('when the range holds nothing, then JSON is an empty array; a bad format or date exits 2', async () => {
    const empty = await runCli(db.url, ['audit', 'export', '--format', 'json', '--until', iso(START - hour)]);
    expect(empty.code).toBe(0);
    expect(JSON.parse(empty.stdout)).toEqual([]);
    const bad = await runCli(db.url, ['audit', 'export', '--format', 'xml']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--format must be csv or json');
  });
});
