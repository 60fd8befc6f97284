import { AppError, type ErrorCode } from '../errors.js';

export type DuoErrorCode = Extract<ErrorCode, `DUO_${string}`>;

export interface DuoErrorOptions {
  httpStatus?: number;
  duoCode?: number;
  duoMessage?: string;
  /** True when a write may or may not have been applied (timeout, network error, 5xx on POST/DELETE). */
  outcomeUnknown?: boolean;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** A failed Duo API call. Messages carry method, path, HTTP status and Duo code; never a secret. */
export class DuoError extends AppError {
  readonly httpStatus: number | undefined;
  readonly duoCode: number | undefined;
  readonly duoMessage: string | undefined;
  readonly outcomeUnknown: boolean;

  constructor(code: DuoErrorCode, message: string, opts: DuoErrorOptions = {}) {
    super(code, message, {
      details: {
        ...opts.details,
        httpStatus: opts.httpStatus,
        duoCode: opts.duoCode,
        outcomeUnknown: opts.outcomeUnknown ?? false,
      },
      cause: opts.cause,
    });
    this.name = 'DuoError';
    this.httpStatus = opts.httpStatus;
    this.duoCode = opts.duoCode;
    this.duoMessage = opts.duoMessage;
    this.outcomeUnknown = opts.outcomeUnknown ?? false;
  }
}

export const isDuoError = (e: unknown): e is DuoError => e instanceof DuoError;
