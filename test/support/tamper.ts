import { GENESIS_HASH, hashAuditRow, linkAuditRow } from '../../src/audit/chain.js';
import type { AuditKey } from '../../src/audit/keys.js';
import { type AuditRow, iterateAuditRows } from '../../src/audit/store.js';
import type { Database } from '../../src/db/database.js';

/**
 * The insider with superuser access: rewrites an installation's chain behind the append-only trigger,
 * renumbering rows and recomputing every link from the first change on, and moves the head to match.
 * `edit` gets the rows in seq order and returns the new list: the same objects for rows it keeps, new
 * ones for rows it changes or inserts. Gives back an undo.
 */
export type Relink = (row: AuditRow) => { hash: string; keyId: string | null };

/** Recomputed the old way: plain SHA-256 (the pre-keyed code), the key id column left as it was. */
export const oldWay: Relink = (row) => ({ hash: hashAuditRow(row), keyId: row.keyId });
/** Recomputed with a stolen audit key. */
export const withKey =
  (key: AuditKey): Relink =>
  (row) => ({ hash: linkAuditRow({ ...row, keyId: key.id }, key), keyId: key.id });

export async function teamRows(db: Database, teamId: string): Promise<AuditRow[]> {
  const rows: AuditRow[] = [];
  for await (const r of iterateAuditRows(db.em.fork(), { teamId })) rows.push(r);
  return rows;
}

export async function rewriteChain(
  db: Database,
  teamId: string,
  edit: (rows: AuditRow[]) => AuditRow[],
  relink: Relink = oldWay,
): Promise<() => Promise<void>> {
  const original = await teamRows(db, teamId);
  const edited = edit([...original]);
  const from = edited.findIndex((r, i) => r !== original[i]);
  let prev = from > 0 ? edited[from - 1]!.hash : GENESIS_HASH;
  const rewritten = edited.map((r, i) => {
    if (from < 0 || i < from) return r;
    const row = { ...r, seq: i + 1, prevHash: prev };
    const { hash, keyId } = relink(row);
    prev = hash;
    return { ...row, hash, keyId };
  });
  await replaceRows(db, teamId, rewritten);
  return () => replaceRows(db, teamId, original);
}

/** Replaces the installation's rows as a superuser (trigger off) and points the head at the last one. */
async function replaceRows(db: Database, teamId: string, rows: AuditRow[]): Promise<void> {
  await db.em.fork().transactional(async (em) => {
    const conn = em.getConnection();
    const trx = em.getTransactionContext();
    const run = (sql: string, params: unknown[] = []) => conn.execute(sql, params, 'run', trx);
    await run('alter table audit_event disable trigger audit_event_no_update_delete');
    await run('delete from audit_event where team_id = ?', [teamId]);
    for (const r of rows)
      await run(
        `insert into audit_event (id, team_id, seq, occurred_at, actor_user_id, actor_role, action, phase, target_duo_user_id,
           target_username, outcome, reason, ticket, correlation_id, intent_id, request_ref, duo_ref, params, prev_hash, hash, key_id)
         values (coalesce(?, nextval('audit_event_id_seq')), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          r.id > 0 ? r.id : null,
          r.teamId,
          r.seq,
          r.occurredAt,
          r.actorUserId,
          r.actorRole,
          r.action,
          r.phase,
          r.targetDuoUserId,
          r.targetUsername,
          r.outcome,
          r.reason,
          r.ticket,
          r.correlationId,
          r.intentId,
          r.requestRef,
          r.duoRef,
          JSON.stringify(r.params),
          r.prevHash,
          r.hash,
          r.keyId,
        ],
      );
    const last = rows.at(-1);
    await run('update audit_chain_head set seq = ?, hash = ? where team_id = ?', [
      last?.seq ?? 0,
      last?.hash ?? GENESIS_HASH,
      teamId,
    ]);
    await run('alter table audit_event enable trigger audit_event_no_update_delete');
  });
}
