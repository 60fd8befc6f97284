/**
 * Errors that the product knows how to explain carry a stable code. One translator
 * (src/slack/error-translator.ts) turns a code into what the user sees; anything
 * else is an unknown error, logged with a correlation id and shown as a short message.
 *
 * `message` is for logs and developers. It must never contain a secret.
 * `userMessage` is the plain-words text for the person in Slack, when the code's
 * default text is not specific enough.
 */
export type ErrorCode =
  // configuration and start-up
  | 'CONFIG_INVALID'
  | 'DATA_DIR_LOCKED'
  // input
  | 'INVALID_INPUT'
  | 'UNKNOWN_SUBCOMMAND'
  // access
  | 'NOT_A_RESPONDER'
  | 'FOREIGN_TEAM'
  | 'PERMISSION_DENIED'
  | 'STEP_UP_REQUIRED'
  | 'STEP_UP_NOT_ENROLLED'
  | 'STEP_UP_INVALID'
  | 'STEP_UP_LOCKED'
  | 'VERIFICATION_REQUIRED'
  // domain state
  | 'NOT_FOUND'
  | 'AMBIGUOUS_USER'
  | 'INVALID_STATE'
  | 'CONFLICT'
  | 'LIMIT_REACHED'
  // Duo
  | 'DUO_INVALID_SIGNATURE'
  | 'DUO_FORBIDDEN'
  | 'DUO_NOT_FOUND'
  | 'DUO_RATE_LIMITED'
  | 'DUO_UNAVAILABLE'
  | 'DUO_TIMEOUT'
  | 'DUO_BAD_RESPONSE'
  | 'DUO_REQUEST_REJECTED'
  | 'DUO_LIMIT_EXCEEDED';

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly userMessage: string | undefined;
  /** Non-secret facts for logs and audit rows (never a token, skey, code or secret). */
  readonly details: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { userMessage?: string; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.userMessage = options.userMessage;
    this.details = options.details ?? {};
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
