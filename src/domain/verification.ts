/** Where a caller verification (a Duo Push sent by a responder) stands. Only 'approved' verifies the caller. */
export const VERIFICATION_STATUSES = ['waiting', 'approved', 'denied', 'fraud', 'timed_out', 'failed'] as const;
export type VerificationStatus = (typeof VERIFICATION_STATUSES)[number];

/**
 * Why a push was sent: to verify a caller (what unlocks and bypass requests rely on), or to confirm a
 * responder's own step-up enrollment on their own Duo account (which verifies no caller).
 */
export const VERIFICATION_PURPOSES = ['caller', 'enrollment'] as const;
export type VerificationPurpose = (typeof VERIFICATION_PURPOSES)[number];
