import type { EntityManager } from '../db/database.js';
import { GENESIS_HASH, hashAuditRow } from './chain.js';
import { iterateAuditRows } from './store.js';

export type ChainReport =
  | { ok: true; checked: number; teams: number }
  | { ok: false; checked: number; teamId: string; seq: number; eventId: number | null; problem: string };

/**
 * Walks every installation's chain in order: each row's hash must match its content, its prev_hash
 * the previous row's hash, and its seq must follow; the chain head must match the last row
 * (so deleting the newest rows is caught too).
 */
export async function verifyAuditChain(em: EntityManager): Promise<ChainReport> {
  const heads = new Map<string, { seq: number; hash: string }>();
  const headRows = await em
    .getConnection()
    .execute<Array<{ team_id: string; seq: string; hash: string }>>('select team_id, seq, hash from audit_chain_head');
  for (const h of headRows) heads.set(h.team_id, { seq: Number(h.seq), hash: h.hash });

  const tips = new Map<string, { seq: number; hash: string }>();
  let checked = 0;
  for await (const row of iterateAuditRowsOrdered(em)) {
    const tip = tips.get(row.teamId) ?? { seq: 0, hash: GENESIS_HASH };
    const fail = (problem: string): ChainReport => ({
      ok: false,
      checked,
      teamId: row.teamId,
      seq: row.seq,
      eventId: row.id,
      problem,
    });
    if (row.seq !== tip.seq + 1)
      return fail(`event #${tip.seq + 1} is missing (found #${row.seq} after #${tip.seq}): a row was deleted`);
    if (row.prevHash !== tip.hash)
      return fail(`event #${row.seq} does not link to event #${tip.seq}: the chain was altered`);
    if (hashAuditRow(row) !== row.hash) return fail(`event #${row.seq} does not match its hash: the row was edited`);
    tips.set(row.teamId, { seq: row.seq, hash: row.hash });
    checked++;
  }
  for (const [teamId, tip] of tips)
    if (!heads.has(teamId))
      return {
        ok: false,
        checked,
        teamId,
        seq: tip.seq,
        eventId: null,
        problem: `the chain has events up to #${tip.seq} but no head: the chain head was deleted`,
      };
  for (const [teamId, head] of heads) {
    const tip = tips.get(teamId) ?? { seq: 0, hash: GENESIS_HASH };
    if (head.seq !== tip.seq || head.hash !== tip.hash)
      return {
        ok: false,
        checked,
        teamId,
        seq: tip.seq + 1,
        eventId: null,
        problem: `the chain ends at event #${tip.seq} but its head says #${head.seq}: the newest rows were deleted or altered`,
      };
  }
  return { ok: true, checked, teams: heads.size };
}

/** Rows per team in id order, which is seq order: both are assigned under the chain-head lock. */
async function* iterateAuditRowsOrdered(em: EntityManager) {
  const teams = await em
    .getConnection()
    .execute<Array<{ team_id: string }>>('select distinct team_id from audit_event order by team_id');
  for (const { team_id } of teams) yield* iterateAuditRows(em, { teamId: team_id });
}
