import type { ChainedFields } from './chain.js';

/**
 * Which events are alerts: posted to the audit channel ahead of any backlog and marked there. Decided
 * from the row's own content (so the relay, the channel view and an auditor agree): the actions below,
 * a status change to bypass, or an event whose writer flagged it with `params.alert` (a push reported
 * as fraud, a change that weakens a setting).
 */
const ALERT_ACTIONS = new Set(['stepup.locked', 'stepup.secret_rejected', 'audit.gap_detected', 'audit.key_rotated']);

export function isAlertEvent(row: Pick<ChainedFields, 'action' | 'params'>): boolean {
  if (ALERT_ACTIONS.has(row.action)) return true;
  if (row.action === 'user.status_changed' && row.params.to === 'bypass') return true;
  const flag = row.params.alert;
  return flag === true || (typeof flag === 'string' && flag.length > 0);
}
