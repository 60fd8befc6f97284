/** Where a bypass-code request stands. */
export const BYPASS_STATUSES = [
  'pending',
  'approved',
  'denied',
  'expired',
  'cancelled',
  'issued',
  'failed',
  'unknown',
] as const;
export type BypassStatus = (typeof BYPASS_STATUSES)[number];

/** Bypass-code parameters: the smallest scope that works, as Duo's Admin Panel defaults. */
export interface BypassParams {
  count: number;
  reuseCount: number; // uses per code; 0 = unlimited
  validSecs: number; // 0 = never expires
}

export const DEFAULT_BYPASS_PARAMS: BypassParams = { count: 1, reuseCount: 1, validSecs: 3600 };

export const VALIDITY_CHOICES_SECS = [3600, 4 * 3600, 8 * 3600, 24 * 3600] as const;
export const REUSE_CHOICES = [1, 2, 3, 5, 10] as const;
export const MAX_CODES_PER_REQUEST = 10;
export const MAX_CODES_PER_USER = 100;

export const isDefaultBypassParams = (p: BypassParams): boolean =>
  p.count === DEFAULT_BYPASS_PARAMS.count &&
  p.reuseCount === DEFAULT_BYPASS_PARAMS.reuseCount &&
  p.validSecs === DEFAULT_BYPASS_PARAMS.validSecs;

export function describeValidity(validSecs: number): string {
  if (validSecs === 0) return 'no expiry';
  const h = validSecs / 3600;
  return Number.isInteger(h) ? `${h} hour${h === 1 ? '' : 's'}` : `${Math.round(validSecs / 60)} minutes`;
}

export const describeUses = (reuseCount: number): string =>
  reuseCount === 0 ? 'unlimited uses' : `${reuseCount} use${reuseCount === 1 ? '' : 's'} per code`;
