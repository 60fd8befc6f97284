/** Where a caller verification (a Duo Push sent by a responder) stands. Only 'approved' verifies the caller. */
export const VERIFICATION_STATUSES = ['waiting', 'approved', 'denied', 'fraud', 'timed_out', 'failed'] as const;
export type VerificationStatus = (typeof VERIFICATION_STATUSES)[number];
