import type { EntityManager } from '../db/database.js';
import { GENESIS_HASH, hashAuditRow, linkAuditRow } from './chain.js';
import type { AuditKeyring } from './keys.js';
import { type AuditRow, iterateAuditRows } from './store.js';

export type ChainReport =
  | { ok: true; checked: number; teams: number; keyed: number }
  | { ok: false; checked: number; teamId: string; seq: number; eventId: number | null; problem: string };

interface Tip {
  seq: number;
  hash: string;
  keyId: string | null;
  /** The seq where this chain's keyed part began; null while it is still unkeyed. */
  keyedFrom: number | null;
}

/**
 * Walks every installation's chain in order: each row must match its link (HMAC under the key it
 * names, or the plain SHA-256 of rows from before the keyed chain), link to the previous row, and
 * follow its seq; the chain head must match the last row (so deleting the newest rows is caught too).
 *
 * Once a chain is keyed it stays keyed: an unkeyed row after the first keyed one is a rewrite (someone
 * without the key recomputed hashes the old way), the keyed part of a chain with earlier rows must
 * begin with the `audit.chain_keyed` marker, a chain must end keyed, and the key may only change at an
 * `audit.key_rotated` event linked with the new key. Retired keys are needed for the rows they linked.
 */
export async function verifyAuditChain(
  em: EntityManager,
  keyring: AuditKeyring,
  opts: { teamId?: string | undefined } = {},
): Promise<ChainReport> {
  const heads = new Map<string, { seq: number; hash: string }>();
  const headRows = await em
    .getConnection()
    .execute<Array<{ team_id: string; seq: string; hash: string }>>(
      `select team_id, seq, hash from audit_chain_head${opts.teamId ? ' where team_id = ?' : ''}`,
      opts.teamId ? [opts.teamId] : [],
    );
  for (const h of headRows) heads.set(h.team_id, { seq: Number(h.seq), hash: h.hash });

  const tips = new Map<string, Tip>();
  let checked = 0;
  let keyed = 0;
  for await (const row of iterateAuditRowsOrdered(em, opts.teamId)) {
    const tip = tips.get(row.teamId) ?? { seq: 0, hash: GENESIS_HASH, keyId: null, keyedFrom: null };
    const problem = rowProblem(row, tip, keyring);
    if (problem) return { ok: false, checked, teamId: row.teamId, seq: row.seq, eventId: row.id, problem };
    tips.set(row.teamId, {
      seq: row.seq,
      hash: row.hash,
      keyId: row.keyId,
      keyedFrom: tip.keyedFrom ?? (row.keyId ? row.seq : null),
    });
    checked++;
    if (row.keyId) keyed++;
  }
  const fail = (teamId: string, seq: number, problem: string): ChainReport => ({
    ok: false,
    checked,
    teamId,
    seq,
    eventId: null,
    problem,
  });
  for (const [teamId, tip] of tips) {
    if (!heads.has(teamId))
      return fail(teamId, tip.seq, `the chain has events up to #${tip.seq} but no head: the chain head was deleted`);
    if (tip.keyedFrom === null)
      return fail(
        teamId,
        tip.seq,
        `the chain ends at event #${tip.seq} without a keyed event: either duo-desk has not started since the upgrade (start it once to seal the chain), or the keyed events were rewritten the old way`,
      );
  }
  for (const [teamId, head] of heads) {
    const tip = tips.get(teamId) ?? { seq: 0, hash: GENESIS_HASH };
    if (head.seq !== tip.seq || head.hash !== tip.hash)
      return fail(
        teamId,
        tip.seq + 1,
        `the chain ends at event #${tip.seq} but its head says #${head.seq}: the newest rows were deleted or altered`,
      );
  }
  return { ok: true, checked, teams: heads.size, keyed };
}

function rowProblem(row: AuditRow, tip: Tip, keyring: AuditKeyring): string | undefined {
  if (row.seq !== tip.seq + 1)
    return `event #${tip.seq + 1} is missing (found #${row.seq} after #${tip.seq}): a row was deleted`;
  if (row.prevHash !== tip.hash) return `event #${row.seq} does not link to event #${tip.seq}: the chain was altered`;
  if (row.keyId === null) {
    if (tip.keyedFrom !== null)
      return `event #${row.seq} is not keyed although the keyed chain began at #${tip.keyedFrom}: it was rewritten without the audit key`;
    if (hashAuditRow(row) !== row.hash) return `event #${row.seq} does not match its hash: the row was edited`;
    return undefined;
  }
  const key = keyring.get(row.keyId);
  if (!key)
    return `event #${row.seq} was linked with audit key id ${row.keyId}, which is not configured: add that key to DUO_DESK_AUDIT_KEYS_RETIRED (or the row was forged)`;
  if (linkAuditRow(row, key) !== row.hash) return `event #${row.seq} does not match its link: the row was edited`;
  if (tip.keyedFrom === null) {
    if (row.seq > 1 && row.action !== 'audit.chain_keyed')
      return `event #${row.seq} begins the keyed chain without the audit.chain_keyed marker: the chain was altered`;
    return undefined;
  }
  if (row.keyId !== tip.keyId) {
    const rotation =
      row.action === 'audit.key_rotated' && row.params.fromKeyId === tip.keyId && row.params.toKeyId === row.keyId;
    if (!rotation)
      return `event #${row.seq} is linked with another audit key than event #${tip.seq} without a key rotation event: the chain was altered`;
  }
  return undefined;
}

/** Rows per team in id order, which is seq order: both are assigned under the chain-head lock. */
async function* iterateAuditRowsOrdered(em: EntityManager, teamId: string | undefined) {
  const teams = teamId
    ? [{ team_id: teamId }]
    : await em
        .getConnection()
        .execute<Array<{ team_id: string }>>('select distinct team_id from audit_event order by team_id');
  for (const { team_id } of teams) yield* iterateAuditRows(em, { teamId: team_id });
}
