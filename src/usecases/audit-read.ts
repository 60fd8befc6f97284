import { exportAudit } from '../audit/export.js';
import { type AuditRow, recentAuditRows } from '../audit/store.js';
import { authorize } from '../domain/authorize.js';
import { authorizeOrThrow, requireActor } from './access.js';
import type { Caller, Deps, EntityManager } from './deps.js';

/** `/duo audit [user]` and its export: reading the trail back is itself audited. */
export const AUDIT_VIEW_MAX = 25;

export interface AuditHistoryModel {
  rows: AuditRow[];
  username: string | undefined;
  limit: number;
  /** Whether this responder may also export (offers the export button; checked again on click). */
  canExport: boolean;
}

export async function readAudit(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  input: { username?: string | undefined; limit: number },
): Promise<AuditHistoryModel> {
  const actor = await requireActor(deps, em, caller);
  const settings = await authorizeOrThrow(deps, em, caller, actor, 'audit.read', { kind: 'none' });
  const limit = Math.min(AUDIT_VIEW_MAX, Math.max(1, Math.floor(input.limit) || AUDIT_VIEW_MAX));
  const rows = await recentAuditRows(em, actor.teamId, { username: input.username, limit });
  await deps.audit.record(em, {
    teamId: actor.teamId,
    actor: { userId: actor.userId, role: actor.role },
    action: 'audit.viewed',
    outcome: 'success',
    target: input.username ? { username: input.username } : undefined,
    correlationId: caller.correlationId,
    params: { shown: rows.length },
  });
  return {
    rows,
    username: input.username,
    limit,
    canExport: authorize(actor, 'audit.export', { kind: 'none' }, settings).allowed,
  };
}

export interface AuditExportFile {
  filename: string;
  content: string;
  format: 'csv' | 'json';
  rows: number;
}

/** The same file as `duo-desk audit export`, limited to the caller's installation. */
export async function exportAuditFile(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  input: { format: 'csv' | 'json'; since?: Date | undefined; until?: Date | undefined },
): Promise<AuditExportFile> {
  const actor = await requireActor(deps, em, caller);
  await authorizeOrThrow(deps, em, caller, actor, 'audit.export', { kind: 'none' });
  // exportAudit yields one chunk per event, plus the CSV header or the JSON brackets.
  const framing = input.format === 'csv' ? 1 : 2;
  let content = '';
  let chunks = 0;
  for await (const chunk of exportAudit(em, input.format, {
    teamId: actor.teamId,
    since: input.since,
    until: input.until,
  })) {
    content += chunk;
    chunks++;
  }
  const rows = Math.max(0, chunks - framing);
  await deps.audit.record(em, {
    teamId: actor.teamId,
    actor: { userId: actor.userId, role: actor.role },
    action: 'audit.exported',
    outcome: 'success',
    correlationId: caller.correlationId,
    params: {
      format: input.format,
      rows,
      since: input.since?.toISOString() ?? null,
      until: input.until?.toISOString() ?? null,
    },
  });
  const stamp = deps.clock
    .now()
    .toISOString()
    .replace(/[-:]|\.\d+/g, '');
  return { filename: `duo-desk-audit-${actor.teamId}-${stamp}.${input.format}`, content, format: input.format, rows };
}
