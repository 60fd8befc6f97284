/**
 * A responder's TOTP step-up enrollment: 'none'; 'pending' (first enrollment started, not usable yet);
 * 'active' (usable; a re-enrollment in progress keeps the active secret until the new one is confirmed).
 */
export const TOTP_STATUSES = ['none', 'pending', 'active'] as const;
export type TotpStatus = (typeof TOTP_STATUSES)[number];
