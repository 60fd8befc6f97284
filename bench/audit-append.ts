/**
 * Audit append benchmark: the one-statement keyed append (src/audit/trail.ts) side by side with the append it
 * replaced, in the same run and the same database: a transaction that makes sure the head row exists, locks it
 * FOR UPDATE, inserts the event, moves the head, inserts the outbox row, enqueues and pokes the relay job
 * (eight statements with BEGIN and COMMIT, the head locked throughout).
 *
 *   npm run bench -- append          (or: npx tsx bench/run.ts append, npx tsx bench/audit-append.ts)
 *
 * Options (env): BENCH_APPEND_EVENTS (per case, default 1000), BENCH_APPEND_WRITERS (default 8). Statements are
 * counted from the database client's own query events, so they are round trips. Each case appends to its own
 * installation; the new append's chains are verified at the end. Asserts nothing else: it is run by hand.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { GENESIS_HASH, hashAuditRow } from '../src/audit/chain.js';
import { AuditKeyring } from '../src/audit/keys.js';
import { type AuditEntry, AuditTrail, relayJobKey } from '../src/audit/trail.js';
import { verifyAuditChain } from '../src/audit/verify.js';
import { systemClock } from '../src/clock.js';
import { type Database, type EntityManager, openDatabase } from '../src/db/database.js';
import { loadLine, ms, openBenchDatabase, ratio, summarize, table } from './support.js';

const EVENTS = Number(process.env.BENCH_APPEND_EVENTS ?? 1_000);
const WRITERS = Number(process.env.BENCH_APPEND_WRITERS ?? 8);

type Append = (em: EntityManager, entry: AuditEntry) => Promise<unknown>;

const entry = (teamId: string, n: number): AuditEntry => ({
  teamId,
  actor: { userId: 'U234', role: 'help_desk' },
  action: 'user.lookup',
  outcome: 'success',
  target: { duoUserId: `DU${String(n).padStart(18, '0')}`, username: `user${n}` },
  correlationId: `corr-${n}`,
  params: { n },
});

/** The append this change replaced (main before issue 13/14), kept here as the baseline. */
const previousAppend: Append = (em, e) =>
  em.transactional(async (tem) => {
    const conn = tem.getConnection();
    const trx = tem.getTransactionContext();
    const now = systemClock.now();
    await conn.execute(
      'insert into audit_chain_head (team_id, seq, hash) values (?, 0, ?) on conflict (team_id) do nothing',
      [e.teamId, GENESIS_HASH],
      'run',
      trx,
    );
    const [head] = await conn.execute<Array<{ seq: string; hash: string }>>(
      'select seq, hash from audit_chain_head where team_id = ? for update',
      [e.teamId],
      'all',
      trx,
    );
    const fields = {
      teamId: e.teamId,
      seq: Number(head!.seq) + 1,
      occurredAt: now,
      actorUserId: 'userId' in e.actor ? e.actor.userId : e.actor.system,
      actorRole: 'role' in e.actor ? e.actor.role : null,
      action: e.action,
      phase: 'event',
      targetDuoUserId: e.target?.duoUserId ?? null,
      targetUsername: e.target?.username ?? null,
      outcome: e.outcome,
      reason: null,
      ticket: null,
      correlationId: e.correlationId ?? null,
      intentId: null,
      requestRef: null,
      duoRef: null,
      params: e.params ?? {},
      prevHash: head!.hash,
      keyId: null,
    };
    const hash = hashAuditRow(fields);
    const [row] = await conn.execute<Array<{ id: string }>>(
      `insert into audit_event (team_id, seq, occurred_at, actor_user_id, actor_role, action, phase, target_duo_user_id,
         target_username, outcome, reason, ticket, correlation_id, intent_id, request_ref, duo_ref, params, prev_hash, hash)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning id`,
      [
        fields.teamId,
        fields.seq,
        now,
        fields.actorUserId,
        fields.actorRole,
        fields.action,
        fields.phase,
        fields.targetDuoUserId,
        fields.targetUsername,
        fields.outcome,
        null,
        null,
        fields.correlationId,
        null,
        null,
        null,
        JSON.stringify(fields.params),
        fields.prevHash,
        hash,
      ],
      'all',
      trx,
    );
    await conn.execute(
      'update audit_chain_head set seq = ?, hash = ? where team_id = ?',
      [fields.seq, hash, e.teamId],
      'run',
      trx,
    );
    await conn.execute(
      `insert into audit_outbox (event_id, team_id, seq, status, attempts, updated_at) values (?, ?, ?, 'pending', 0, ?)`,
      [row!.id, e.teamId, fields.seq, now],
      'run',
      trx,
    );
    await conn.execute(
      `insert into job (kind, payload, dedupe_key, status, run_at, attempts, max_attempts, created_at, updated_at)
       values ('audit.relay', ?, ?, 'queued', ?, 0, 10, ?, ?)
       on conflict (dedupe_key) where status in ('queued', 'running') do nothing`,
      [JSON.stringify({ teamId: e.teamId }), relayJobKey(e.teamId), now, now, now],
      'run',
      trx,
    );
    await conn.execute(
      `update job set run_at = ? where dedupe_key = ? and status = 'queued' and run_at > ?`,
      [now, relayJobKey(e.teamId), now],
      'run',
      trx,
    );
  });

interface CaseResult {
  label: string;
  perSecond: number;
  p50: number;
  p99: number;
  statements: number;
}

/** `writers` concurrent loops per instance, EVENTS appends in all, on `dbs` (one pool per instance). */
async function runCase(
  label: string,
  dbs: Database[],
  appendFor: (instance: number) => Append,
  teamId: string,
  writers: number,
): Promise<CaseResult> {
  let statements = 0;
  const count = () => {
    statements++;
  };
  const knexes = dbs.map((d) => d.em.getConnection().getKnex());
  for (const k of knexes) k.on('query', count);
  const samples: number[] = [];
  let next = 0;
  const started = performance.now();
  try {
    await Promise.all(
      dbs.flatMap((db, instance) =>
        Array.from({ length: writers }, async () => {
          const append = appendFor(instance);
          for (let n = next++; n < EVENTS; n = next++) {
            const t = performance.now();
            await append(db.em.fork(), entry(teamId, n));
            samples.push(performance.now() - t);
          }
        }),
      ),
    );
  } finally {
    for (const k of knexes) k.off('query', count);
  }
  const elapsed = performance.now() - started;
  const s = summarize(samples);
  return { label, perSecond: (EVENTS * 1000) / elapsed, p50: s.p50, p99: s.p99, statements: statements / EVENTS };
}

export async function runAuditAppendBench(): Promise<void> {
  const { db, where, dispose } = await openBenchDatabase();
  const second = await openDatabase({ url: db.url, migrate: false, poolMax: db.kind === 'embedded' ? 2 : 10 });
  try {
    const keyring = new AuditKeyring(randomBytes(32));
    const trails = [new AuditTrail(systemClock, keyring), new AuditTrail(systemClock, keyring)];
    const keyed =
      (i: number): Append =>
      (em, e) =>
        trails[i]!.record(em, e);
    console.log(`audit append: ${where}; ${EVENTS} appends per case`);
    console.log(loadLine());
    // Warm both paths (connections, plans) on throw-away installations.
    await runCase('warm-up', [db], () => previousAppend, 'T0WARM0001', 1);
    await runCase('warm-up', [db], keyed, 'T0WARM0002', 1);
    const rows: CaseResult[] = [];
    rows.push(await runCase('previous append, 1 writer', [db], () => previousAppend, 'T0PREV0001', 1));
    rows.push(await runCase('one-statement append, 1 writer', [db], keyed, 'T0NEXT0001', 1));
    rows.push(await runCase(`previous append, ${WRITERS} writers`, [db], () => previousAppend, 'T0PREV0002', WRITERS));
    rows.push(await runCase(`one-statement append, ${WRITERS} writers`, [db], keyed, 'T0NEXT0002', WRITERS));
    const half = Math.max(1, WRITERS / 2);
    rows.push(
      await runCase(`previous append, 2 instances × ${half}`, [db, second], () => previousAppend, 'T0PREV0003', half),
    );
    rows.push(await runCase(`one-statement append, 2 instances × ${half}`, [db, second], keyed, 'T0NEXT0003', half));
    const base = (label: string) => rows.find((r) => r.label === label.replace('one-statement', 'previous'))!;
    console.log(
      table(
        ['case', 'appends/s', 'vs previous', 'p50', 'p99', 'statements/append'],
        rows.map((r) => [
          r.label,
          r.perSecond.toFixed(0),
          r.label.startsWith('one-statement') ? ratio(r.perSecond, base(r.label).perSecond) : '',
          ms(r.p50),
          ms(r.p99),
          r.statements.toFixed(2),
        ]),
      ),
    );
    console.log('statements/append counts every round trip (BEGIN and COMMIT included; a miss and its head read too)');
    for (const team of ['T0NEXT0001', 'T0NEXT0002', 'T0NEXT0003']) {
      const r = await verifyAuditChain(db.em.fork(), keyring, { teamId: team });
      if (!r.ok) throw new Error(`the keyed chain of ${team} does not verify: ${r.problem}`);
      console.log(`chain ${team}: ${r.checked} events verified`);
    }
  } finally {
    await second.close();
    await dispose();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runAuditAppendBench();
