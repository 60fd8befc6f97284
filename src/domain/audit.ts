/** How an audited step ended. 'pending' marks an intent written before a Duo call whose outcome follows. */
export const AUDIT_OUTCOMES = ['success', 'denied', 'failed', 'pending', 'unknown'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];
