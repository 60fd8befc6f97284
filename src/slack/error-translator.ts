import { mrkdwn } from '../../views/format.js';
import { explain } from '../../views/problems.js';
import { type ErrorCode, isAppError } from '../errors.js';

/**
 * The one place that turns an error into what a person sees in Slack. Known errors (with a stable
 * code) become the sentence views/problems.ts has for their problem or code; unknown errors become a
 * short message with the correlation id, and their detail goes only to the log.
 */
export interface UserFacingError {
  text: string;
  code: ErrorCode | 'UNKNOWN';
  known: boolean;
}

const OUTCOME_UNKNOWN = ' Duo may or may not have applied the change: look the user up before retrying.';

export function describeError(err: unknown, correlationId: string): UserFacingError {
  if (isAppError(err)) {
    const unknownOutcome = (err as { outcomeUnknown?: boolean }).outcomeUnknown === true && !err.problem;
    return {
      text: `:warning: ${explain(err, mrkdwn)}${unknownOutcome ? OUTCOME_UNKNOWN : ''}`,
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
export const errorField = (err: unknown): string | undefined => (isAppError(err) ? err.field : undefined);
