import type { EntityManager } from '../db/database.js';
import type { ChainedFields } from './chain.js';

/** Reading the audit trail back: verification, export, `/duo audit`. */
export interface AuditRow extends ChainedFields {
  id: number;
  hash: string;
}

const COLUMNS = `id, team_id, seq, occurred_at, actor_user_id, actor_role, action, phase, target_duo_user_id, target_username,
  outcome, reason, ticket, correlation_id, intent_id, request_ref, duo_ref, params, prev_hash, hash, key_id`;

type Raw = Record<string, unknown>;
export function toAuditRow(r: Raw): AuditRow {
  return {
    id: Number(r.id),
    teamId: String(r.team_id),
    seq: Number(r.seq),
    occurredAt: r.occurred_at instanceof Date ? r.occurred_at : new Date(String(r.occurred_at)),
    actorUserId: (r.actor_user_id as string | null) ?? null,
    actorRole: (r.actor_role as string | null) ?? null,
    action: String(r.action),
    phase: String(r.phase),
    targetDuoUserId: (r.target_duo_user_id as string | null) ?? null,
    targetUsername: (r.target_username as string | null) ?? null,
    outcome: String(r.outcome),
    reason: (r.reason as string | null) ?? null,
    ticket: (r.ticket as string | null) ?? null,
    correlationId: (r.correlation_id as string | null) ?? null,
    intentId: r.intent_id === null || r.intent_id === undefined ? null : Number(r.intent_id),
    requestRef: (r.request_ref as string | null) ?? null,
    duoRef: (r.duo_ref as string | null) ?? null,
    params: (typeof r.params === 'string' ? JSON.parse(r.params) : r.params) as Record<string, unknown>,
    prevHash: String(r.prev_hash),
    hash: String(r.hash),
    keyId: (r.key_id as string | null) ?? null,
  };
}

export async function* iterateAuditRows(
  em: EntityManager,
  filter: { teamId?: string; since?: Date; until?: Date } = {},
  pageSize = 1000,
): AsyncGenerator<AuditRow> {
  let afterId = 0;
  for (;;) {
    const where: string[] = ['id > ?'];
    const params: unknown[] = [afterId];
    if (filter.teamId) {
      where.push('team_id = ?');
      params.push(filter.teamId);
    }
    if (filter.since) {
      where.push('occurred_at >= ?');
      params.push(filter.since);
    }
    if (filter.until) {
      where.push('occurred_at < ?');
      params.push(filter.until);
    }
    const rows = await em
      .getConnection()
      .execute<Raw[]>(
        `select ${COLUMNS} from audit_event where ${where.join(' and ')} order by id limit ${pageSize}`,
        params,
      );
    if (!rows.length) return;
    for (const r of rows) yield toAuditRow(r);
    afterId = Number(rows[rows.length - 1]!.id);
  }
}

export async function recentAuditRows(
  em: EntityManager,
  teamId: string,
  opts: { username?: string | undefined; limit: number },
): Promise<AuditRow[]> {
  const params: unknown[] = [teamId];
  let filter = '';
  if (opts.username) {
    filter = 'and lower(target_username) = lower(?)';
    params.push(opts.username);
  }
  const rows = await em
    .getConnection()
    .execute<Raw[]>(
      `select ${COLUMNS} from audit_event where team_id = ? ${filter} order by seq desc limit ${Math.max(1, opts.limit)}`,
      params,
    );
  return rows.map(toAuditRow);
}

export async function auditRowById(em: EntityManager, id: number): Promise<AuditRow | undefined> {
  const [r] = await em.getConnection().execute<Raw[]>(`select ${COLUMNS} from audit_event where id = ?`, [id]);
  return r ? toAuditRow(r) : undefined;
}
