/**
 * A responder's TOTP step-up enrollment: 'none'; 'pending' (first enrollment started, not usable yet);
 * 'active' (usable; a re-enrollment in progress keeps the active secret until the new one is confirmed).
 */
export const TOTP_STATUSES = ['none', 'pending', 'active'] as const;
export type TotpStatus = (typeof TOTP_STATUSES)[number];

/**
 * How one enrollment attempt stands: 'pending' until confirmed (push approved and a first valid code),
 * or it ended: 'refused' (the push was denied, reported or timed out), 'expired' (not confirmed in time),
 * 'replaced' (the responder started another one, or an Owner reset it).
 */
export const TOTP_ENROLLMENT_STATUSES = ['pending', 'confirmed', 'refused', 'expired', 'replaced'] as const;
export type TotpEnrollmentStatus = (typeof TOTP_ENROLLMENT_STATUSES)[number];
