import type { EntityManager } from '../db/database.js';
import { AppError } from '../errors.js';
import type { AuditTrail } from './trail.js';

/**
 * Changes to responders and settings made outside duo-desk. A database trigger records every change
 * to those tables (migrations/Migration20261201000300_keyed_audit.ts) with its transaction id;
 * duo-desk writes its audit event in the same transaction as its change, so a recorded change with no
 * audit event in its transaction was made by someone else: a DBA in psql, a script, an insider. Each
 * stays reported until someone looks into it and acknowledges it (an audited event of its own).
 */
export interface OutsideChange {
  id: number;
  at: Date;
  dbUser: string;
  table: string;
  operation: string;
  teamId: string | null;
  rowRef: string | null;
  columns: string[];
}

export async function unauditedDbChanges(em: EntityManager): Promise<OutsideChange[]> {
  const rows = await em.getConnection().execute<
    Array<{
      id: string;
      at: Date | string;
      db_user: string;
      table_name: string;
      operation: string;
      team_id: string | null;
      row_ref: string | null;
      columns: string[] | string;
    }>
  >(
    `select c.id, c.at, c.db_user, c.table_name, c.operation, c.team_id, c.row_ref, c.columns from audit_db_change c
     where not exists (select 1 from audit_event e where e.txid = c.txid)
       and not exists (select 1 from audit_event a
                       where a.action = 'audit.db_change_acknowledged' and a.params ->> 'changeId' = c.id::text)
     order by c.id`,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    at: new Date(r.at),
    dbUser: r.db_user,
    table: r.table_name,
    operation: r.operation,
    teamId: r.team_id,
    rowRef: r.row_ref,
    columns: typeof r.columns === 'string' ? JSON.parse(r.columns) : r.columns,
  }));
}

export function describeOutsideChange(c: OutsideChange): string {
  const row = c.rowRef ? ` ${c.rowRef}` : '';
  const team = c.teamId ? ` in ${c.teamId}` : '';
  const columns = c.columns.length ? ` (${c.columns.join(', ')})` : '';
  return `change #${c.id}: ${c.operation} of ${c.table}${row}${team}${columns} by database user ${c.dbUser} at ${c.at.toISOString()}`;
}

/** Records that someone looked into an outside change; `audit verify` stops reporting it. */
export async function acknowledgeDbChange(
  audit: AuditTrail,
  em: EntityManager,
  opts: { changeId: number; reason: string; teamId: string; correlationId: string },
): Promise<OutsideChange> {
  const change = (await unauditedDbChanges(em)).find((c) => c.id === opts.changeId);
  if (!change)
    throw new AppError(
      'NOT_FOUND',
      `there is no unacknowledged outside change #${opts.changeId}: duo-desk audit verify lists them`,
    );
  await audit.record(em, {
    teamId: change.teamId ?? opts.teamId,
    actor: { system: 'cli' },
    action: 'audit.db_change_acknowledged',
    outcome: 'success',
    reason: opts.reason,
    correlationId: opts.correlationId,
    params: {
      changeId: change.id,
      table: change.table,
      operation: change.operation,
      row: change.rowRef,
      dbUser: change.dbUser,
    },
  });
  return change;
}
