import { SlackApiError } from './errors.js';
import { str } from './http.js';
import type { SlackStore } from './store.js';
import type { Json } from './types.js';

export interface MethodContext {
  store: SlackStore;
  args: Json;
  /** Origin of the fake (`http://127.0.0.1:PORT`), for URLs it hands out. */
  baseUrl: string;
  /** Issues a one-time Socket Mode connection URL. */
  openSocketUrl(): string;
}

/** Returns the method-specific fields; the server adds `ok: true`. Throws SlackApiError for `ok: false`. */
export type MethodHandler = (ctx: MethodContext) => Json;

/** Which token kind a method accepts, as in Slack (`not_allowed_token_type` otherwise). */
export type TokenKind = 'bot' | 'app' | 'any';

export interface MethodSpec {
  handler: MethodHandler;
  token: TokenKind;
  /** Read-only methods Slack also serves over GET. */
  read?: boolean;
}

export function requireStr(args: Json, key: string, error = 'invalid_arguments'): string {
  const v = str(args[key]);
  if (v === undefined || v === '') {
    throw new SlackApiError(error, { response_metadata: { messages: [`[ERROR] missing required field: ${key}`] } });
  }
  return v;
}

export function optStr(args: Json, key: string): string | undefined {
  const v = str(args[key]);
  return v === '' ? undefined : v;
}
