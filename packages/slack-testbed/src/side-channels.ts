/** The two non-Web-API endpoints apps talk to: response_url posts and file upload URLs. */
import { isObj } from './blocks.js';
import { applyUpdate, messageContent } from './chat-methods.js';
import { SlackApiError } from './errors.js';
import { bool, parseForm } from './http.js';
import type { SlackStore } from './store.js';
import type { Json } from './types.js';

/** Body of a response_url post: JSON (what Bolt's respond() sends) or a form with `payload`. */
export function parseResponseUrlBody(contentType: string, raw: Buffer): Json {
  const text = raw.toString('utf8');
  let parsed: unknown;
  try {
    parsed =
      contentType === 'application/x-www-form-urlencoded'
        ? JSON.parse(String(parseForm(text).payload))
        : JSON.parse(text);
  } catch {
    throw new SlackApiError('invalid_payload');
  }
  if (!isObj(parsed)) throw new SlackApiError('invalid_payload');
  return parsed;
}

/**
 * Applies a response_url post. Ephemeral to the user by default; `response_type: 'in_channel'` posts to the channel;
 * `replace_original` / `delete_original` act on the message the interaction came from.
 * Throws SlackApiError (answered as HTTP 404 for URL problems, 400 for content problems).
 */
export function handleResponseUrl(store: SlackStore, id: string, body: Json): void {
  const ctx = store.useResponseUrl(id);
  const original = ctx.messageTs
    ? store.messages.find((m) => m.channel === ctx.channelId && m.ts === ctx.messageTs && !m.deleted)
    : undefined;
  if (bool(body.delete_original)) {
    if (!original) throw new SlackApiError('message_not_found');
    original.deleted = true;
    return;
  }
  if (bool(body.replace_original) && original) {
    messageContent(body, { requireContent: true });
    applyUpdate(store, original, body, 'response_url');
    return;
  }
  const content = messageContent(body, { requireContent: true });
  const inChannel = body.response_type === 'in_channel';
  store.addMessage({
    channel: ctx.channelId,
    via: 'response_url',
    ...content,
    threadTs: typeof body.thread_ts === 'string' ? body.thread_ts : undefined,
    ephemeralUser: inChannel ? undefined : ctx.userId,
  });
}

/** Bytes posted to an upload URL: multipart (what WebClient sends) or the raw body. */
export async function readUpload(contentType: string | undefined, raw: Buffer): Promise<Buffer> {
  if (contentType?.toLowerCase().startsWith('multipart/form-data')) {
    const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
    for (const [, value] of form) {
      if (typeof value !== 'string') return Buffer.from(await value.arrayBuffer());
    }
    const first = [...form.values()][0];
    return Buffer.from(typeof first === 'string' ? first : '');
  }
  return raw;
}
