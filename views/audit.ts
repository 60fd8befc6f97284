import type { AuditRow } from '../src/audit/store.js';
import type { AuditExportFile, AuditHistoryModel } from '../src/usecases/audit-read.js';
import { auditLine } from './audit-event.js';
import { actions, type Block, button, context, esc, section, truncate } from './common.js';
import { ACTIONS, SLASH_COMMAND } from './ids.js';

/**
 * `/duo audit [user]`: the recent events, newest first, one section each (25 at most, so the
 * message stays under Slack's 50 blocks and every text under its limits). Built from stored rows only.
 */
const AUDIT_BLOCK_ID = 'audit_actions';

const utc = (d: Date) => `${d.toISOString().replace('T', ' ').slice(0, 19)} UTC`;

function eventDetails(row: AuditRow): string {
  return [
    `#${row.seq}`,
    utc(row.occurredAt),
    row.ticket ? `ticket: ${esc(truncate(row.ticket, 60))}` : '',
    row.reason ? `reason: ${esc(truncate(row.reason, 120))}` : '',
    row.requestRef ? `request: \`${esc(row.requestRef)}\`` : '',
    row.duoRef ? `duo: \`${esc(row.duoRef)}\`` : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

export function auditHistoryMessage(model: AuditHistoryModel): { text: string; blocks: Block[] } {
  const rows = model.rows.slice(0, 25);
  const whose = model.username ? ` for *${esc(model.username)}*` : '';
  const title = rows.length
    ? `:scroll: The ${rows.length === 1 ? 'most recent audit event' : `${rows.length} most recent audit events`}${whose}, newest first:`
    : `:scroll: No audit events${whose} yet.${model.username ? ' (The filter matches the Duo username exactly, not aliases or emails.)' : ''}`;
  const blocks: Block[] = [section(title)];
  for (const row of rows) blocks.push(section(`${auditLine(row)}\n${eventDetails(row)}`));
  const footer = `The full trail: \`${SLASH_COMMAND} audit export csv|json [since] [until]\` (dates as ISO, e.g. 2026-11-01).`;
  if (model.canExport) {
    blocks.push(actions(AUDIT_BLOCK_ID, [button('Export as CSV', ACTIONS.auditExport, 'csv')]));
    blocks.push(context(footer));
  }
  return {
    text: rows.length
      ? `${rows.length} recent audit events${model.username ? ` for ${model.username}` : ''}`
      : 'No audit events yet',
    blocks,
  };
}

export function auditExportPreparing(format: 'csv' | 'json'): string {
  return `:hourglass_flowing_sand: Preparing the audit export (${format.toUpperCase()})… it will arrive as a file in your DMs.`;
}

export function auditExportSent(file: Pick<AuditExportFile, 'filename' | 'rows'>): string {
  return `:white_check_mark: Sent \`${esc(file.filename)}\` (${file.rows} ${file.rows === 1 ? 'event' : 'events'}) to your DMs.`;
}

export function auditExportFileInfo(file: Pick<AuditExportFile, 'format' | 'rows'>) {
  return {
    title: `duo-desk audit trail (${file.format.toUpperCase()})`,
    comment: `Your duo-desk audit export: ${file.rows} ${file.rows === 1 ? 'event' : 'events'}, times in UTC. It holds no secrets, but treat it as confidential.`,
  };
}
