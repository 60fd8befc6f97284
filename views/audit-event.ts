import { AUDIT_ACTIONS } from '../src/audit/actions.js';
import { isAlertEvent } from '../src/audit/alerts.js';
import { shortLink } from '../src/audit/chain.js';
import type { Checkpoint } from '../src/audit/checkpoint.js';
import type { AuditRow } from '../src/audit/store.js';
import { ROLE_LABELS, type Role } from '../src/domain/roles.js';
import { context, esc, section } from './common.js';

/** How one audit event reads in the audit channel and in `/duo audit`. Built only from the stored row. */
const OUTCOME_ICON: Record<string, string> = {
  success: ':white_check_mark:',
  denied: ':no_entry:',
  failed: ':x:',
  pending: ':hourglass_flowing_sand:',
  unknown: ':grey_question:',
};

export function actorText(row: Pick<AuditRow, 'actorUserId' | 'actorRole'>): string {
  const id = row.actorUserId;
  if (!id) return 'someone';
  if (id === 'duo-desk') return 'duo-desk';
  if (id === 'cli') return 'the command line';
  const role = row.actorRole && row.actorRole in ROLE_LABELS ? ` (${ROLE_LABELS[row.actorRole as Role]})` : '';
  return `<@${id}>${role}`;
}

const paramText = (params: Record<string, unknown>): string =>
  Object.entries(params)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .slice(0, 12)
    .map(([k, v]) => `${k}: ${esc(String(v))}`)
    .join(' · ');

export function auditLine(row: AuditRow): string {
  const verb = AUDIT_ACTIONS[row.action as keyof typeof AUDIT_ACTIONS] ?? row.action;
  const target = row.targetUsername ? ` *${esc(row.targetUsername)}*` : '';
  const phase = row.phase === 'intent' ? ' (starting)' : '';
  return `${OUTCOME_ICON[row.outcome] ?? ''} ${actorText(row)} ${verb}${target}${phase}: *${row.outcome}*`;
}

export function auditEventMessage(row: AuditRow): { text: string; blocks: unknown[] } {
  const details = [
    row.reason ? `reason: ${esc(row.reason)}` : '',
    row.ticket ? `ticket: ${esc(row.ticket)}` : '',
    row.requestRef ? `request: \`${esc(row.requestRef)}\`` : '',
    row.duoRef ? `duo: \`${esc(row.duoRef)}\`` : '',
    row.targetDuoUserId ? `duo user: \`${esc(row.targetDuoUserId)}\`` : '',
    paramText(row.params),
  ].filter(Boolean);
  const when = utc(row.occurredAt);
  // Alerts (a push reported as fraud, a lockout, bypass status, a weakening change) must stand out in the channel.
  const line = isAlertEvent(row) ? `:rotating_light: *ALERT* ${auditLine(row)}` : auditLine(row);
  // The footer is the witness: seq and link as the database had them when this was posted.
  const link = `link ${shortLink(row.hash)}`;
  return {
    text: `${line} (#${row.seq}, ${when}, ${link})`,
    blocks: [
      section(line),
      context(`#${row.seq} · ${when} · ${link}${details.length ? ` · ${details.join(' · ')}` : ''}`),
    ],
  };
}

/** A signed checkpoint as posted to the audit channel (the metadata carries the full link and signature). */
export function auditCheckpointMessage(cp: Checkpoint): { text: string; blocks: unknown[] } {
  const line = `:lock: Audit checkpoint: the trail is at event #${cp.seq}`;
  const footer = `#${cp.seq} · ${utc(cp.signedAt)} · link ${shortLink(cp.link)} · key ${cp.keyId} · signature ${cp.signature.slice(0, 16)}`;
  return { text: `${line} (${footer})`, blocks: [section(line), context(footer)] };
}

const utc = (d: Date) => `${d.toISOString().replace('T', ' ').slice(0, 19)} UTC`;
