/**
 * Errors that the product knows how to explain carry a stable code. One translator
 * (src/slack/error-translator.ts, and the CLI's plain-words twin) turns them into what a person
 * reads; anything else is an unknown error, logged with a correlation id and shown as a short message.
 *
 * A *problem* is one specific failure with the facts its explanation needs ("bob is not locked out:
 * he is Active"). The core raises problems with facts only; every sentence, with its formatting, is
 * written in views/ (see views/problems.ts). Modules declare their problems next to the code that
 * raises them, by augmenting the `Problems` interface:
 *
 *   declare module '../errors.js' {
 *     interface Problems { 'unlock.nothing_to_unlock': { username: string; status: string } }
 *   }
 *
 * A problem without a sentence is a compile error in views/problems.ts.
 *
 * `message` is for logs and developers. Neither it nor a problem's facts ever contain a secret.
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

/** Problems with no facts beyond their name. */
export type NoFacts = Record<never, never>;

/** Every problem the product explains, by name, with its facts. Augmented by the modules that raise them. */
// biome-ignore lint/suspicious/noEmptyInterface: filled by module augmentation (see above)
export interface Problems {}
export type ProblemName = keyof Problems;
export type Problem = { [N in ProblemName]: { name: N; facts: Problems[N] } }[ProblemName];

export interface AppErrorOptions {
  /** The form input the error belongs to (a block id), when it is about one field. */
  field?: string | undefined;
  /** Non-secret facts for logs (never a token, skey, code or secret). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly problem: Problem | undefined;
  readonly field: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions & { problem?: Problem } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.problem = options.problem;
    this.field = options.field;
    this.details = options.details ?? {};
  }
}

/** Raises a named problem: `throw fail('INVALID_STATE', 'unlock.nothing_to_unlock', { username, status })`. */
export function fail<N extends ProblemName>(
  code: ErrorCode,
  name: N,
  facts: Problems[N],
  options: AppErrorOptions & { message?: string } = {},
): AppError {
  return new AppError(code, options.message ?? `${code}: ${name}`, {
    ...options,
    problem: { name, facts } as Problem,
  });
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

/** The same error, shown on a form input (a block id). */
export const onField = (e: AppError, field: string): AppError =>
  new AppError(e.code, e.message, { problem: e.problem, field, details: e.details, cause: e });

/** The problem of an error, when it is this one (for code that reacts to one specific failure). */
export function problemOf<N extends ProblemName>(e: unknown, name: N): Problems[N] | undefined {
  return isAppError(e) && e.problem?.name === name ? (e.problem.facts as Problems[N]) : undefined;
}
