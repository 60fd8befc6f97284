import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkAuditRow } from '../../src/audit/chain.js';
import { auditRowById } from '../../src/audit/store.js';
import { verifyAuditChain } from '../../src/audit/verify.js';
import { ManualClock } from '../../src/clock.js';
import type { Database } from '../../src/db/database.js';
import { testKeyring } from '../support/audit-key.js';
import { directAuditTrail, runCli } from '../support/cli.js';
import { adminExecute, freshDatabase } from '../support/db.js';

/**
 * `duo-desk audit verify` run as a real child process against a database whose rows a superuser
 * edits and deletes behind the append-only trigger (each tampering is undone afterwards).
 */
let db: Database & { drop(): Promise<void> };
const TEAM_A = 'T0AAAAAAA';
const TEAM_B = 'T0BBBBBBB';
const EVENTS_A = 6;
const EVENTS_B = 2;

beforeAll(async () => {
  db = await freshDatabase();
  const clock = new ManualClock();
  const audit = directAuditTrail(clock);
  const em = db.em.fork();
  for (let i = 1; i <= EVENTS_A; i++) {
    clock.advance(60_000);
    await audit.record(em, {
      teamId: TEAM_A,
      actor: { userId: 'U123', role: 'owner' },
      action: 'user.lookup',
      outcome: 'success',
      target: { duoUserId: `DU${String(i).padStart(18, '0')}`, username: `user${i}` },
      correlationId: `corr-${i}`,
      params: { n: i },
    });
  }
  for (let i = 1; i <= EVENTS_B; i++)
    await audit.record(em, { teamId: TEAM_B, actor: { system: 'cli' }, action: 'setting.changed', outcome: 'success' });
});
afterAll(async () => {
  await db?.drop();
});

const ids = async (team: string) =>
  (
    await db.em
      .fork()
      .getConnection()
      .execute<Array<{ id: string; seq: string }>>('select id, seq from audit_event where team_id = ? order by seq', [
        team,
      ])
  ).map((r) => ({ id: Number(r.id), seq: Number(r.seq) }));

/** Runs `sql` on audit_event rows `rowIds` with the append-only trigger off, and gives back an undo. */
async function tamper(rowIds: number[], sql: string): Promise<() => Promise<void>> {
  const list = rowIds.join(', ');
  await adminExecute(
    db.url,
    `create table audit_backup as select * from audit_event where id in (${list});
     alter table audit_event disable trigger audit_event_no_update_delete;
     ${sql};
     alter table audit_event enable trigger audit_event_no_update_delete;`,
  );
  return () =>
    adminExecute(
      db.url,
      `alter table audit_event disable trigger audit_event_no_update_delete;
       delete from audit_event where id in (${list});
       insert into audit_event select * from audit_backup;
       alter table audit_event enable trigger audit_event_no_update_delete;
       drop table audit_backup;`,
    );
}

const verify = () => runCli(db.url, ['audit', 'verify']);

// Each case spawns the CLI (a few seconds each on a busy machine).
describe('duo-desk audit verify', { timeout: 120_000 }, () => {
  it('when nothing was touched, then it reports the number of events checked and exits 0', async () => {
    const r = await verify();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`audit chain intact: ${EVENTS_A + EVENTS_B} events checked across 2 installation(s)`);
  });

  it('when the database is asked to change an audit row, then it refuses (append-only)', async () => {
    await expect(
      adminExecute(db.url, `update audit_event set reason = 'x' where team_id = '${TEAM_A}'`),
    ).rejects.toThrow(/append-only/);
    await expect(adminExecute(db.url, 'delete from audit_event')).rejects.toThrow(/append-only/);
    await expect(adminExecute(db.url, 'truncate audit_event')).rejects.toThrow(/append-only/);
  });

  it('when a superuser edits a row, then verify names that event as edited and exits 1', async () => {
    const row = (await ids(TEAM_A))[2]!;
    const undo = await tamper([row.id], `update audit_event set target_username = 'mallory' where id = ${row.id}`);
    try {
      const r = await verify();
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(
        `audit chain BROKEN in ${TEAM_A} at event #3 (row id ${row.id}): event #3 does not match its link: the row was edited`,
      );
      expect(r.stdout).toContain('2 events before it checked out');
    } finally {
      await undo();
    }
  });

  it('when someone holding the audit key edits a row and recomputes its link, then the next event no longer links and verify exits 1', async () => {
    const [, , third, fourth] = await ids(TEAM_A);
    const original = (await auditRowById(db.em.fork(), third!.id))!;
    const forged = linkAuditRow({ ...original, outcome: 'denied' }, testKeyring().current);
    const undo = await tamper(
      [third!.id],
      `update audit_event set outcome = 'denied', hash = '${forged}' where id = ${third!.id}`,
    );
    try {
      const r = await verify();
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`at event #4 (row id ${fourth!.id}): event #4 does not link to event #3`);
    } finally {
      await undo();
    }
  });

  it('when a superuser deletes a row in the middle, then verify reports the missing event and exits 1', async () => {
    const row = (await ids(TEAM_A))[3]!;
    const undo = await tamper([row.id], `delete from audit_event where id = ${row.id}`);
    try {
      const r = await verify();
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`in ${TEAM_A} at event #5`);
      expect(r.stdout).toContain('event #4 is missing (found #5 after #3): a row was deleted');
    } finally {
      await undo();
    }
  });

  it('when a superuser deletes the newest row, then verify reports the chain head mismatch and exits 1', async () => {
    const newest = (await ids(TEAM_A)).at(-1)!;
    const undo = await tamper([newest.id], `delete from audit_event where id = ${newest.id}`);
    try {
      const r = await verify();
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(
        `audit chain BROKEN in ${TEAM_A} at event #${EVENTS_A}: the chain ends at event #${EVENTS_A - 1} but its head says #${EVENTS_A}`,
      );
    } finally {
      await undo();
    }
    const r = await verify();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${EVENTS_A + EVENTS_B} events checked`);
  });

  it('when the chain head of an installation is deleted, then verification fails for it', async () => {
    const conn = db.em.fork().getConnection();
    const [head] = await conn.execute<Array<{ seq: string; hash: string }>>(
      'select seq, hash from audit_chain_head where team_id = ?',
      [TEAM_B],
    );
    await conn.execute('delete from audit_chain_head where team_id = ?', [TEAM_B]);
    try {
      const r = await verifyAuditChain(db.em.fork(), testKeyring());
      expect(r).toMatchObject({ ok: false, teamId: TEAM_B, seq: EVENTS_B });
      expect(r.ok || r.problem).toContain('no head');
    } finally {
      await conn.execute('insert into audit_chain_head (team_id, seq, hash) values (?, ?, ?)', [
        TEAM_B,
        head!.seq,
        head!.hash,
      ]);
    }
    expect((await verifyAuditChain(db.em.fork(), testKeyring())).ok).toBe(true);
  });
});
