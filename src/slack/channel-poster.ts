import type { webApi } from '@slack/bolt';
import type { KnownBlock } from '../../views/block-kit.js';
import { type AuditMetadata, type ChannelPoster, SlackRateLimitedError } from '../audit/relay.js';
import type { ChannelMessage, ChannelReader } from '../audit/witness.js';

/**
 * The relay's own Web API client: no automatic retries (the relay decides), 429s surfaced with
 * their Retry-After so the outbox honours them. It also reads the audit channel back, page by page,
 * for the relay's duplicate check and for `duo-desk audit verify --witness`.
 */
export class SlackChannelPoster implements ChannelPoster, ChannelReader {
  constructor(private readonly client: webApi.WebClient) {}

  async post(
    channel: string,
    message: { text: string; blocks?: unknown[]; metadata: AuditMetadata },
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

  async findPosted(
    channel: string,
    match: { eventType: string; field: string; value: number },
    since: Date,
  ): Promise<string | undefined> {
    for await (const m of this.history(channel, since))
      if (m.metadata?.event_type === match.eventType && Number(m.metadata.event_payload[match.field]) === match.value)
        return m.ts;
    return undefined;
  }

  /** The channel's messages newest first, following `next_cursor` until the end (or `oldest`). */
  async *history(channel: string, oldest?: Date): AsyncGenerator<ChannelMessage> {
    let cursor: string | undefined;
    do {
      const page = await this.client.conversations.history({
        channel,
        include_all_metadata: true,
        limit: 200,
        ...(oldest ? { oldest: (oldest.getTime() / 1000).toFixed(6) } : {}),
        ...(cursor ? { cursor } : {}),
      });
      for (const m of page.messages ?? []) {
        const raw = m as { ts?: string; user?: string; bot_id?: string; metadata?: unknown };
        if (!raw.ts) continue;
        yield { ts: raw.ts, user: raw.user, botId: raw.bot_id, metadata: asMetadata(raw.metadata) };
      }
      cursor = page.has_more ? page.response_metadata?.next_cursor || undefined : undefined;
    } while (cursor);
  }
}

function asMetadata(m: unknown): AuditMetadata | undefined {
  const md = m as { event_type?: unknown; event_payload?: unknown } | undefined;
  if (!md || typeof md.event_type !== 'string' || !md.event_payload || typeof md.event_payload !== 'object')
    return undefined;
  return { event_type: md.event_type, event_payload: md.event_payload as Record<string, string | number> };
}

export function createRelayClient(WebClient: typeof webApi.WebClient, token: string, apiUrl: string | undefined) {
  return new WebClient(token, {
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
  });
}
