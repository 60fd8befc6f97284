import { SlackApiError } from './errors.js';
import { type MethodContext, type MethodSpec, optStr, requireStr } from './method-context.js';
import type { Json } from './types.js';

function usersInfo({ store, args }: MethodContext): Json {
  const id = requireStr(args, 'user', 'user_not_found');
  const u = store.user(id);
  if (!u) throw new SlackApiError('user_not_found');
  return { user: store.slackUser(u) };
}

function lookupByEmail({ store, args }: MethodContext): Json {
  const email = requireStr(args, 'email', 'users_not_found').toLowerCase();
  for (const u of store.users.values()) {
    if (u.email?.toLowerCase() === email) return { user: store.slackUser(u) };
  }
  throw new SlackApiError('users_not_found');
}

function conversationsOpen({ store, args }: MethodContext): Json {
  const raw = requireStr(args, 'users', 'users_list_not_supplied');
  const users = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const u of users) if (!store.user(u)) throw new SlackApiError('user_not_found');
  if (users.length !== 1) throw new SlackApiError('not_supported', { detail: 'the fake opens 1:1 DMs only' });
  const id = store.dmChannelFor(users[0]!);
  const returnIm = args.return_im === true || args.return_im === 'true';
  return { channel: returnIm ? { id, is_im: true, user: users[0], created: Math.floor(store.now() / 1000) } : { id } };
}

function conversationsInfo({ store, args }: MethodContext): Json {
  const id = requireStr(args, 'channel', 'channel_not_found');
  const dmUser = store.dmUserOf(id);
  if (dmUser) {
    return { channel: { id, is_im: true, is_channel: false, is_private: true, is_archived: false, user: dmUser } };
  }
  const c = store.channels.get(id);
  if (!c) throw new SlackApiError('channel_not_found');
  return {
    channel: {
      id: c.id,
      name: c.name,
      is_channel: !c.isPrivate,
      is_group: false,
      is_im: false,
      is_mpim: false,
      is_private: c.isPrivate === true,
      is_archived: false,
      is_member: true,
      context_team_id: store.ws.teamId,
    },
  };
}

/**
 * Channel history, newest first; metadata only with include_all_metadata; pages with `cursor` and
 * `response_metadata.next_cursor` (Slack's cursor is base64 of `next_ts:<ts without the dot>`).
 */
function conversationsHistory({ store, args }: MethodContext): Json {
  const channel = requireStr(args, 'channel', 'channel_not_found');
  if (store.channels.get(channel)?.botMember === false) throw new SlackApiError('not_in_channel');
  const oldest = Number(args.oldest ?? 0);
  const cursor = optStr(args, 'cursor');
  let latest = args.latest === undefined ? Number.POSITIVE_INFINITY : Number(args.latest);
  if (cursor) {
    const m = /^next_ts:(\d+)(\d{6})$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
    if (!m) throw new SlackApiError('invalid_cursor');
    latest = Math.min(latest, Number(`${m[1]}.${m[2]}`));
  }
  const limit = Math.min(999, Math.max(1, Number(args.limit ?? 100)));
  const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true';
  const messages = store.messages
    .filter((m) => m.channel === channel && !m.deleted && !m.ephemeralUser && !m.threadTs)
    .filter((m) => Number(m.ts) > oldest && Number(m.ts) < latest)
    .sort((a, b) => Number(b.ts) - Number(a.ts));
  const page = messages.slice(0, limit).map((m) => {
    const out = store.slackMessage(m) as Record<string, Json>;
    if (!withMetadata) delete out.metadata;
    return out;
  });
  const hasMore = messages.length > limit;
  const nextTs = hasMore ? String(page.at(-1)!.ts).replace('.', '') : undefined;
  return {
    messages: page,
    has_more: hasMore,
    pin_count: 0,
    ...(nextTs ? { response_metadata: { next_cursor: Buffer.from(`next_ts:${nextTs}`).toString('base64') } } : {}),
  };
}

export const directoryMethods: Record<string, MethodSpec> = {
  'users.info': { handler: usersInfo, token: 'bot', read: true },
  'users.lookupByEmail': { handler: lookupByEmail, token: 'bot', read: true },
  'conversations.open': { handler: conversationsOpen, token: 'bot' },
  'conversations.info': { handler: conversationsInfo, token: 'bot', read: true },
  'conversations.history': { handler: conversationsHistory, token: 'bot', read: true },
};
