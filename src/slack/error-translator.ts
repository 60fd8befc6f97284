import { type AppError, type ErrorCode, isAppError } from '../errors.js';

/**
 * The one place that turns an error into what a person sees. Known errors (with a stable code)
 * become a clear sentence that says what to do; unknown errors become a short message with the
 * correlation id, and their detail goes only to the log.
 */
const MESSAGES: Partial<Record<ErrorCode, string>> = {
  NOT_A_RESPONDER:
    "You are not a duo-desk responder, so duo-desk can't act for you. Ask a duo-desk owner or administrator to grant you a role (`/duo roles`), or the person who installed duo-desk (`npx duo-desk roles grant <your Slack user id> <role>`).",
  FOREIGN_TEAM:
    'duo-desk only acts for members of the workspace it is installed in. Requests from other workspaces and Slack Connect guests are refused.',
  PERMISSION_DENIED: "You don't have permission to do that.",
  INVALID_INPUT: "That input isn't valid.",
  UNKNOWN_SUBCOMMAND: "I don't know that command. Try `/duo help`.",
  NOT_FOUND: "I couldn't find that.",
  AMBIGUOUS_USER: 'More than one Duo user matches. Use the exact username.',
  INVALID_STATE: 'That is no longer possible: things changed in the meantime. Look the user up again.',
  CONFLICT: 'Someone else changed this at the same moment. Look again and retry if still needed.',
  LIMIT_REACHED: 'A limit was reached.',
  VERIFICATION_REQUIRED:
    'Verify the caller first: send a Duo Push with `/duo verify <user>` and have them read back the confirmation code.',
  STEP_UP_REQUIRED: 'This needs a current code from your authenticator app.',
  STEP_UP_NOT_ENROLLED: 'You need to enroll an authenticator app first: run `/duo mfa`.',
  STEP_UP_INVALID: "That code isn't valid. Enter the current 6-digit code from your authenticator app.",
  STEP_UP_LOCKED: 'Too many wrong codes: step-up is locked for 15 minutes. The audit channel has been told.',
  DUO_INVALID_SIGNATURE:
    "Duo rejected duo-desk's credentials (invalid signature). An administrator should check DUO_IKEY, DUO_SKEY and DUO_HOST and the server clock.",
  DUO_FORBIDDEN:
    "Duo refused: the Admin API application lacks a permission (grant). An administrator should enable the needed grant in Duo's Admin Panel.",
  DUO_NOT_FOUND: 'Duo could not find that user or object. It may have been deleted.',
  DUO_RATE_LIMITED: 'Duo is rate limiting duo-desk right now. Nothing was changed. Wait a minute and try again.',
  DUO_UNAVAILABLE: 'Duo is unreachable or failing right now. Nothing was changed. Try again in a moment.',
  DUO_TIMEOUT: "Duo didn't answer in time. Try again in a moment.",
  DUO_BAD_RESPONSE: 'Duo sent an answer duo-desk could not read. Try again; if it persists, tell an administrator.',
  DUO_REQUEST_REJECTED: 'Duo rejected the request.',
  DUO_LIMIT_EXCEEDED:
    'Duo refused: the user has reached the limit of 100 bypass codes. Delete unused codes first (`/duo codes <user>`).',
  CONFIG_INVALID: 'duo-desk is misconfigured. Tell an administrator.',
};

export interface UserFacingError {
  text: string;
  code: ErrorCode | 'UNKNOWN';
  known: boolean;
}

export function describeError(err: unknown, correlationId: string): UserFacingError {
  if (isAppError(err)) {
    const base = MESSAGES[err.code] ?? 'Something went wrong.';
    const text = err.userMessage ?? base;
    const extra = (err as AppError & { outcomeUnknown?: boolean }).outcomeUnknown
      ? ' Duo may or may not have applied the change: look the user up before retrying.'
      : '';
    return {
      text: `:warning: ${text}${err.code.startsWith('DUO_') && !err.userMessage ? extra : ''}`,
      code: err.code,
      known: true,
    };
  }
  return {
    text: `:warning: Something went wrong on duo-desk's side. Nothing more was done. Reference: \`${correlationId}\` (give it to an administrator).`,
    code: 'UNKNOWN',
    known: false,
  };
}

/** Which modal input an error belongs to, when it is about one field. */
export const errorField = (err: unknown): string | undefined =>
  isAppError(err) && typeof err.details.field === 'string' ? err.details.field : undefined;
