import type { EntityManager } from '../db/database.js';
import { iterateAuditRows } from './store.js';

/** CSV and JSON exports, like the Duo Admin Panel's: one row per event, UTC ISO times. */
const CSV_COLUMNS = [
  'seq',
  'occurred_at',
  'team_id',
  'actor_user_id',
  'actor_role',
  'action',
  'phase',
  'outcome',
  'target_duo_user_id',
  'target_username',
  'reason',
  'ticket',
  'request_ref',
  'duo_ref',
  'correlation_id',
  'intent_id',
  'params',
  'hash',
] as const;

export const csvCell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  // Quote always; neutralise spreadsheet formulas (CSV injection).
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return `"${safe.replace(/"/g, '""')}"`;
};

export interface ExportFilter {
  teamId?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
}

export async function* exportAudit(
  em: EntityManager,
  format: 'csv' | 'json',
  filter: ExportFilter,
): AsyncGenerator<string> {
  let first = true;
  if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\n`;
  else yield '[';
  for await (const r of iterateAuditRows(em, filter)) {
    const record = {
      seq: r.seq,
      occurred_at: r.occurredAt.toISOString(),
      team_id: r.teamId,
      actor_user_id: r.actorUserId,
      actor_role: r.actorRole,
      action: r.action,
      phase: r.phase,
      outcome: r.outcome,
      target_duo_user_id: r.targetDuoUserId,
      target_username: r.targetUsername,
      reason: r.reason,
      ticket: r.ticket,
      request_ref: r.requestRef,
      duo_ref: r.duoRef,
      correlation_id: r.correlationId,
      intent_id: r.intentId,
      params: r.params,
      hash: r.hash,
    };
    if (format === 'csv') yield `${CSV_COLUMNS.map((c) => csvCell(record[c])).join(',')}\n`;
    else {
      yield `${first ? '\n' : ',\n'}${JSON.stringify(record)}`;
      first = false;
    }
  }
  if (format === 'json') yield first ? ']\n' : '\n]\n';
}

export async function exportAuditToString(
  em: EntityManager,
  format: 'csv' | 'json',
  filter: ExportFilter,
): Promise<string> {
  let out = '';
  for await (const chunk of exportAudit(em, format, filter)) out += chunk;
  return out;
}
