import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unauditedDbChanges } from '../../src/audit/db-changes.js';
import { verifyAuditChain } from '../../src/audit/verify.js';
import type { Database } from '../../src/db/database.js';
import { testKeyring } from '../support/audit-key.js';
import { runCli } from '../support/cli.js';
import { freshDatabase } from '../support/db.js';

/**
 * Responders and settings changed behind duo-desk's back: a database trigger records every change with
 * its transaction, and `audit verify` reports the ones with no audit event in that transaction until
 * someone acknowledges them (an audited event of its own).
 */
let db: Database & { drop(): Promise<void> };
const TEAM = 'T0DBCHANGE';
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const cli = (...args: string[]) => runCli(db.url, args);
const sql = <T = Record<string, unknown>>(q: string, params: unknown[] = []) =>
  db.em.fork().getConnection().execute<T[]>(q, params);

describe('changes made outside duo-desk', { timeout: 120_000 }, () => {
  it('when responders and settings change through duo-desk, then the change log holds them and verify reports nothing', async () => {
    expect((await cli('roles', 'grant', 'U0OWNER01', 'owner', '--team', TEAM)).code).toBe(0);
    expect((await cli('roles', 'grant', 'U0AGENT01', 'help_desk', '--team', TEAM)).code).toBe(0);
    expect((await cli('settings', 'set', 'step_up_for_unlock', 'on', '--team', TEAM)).code).toBe(0);
    const logged = await sql<{ table_name: string; operation: string }>(
      'select table_name, operation from audit_db_change order by id',
    );
    expect(logged).toEqual([
      { table_name: 'responder', operation: 'insert' },
      { table_name: 'responder', operation: 'insert' },
      { table_name: 'setting', operation: 'insert' },
    ]);
    const r = await cli('audit', 'verify');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('outside duo-desk');
  });

  it('when someone with database access promotes a responder directly, then audit verify names the change and exits 1 until it is acknowledged', async () => {
    await sql(`update responder set role = 'owner', approver = true where team_id = ? and user_id = 'U0AGENT01'`, [
      TEAM,
    ]);
    const [change] = await unauditedDbChanges(db.em.fork());
    expect(change).toMatchObject({ table: 'responder', operation: 'update', teamId: TEAM, rowRef: 'U0AGENT01' });
    expect(change!.columns).toEqual(['role', 'approver']);

    const r = await cli('audit', 'verify');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('audit chain intact');
    expect(r.stdout).toContain('1 change(s) to responders or settings were made outside duo-desk');
    expect(r.stdout).toMatch(
      new RegExp(
        `change #${change!.id}: update of responder U0AGENT01 in ${TEAM} \\(role, approver\\) by database user \\w+`,
      ),
    );

    const ack = await cli(
      'audit',
      'acknowledge',
      String(change!.id),
      '--reason',
      'DBA restored a promotion by mistake',
    );
    expect(ack).toMatchObject({ code: 0 });
    const [event] = await sql<{ params: Record<string, unknown>; reason: string }>(
      `select params, reason from audit_event where action = 'audit.db_change_acknowledged'`,
    );
    expect(event).toMatchObject({
      params: { changeId: change!.id, table: 'responder' },
      reason: 'DBA restored a promotion by mistake',
    });
    expect((await cli('audit', 'verify')).code).toBe(0);
  });

  it('when someone pastes a sealed TOTP secret onto a row directly, then the change names the columns but never holds their values', async () => {
    await sql(
      `update responder set totp_secret = 'v2:abc:def:ghi:sealed-value-here', totp_status = 'active'
       where team_id = ? and user_id = 'U0OWNER01'`,
      [TEAM],
    );
    const [change] = await unauditedDbChanges(db.em.fork());
    expect(change!.columns).toEqual(['totp_secret', 'totp_status']);
    const text = JSON.stringify(await sql('select * from audit_db_change'));
    expect(text).not.toContain('sealed-value-here');
    await cli('audit', 'acknowledge', String(change!.id), '--reason', 'test');
  });

  it('when an insider covers a direct change with an audit row of their own in the same transaction, then the forged row breaks the chain', async () => {
    await db.em.fork().transactional(async (em) => {
      const c = em.getConnection();
      const trx = em.getTransactionContext();
      await c.execute(`delete from responder where team_id = ? and user_id = 'U0OWNER01'`, [TEAM], 'run', trx);
      await c.execute(
        `insert into audit_event (team_id, seq, occurred_at, actor_user_id, action, phase, outcome, params, prev_hash, hash, key_id)
         select team_id, seq + 1, now(), 'cli', 'responder.revoked', 'event', 'success', '{}', hash, repeat('f', 64), ?
         from audit_chain_head where team_id = ?`,
        [testKeyring().current.id, TEAM],
        'run',
        trx,
      );
      await c.execute(
        'update audit_chain_head set seq = seq + 1, hash = ? where team_id = ?',
        ['f'.repeat(64), TEAM],
        'run',
        trx,
      );
    });
    expect(await unauditedDbChanges(db.em.fork())).toEqual([]);
    expect(await verifyAuditChain(db.em.fork(), testKeyring())).toMatchObject({
      ok: false,
      teamId: TEAM,
      problem: expect.stringContaining('does not match its link'),
    });
  });
});
