import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, hashAuditRow, linkAuditRow } from '../../src/audit/chain.js';
import { AuditKeyring, auditKeyId } from '../../src/audit/keys.js';
import { AuditTrail } from '../../src/audit/trail.js';
import { verifyAuditChain } from '../../src/audit/verify.js';
import { ManualClock } from '../../src/clock.js';
import type { Database } from '../../src/db/database.js';
import { TEST_AUDIT_KEY, testKeyring } from '../support/audit-key.js';
import { directAuditTrail, runCli } from '../support/cli.js';
import { freshDatabase } from '../support/db.js';
import { oldWay, rewriteChain, teamRows, withKey } from '../support/tamper.js';

/** The embedded test database (no TEST_DATABASE_URL) serves one session at a time. */
const ONE_SESSION = !process.env.TEST_DATABASE_URL;
if (ONE_SESSION)
  console.warn(
    'the two-instance append test skipped on the embedded database: two instances at once need a PostgreSQL server (set TEST_DATABASE_URL; .ci/run does); the embedded database serves one session at a time, as it serves one instance',
  );

/**
 * The keyed chain against the insider with database access: a superuser rewrites an approval and
 * recomputes every later hash and the head the old way (the attack that used to pass verification),
 * chains written before the upgrade, key rotation, and the append's round trips.
 */
let db: Database & { drop(): Promise<void> };
const clock = new ManualClock();
const TEAM = 'T0KEYED01';
const APPROVER = 'U0APPROVER';
const MALLORY = 'U0MALLORY';

const lookup = (teamId: string, n: number) => ({
  teamId,
  actor: { userId: 'U234', role: 'help_desk' },
  action: 'user.lookup' as const,
  outcome: 'success' as const,
  target: { username: `user${n}` },
  params: { n },
});

beforeAll(async () => {
  db = await freshDatabase();
  const audit = directAuditTrail(clock);
  const em = db.em.fork();
  for (let i = 1; i <= 4; i++) {
    clock.advance(1000);
    await audit.record(em, lookup(TEAM, i));
  }
  await audit.record(em, {
    teamId: TEAM,
    actor: { userId: APPROVER, role: 'owner' },
    action: 'bypass.approved',
    outcome: 'success',
    target: { username: 'bob' },
    requestRef: 'req-1',
  });
  for (let i = 6; i <= 9; i++) await audit.record(em, lookup(TEAM, i));
});
afterAll(async () => {
  await db?.drop();
});

const verify = () => runCli(db.url, ['audit', 'verify']);
const approvalSeq = async () => (await teamRows(db, TEAM)).find((r) => r.action === 'bypass.approved')!.seq;

describe('keyed audit chain', { timeout: 120_000 }, () => {
  it('when a superuser rewrites an approval row and recomputes every later hash and the head the old way, then audit verify exits 1 naming the seq', async () => {
    const seq = await approvalSeq();
    const undo = await rewriteChain(
      db,
      TEAM,
      (rows) => rows.map((r) => (r.seq === seq ? { ...r, actorUserId: MALLORY } : r)),
      oldWay,
    );
    try {
      // The plain-hash verification of old would call this intact: every hash and the head agree.
      const rows = await teamRows(db, TEAM);
      expect(rows.every((r, i) => r.prevHash === (i ? rows[i - 1]!.hash : GENESIS_HASH))).toBe(true);
      expect(rows.every((r) => hashAuditRow(r) === r.hash || r.seq < seq)).toBe(true);
      const r = await verify();
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`audit chain BROKEN in ${TEAM} at event #${seq}`);
      expect(r.stdout).toContain(`event #${seq} does not match its link: the row was edited`);
    } finally {
      await undo();
    }
  });

  it('when a superuser also blanks the key ids while recomputing the old way, then verify exits 1 naming the first unkeyed seq', async () => {
    const seq = await approvalSeq();
    const undo = await rewriteChain(
      db,
      TEAM,
      (rows) => rows.map((r) => (r.seq === seq ? { ...r, actorUserId: MALLORY } : r)),
      (row) => ({ hash: hashAuditRow(row), keyId: null }),
    );
    try {
      const r = await verify();
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(
        `at event #${seq} (row id ${(await teamRows(db, TEAM))[seq - 1]!.id}): event #${seq} is not keyed although the keyed chain began at #1`,
      );
    } finally {
      await undo();
    }
  });

  it('when a superuser turns the whole chain back into plain hashes, then verify exits 1: a chain must end keyed', async () => {
    const undo = await rewriteChain(
      db,
      TEAM,
      (rows) => rows.map((r) => ({ ...r, keyId: null, ...(r.seq === 5 ? { actorUserId: MALLORY } : {}) })),
      (row) => ({ hash: hashAuditRow(row), keyId: null }),
    );
    try {
      const r = await verify();
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`the chain ends at event #9 without a keyed event`);
    } finally {
      await undo();
    }
    expect((await verify()).code).toBe(0);
  });

  it('when a chain written before the upgrade (plain SHA-256) gets its next event, then it is sealed with audit.chain_keyed and verifies across the change', async () => {
    const team = 'T0LEGACY1';
    let prev = GENESIS_HASH;
    const conn = db.em.fork().getConnection();
    for (let seq = 1; seq <= 3; seq++) {
      const f = {
        teamId: team,
        seq,
        occurredAt: new Date(Date.UTC(2026, 10, 1, seq)),
        actorUserId: 'cli',
        actorRole: null,
        action: 'setting.changed',
        phase: 'event',
        targetDuoUserId: null,
        targetUsername: null,
        outcome: 'success',
        reason: null,
        ticket: null,
        correlationId: null,
        intentId: null,
        requestRef: null,
        duoRef: null,
        params: { seq },
        prevHash: prev,
        keyId: null,
      };
      prev = hashAuditRow(f);
      await conn.execute(
        `insert into audit_event (team_id, seq, occurred_at, actor_user_id, action, phase, outcome, params, prev_hash, hash)
         values (?, ?, ?, 'cli', 'setting.changed', 'event', 'success', ?, ?, ?)`,
        [team, seq, f.occurredAt, JSON.stringify(f.params), f.prevHash, prev],
      );
    }
    await conn.execute('insert into audit_chain_head (team_id, seq, hash) values (?, 3, ?)', [team, prev]);
    expect((await verifyAuditChain(db.em.fork(), testKeyring())).ok).toBe(false);

    await directAuditTrail(clock).record(db.em.fork(), lookup(team, 4));
    const rows = await teamRows(db, team);
    expect(rows.map((r) => [r.seq, r.action, r.keyId === null])).toEqual([
      [1, 'setting.changed', true],
      [2, 'setting.changed', true],
      [3, 'setting.changed', true],
      [4, 'audit.chain_keyed', false],
      [5, 'user.lookup', false],
    ]);
    expect(rows[3]!.params).toEqual({ keyId: testKeyring().current.id, unkeyedThrough: 3 });
    expect(await verifyAuditChain(db.em.fork(), testKeyring(), { teamId: team })).toMatchObject({ ok: true, keyed: 2 });

    // The sealed unkeyed rows are covered: rewrite one and recompute the unkeyed part, and the marker no longer links.
    const undo = await rewriteChain(
      db,
      team,
      (all) => all.map((r) => (r.seq === 2 ? { ...r, actorUserId: MALLORY } : r)),
      (row) => (row.keyId === null ? { hash: hashAuditRow(row), keyId: null } : { hash: row.hash, keyId: row.keyId }),
    );
    try {
      expect(await verifyAuditChain(db.em.fork(), testKeyring())).toMatchObject({
        ok: false,
        teamId: team,
        seq: 4,
        problem: 'event #4 does not match its link: the row was edited',
      });
    } finally {
      await undo();
    }
  });

  it('when the audit key is rotated with the old key kept as retired, then the rotation is an audited event naming the new key and verify walks across it', async () => {
    const team = 'T0ROTATE1';
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    await new AuditTrail(clock, new AuditKeyring(oldKey)).record(db.em.fork(), lookup(team, 1));
    const rotated = new AuditKeyring(newKey, [oldKey]);
    await new AuditTrail(clock, rotated).record(db.em.fork(), lookup(team, 2));
    const rows = await teamRows(db, team);
    expect(rows.map((r) => [r.action, r.keyId])).toEqual([
      ['user.lookup', auditKeyId(oldKey)],
      ['audit.key_rotated', auditKeyId(newKey)],
      ['user.lookup', auditKeyId(newKey)],
    ]);
    expect(rows[1]!.params).toEqual({ fromKeyId: auditKeyId(oldKey), toKeyId: auditKeyId(newKey) });

    // This file's other installations use the test key: verify with every key involved.
    const all = new AuditKeyring(newKey, [oldKey, Buffer.from(TEST_AUDIT_KEY, 'base64')]);
    expect((await verifyAuditChain(db.em.fork(), all)).ok).toBe(true);
    // Without the retired key, the rows it linked cannot be checked: verification says which key is missing.
    const withoutOld = new AuditKeyring(newKey, [Buffer.from(TEST_AUDIT_KEY, 'base64')]);
    expect(await verifyAuditChain(db.em.fork(), withoutOld)).toMatchObject({
      ok: false,
      teamId: team,
      seq: 1,
      problem: expect.stringContaining(`audit key id ${auditKeyId(oldKey)}, which is not configured`),
    });

    // Someone who kept the retired key forges an event after the rotation: it is not the current key.
    const undo = await rewriteChain(
      db,
      team,
      (r) => [...r, { ...r[2]!, id: 0, params: { n: 3 } }],
      withKey(new AuditKeyring(oldKey).current),
    );
    try {
      expect(await verifyAuditChain(db.em.fork(), all)).toMatchObject({
        ok: false,
        seq: 4,
        problem:
          'event #4 is linked with another audit key than event #3 without a key rotation event: the chain was altered',
      });
    } finally {
      await undo();
    }
  });

  it('when duo-desk starts with an audit key that neither linked the chain nor is listed as retired, then it refuses to append, naming the variables', async () => {
    const stranger = new AuditTrail(clock, new AuditKeyring(randomBytes(32)));
    await expect(stranger.record(db.em.fork(), lookup(TEAM, 10))).rejects.toThrow(
      /neither DUO_DESK_AUDIT_KEY nor in DUO_DESK_AUDIT_KEYS_RETIRED/,
    );
  });

  it('when an event is appended, then it takes one statement (plus BEGIN and COMMIT with its own transaction), and a stale head one more', async () => {
    const knex = db.em.getConnection().getKnex();
    const statements: string[] = [];
    const count = (q: { sql: string }) => statements.push(q.sql.trim().split(/\s+/)[0]!.toLowerCase());
    const audit = directAuditTrail(clock);
    const em = db.em.fork();
    await audit.record(em, lookup(TEAM, 11)); // learns the head
    knex.on('query', count);
    try {
      for (let i = 0; i < 5; i++) await audit.record(em, lookup(TEAM, 12 + i));
      expect(statements).toEqual(['with', 'with', 'with', 'with', 'with']);
      statements.length = 0;
      await em.transactional((tem) => audit.record(tem, lookup(TEAM, 17)));
      expect(statements).toEqual(['begin;', 'with', 'commit;']);
      // Another instance appends: this one's head is stale; the miss returns the current head, and the retry lands.
      await directAuditTrail(clock).record(db.em.fork(), lookup(TEAM, 18));
      statements.length = 0;
      await audit.record(em, lookup(TEAM, 19));
      expect(statements).toEqual(['with', 'with']);
    } finally {
      knex.off('query', count);
    }
    expect((await verifyAuditChain(db.em.fork(), testKeyring(), { teamId: TEAM })).ok).toBe(true);
  });

  it.skipIf(ONE_SESSION)(
    'when two instances append concurrently and a transaction that appended rolls back, then every committed event is in the chain once and it verifies',
    async () => {
      const team = 'T0RACE001';
      const [a, b] = [directAuditTrail(clock), directAuditTrail(clock)];
      const writes: Array<Promise<unknown>> = [];
      for (let i = 0; i < 40; i++) {
        writes.push(a.record(db.em.fork(), lookup(team, i)));
        writes.push(b.record(db.em.fork(), lookup(team, 100 + i)));
      }
      const rolledBack = db.em
        .fork()
        .transactional(async (tem) => {
          await a.record(tem, lookup(team, 999));
          throw new Error('the caller fails after its event');
        })
        .catch((e: Error) => e.message);
      await Promise.all(writes);
      expect(await rolledBack).toBe('the caller fails after its event');
      await a.record(db.em.fork(), lookup(team, 1000));
      const rows = await teamRows(db, team);
      expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
      const ns = rows.map((r) => Number(r.params.n));
      expect(ns).not.toContain(999);
      expect(new Set(ns).size).toBe(81);
      expect((await verifyAuditChain(db.em.fork(), testKeyring(), { teamId: team })).ok).toBe(true);
      // Each link is the HMAC under the test key, not something the database could have made.
      const key = testKeyring().current;
      expect(rows.every((r) => linkAuditRow(r, key) === r.hash)).toBe(true);
    },
  );
});
