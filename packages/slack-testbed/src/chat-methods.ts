import { blockProblems, type FileCheck, LIMITS, messageTextTooLong, withGeneratedIds } from './blocks.js';
import { argumentError, SlackApiError } from './errors.js';
import { type MethodContext, type MethodSpec, optStr, requireStr } from './method-context.js';
import type { Block, Json, StoredMessage } from './types.js';

/** Checks message content the way Slack does and returns it typed. */
export function messageContent(args: Json, opts: { requireContent: boolean; usableFile?: FileCheck }) {
  const text = optStr(args, 'text');
  let blocks: Block[] | undefined;
  if (args.blocks !== undefined && args.blocks !== '') {
    if (!Array.isArray(args.blocks)) throw new SlackApiError('invalid_blocks_format');
    blocks = args.blocks as Block[];
    const problems = blockProblems(blocks, '/blocks', LIMITS.messageBlocks, opts.usableFile);
    if (problems.length > 0) throw argumentError('invalid_blocks', problems);
  }
  let attachments: unknown[] | undefined;
  if (args.attachments !== undefined && args.attachments !== '') {
    if (!Array.isArray(args.attachments)) throw new SlackApiError('invalid_attachments');
    attachments = args.attachments;
  }
  if (opts.requireContent && text === undefined && !blocks?.length && !attachments?.length) {
    throw new SlackApiError('no_text');
  }
  if (messageTextTooLong(text)) throw new SlackApiError('msg_too_long');
  return { text, blocks, attachments };
}

function postMessage({ store, args }: MethodContext): Json {
  const channel = store.resolveChannel(optStr(args, 'channel'));
  // A bot with chat:write (not chat:write.public) posts only where it is a member.
  if (store.channels.get(channel)?.botMember === false) throw new SlackApiError('not_in_channel');
  const content = messageContent(args, { requireContent: true, usableFile: (id) => store.usableInBlocks(id) });
  const threadTs = optStr(args, 'thread_ts');
  const m = store.addMessage({ channel, via: 'chat.postMessage', ...content, threadTs, metadata: args.metadata });
  return { channel, ts: m.ts, message: store.slackMessage(m) };
}

function postEphemeral({ store, args }: MethodContext): Json {
  const channel = store.resolveChannel(optStr(args, 'channel'));
  const user = requireStr(args, 'user', 'user_not_found');
  if (!store.user(user)) throw new SlackApiError('user_not_found');
  const content = messageContent(args, { requireContent: true, usableFile: (id) => store.usableInBlocks(id) });
  const m = store.addMessage({
    channel,
    via: 'chat.postEphemeral',
    ...content,
    threadTs: optStr(args, 'thread_ts'),
    ephemeralUser: user,
  });
  return { message_ts: m.ts };
}

function existingMessage(ctx: MethodContext, tsKey: string): StoredMessage {
  const channel = ctx.store.resolveChannel(optStr(ctx.args, 'channel'));
  const ts = optStr(ctx.args, tsKey);
  const m = ts ? ctx.store.findMessage(channel, ts) : undefined;
  // Ephemeral messages are not addressable through the Web API (only through response_url).
  if (!m || m.ephemeralUser) throw new SlackApiError('message_not_found');
  return m;
}

/** Applies an update; fields left out keep their value (Slack keeps blocks unless given, `[]` removes them). */
export function applyUpdate(store: MethodContext['store'], m: StoredMessage, args: Json, via: string): void {
  const content = messageContent(args, { requireContent: false, usableFile: (id) => store.usableInBlocks(id) });
  m.history.push({ text: m.text, blocks: m.blocks, attachments: m.attachments, at: store.now(), via });
  if (content.text !== undefined) m.text = content.text;
  if (content.blocks !== undefined) m.blocks = withGeneratedIds(content.blocks);
  if (content.attachments !== undefined) m.attachments = content.attachments;
  if (args.metadata !== undefined) m.metadata = args.metadata;
}

function update(ctx: MethodContext): Json {
  const m = existingMessage(ctx, 'ts');
  if (optStr(ctx.args, 'text') === undefined && ctx.args.blocks === undefined && ctx.args.attachments === undefined) {
    throw new SlackApiError('no_text');
  }
  applyUpdate(ctx.store, m, ctx.args, 'chat.update');
  return { channel: m.channel, ts: m.ts, text: m.text ?? '', message: ctx.store.slackMessage(m) };
}

function del(ctx: MethodContext): Json {
  const m = existingMessage(ctx, 'ts');
  m.deleted = true;
  return { channel: m.channel, ts: m.ts };
}

function getPermalink(ctx: MethodContext): Json {
  const m = existingMessage(ctx, 'message_ts');
  const ws = ctx.store.ws;
  const thread = m.threadTs ? `?thread_ts=${m.threadTs}&cid=${m.channel}` : '';
  return {
    channel: m.channel,
    permalink: `https://${ws.teamDomain}.slack.com/archives/${m.channel}/p${m.ts.replace('.', '')}${thread}`,
  };
}

export const chatMethods: Record<string, MethodSpec> = {
  'chat.postMessage': { handler: postMessage, token: 'bot' },
  'chat.postEphemeral': { handler: postEphemeral, token: 'bot' },
  'chat.update': { handler: update, token: 'bot' },
  'chat.delete': { handler: del, token: 'bot' },
  'chat.getPermalink': { handler: getPermalink, token: 'bot', read: true },
};
