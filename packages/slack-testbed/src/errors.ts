import type { Json } from './types.js';

/** A Web API error answered as `{ ok: false, error, ...extra }` with HTTP 200, as Slack does. */
export class SlackApiError extends Error {
  constructor(
    readonly error: string,
    readonly extra: Json = {},
  ) {
    super(error);
    this.name = 'SlackApiError';
  }
}

/** `invalid_arguments` / `invalid_blocks` with Slack's `response_metadata.messages`. */
export function argumentError(error: string, messages: string[]): SlackApiError {
  return new SlackApiError(error, { response_metadata: { messages } });
}
