import type { webApi } from '@slack/bolt';
import type { KnownBlock } from '../../views/block-kit.js';
import { AUDIT_METADATA_EVENT, type ChannelPoster, SlackRateLimitedError } from '../audit/relay.js';

/**
 * The relay's own Web API client: no automatic retries (the relay decides), 429s surfaced with
 * their Retry-After so the outbox honours them.
 */
export class SlackChannelPoster implements ChannelPoster {
  constructor(private readonly client: webApi.WebClient) {}

  async post(
    channel: string,
    message: {
      text: string;
      blocks?: unknown[];
      metadata: { event_type: string; event_payload: Record<string, string | number> };
    },
  ): Promise<{ ts: string }> {
    try {
      const r = await this.client.chat.postMessage({
        channel,
        text: message.text,
        // Rendered by views/audit-event.ts; the relay (core) carries them without knowing Block Kit.
        ...(message.blocks ? { blocks: message.blocks as KnownBlock[] } : {}),
        metadata: message.metadata,
        unfurl_links: false,
        unfurl_media: false,
      });
      return { ts: String(r.ts) };
    } catch (e) {
      const retryAfter = (e as { code?: string; retryAfter?: number }).retryAfter;
      if ((e as { code?: string }).code === 'slack_webapi_rate_limited_error')
        throw new SlackRateLimitedError(retryAfter ?? 1);
      throw e;
    }
  }

  async findPosted(channel: string, eventId: number, since: Date): Promise<string | undefined> {
    const r = await this.client.conversations.history({
      channel,
      oldest: (since.getTime() / 1000).toFixed(6),
      include_all_metadata: true,
      limit: 200,
    });
    const hit = (r.messages ?? []).find(
      (m) =>
        (m as { metadata?: { event_type?: string; event_payload?: { event_id?: unknown } } }).metadata?.event_type ===
          AUDIT_METADATA_EVENT &&
        Number((m as { metadata?: { event_payload?: { event_id?: unknown } } }).metadata?.event_payload?.event_id) ===
          eventId,
    );
    return hit?.ts;
  }
}

export function createRelayClient(WebClient: typeof webApi.WebClient, token: string, apiUrl: string | undefined) {
  return new WebClient(token, {
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
  });
}
