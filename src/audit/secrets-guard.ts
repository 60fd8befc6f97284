import { AppError } from '../errors.js';

/**
 * Defence in depth for the audit trail: parameters are small scalars, and nothing that looks like
 * a bypass code (nine digits), a TOTP code, a Slack token or a provisioning URI gets in.
 */
const FORBIDDEN_KEYS = /(code|secret|token|skey|password|otp|totp|authorization)s?$/i;
const ALLOWED_KEYS_ENDING_IN_CODE = new Set(['duoErrorCode', 'errorCode', 'duo_code', 'count']);
const SECRET_VALUES = [/^\d{6}$/, /^\d{9}$/, /xox[a-z]-/, /xapp-/, /otpauth:/i, /^Basic\s/i];

export type AuditParams = Record<string, string | number | boolean | null>;

export function assertAuditSafe(params: AuditParams, extraText: Array<string | null | undefined> = []): void {
  for (const [k, v] of Object.entries(params)) {
    if (FORBIDDEN_KEYS.test(k) && !ALLOWED_KEYS_ENDING_IN_CODE.has(k))
      throw new AppError('INVALID_INPUT', `audit parameter ${k} is not allowed (it may carry a secret)`);
    if (typeof v === 'string' && SECRET_VALUES.some((re) => re.test(v.trim())))
      throw new AppError('INVALID_INPUT', `audit parameter ${k} looks like a secret and was refused`);
  }
  for (const t of extraText)
    if (t && looksLikeSecret(t))
      throw new AppError('INVALID_INPUT', 'audit text looks like it carries a secret and was refused');
}

/** Free text (a reason, a ticket) that carries a bypass code, a Slack token or a provisioning URI. */
export const looksLikeSecret = (text: string): boolean => /\b\d{9}\b|xox[a-z]-|xapp-|otpauth:/i.test(text);
