import { isObj } from './blocks.js';
import { messageContent } from './chat-methods.js';
import { SlackApiError } from './errors.js';
import { hex, slackId } from './ids.js';
import { type MethodContext, type MethodSpec, optStr, requireStr } from './method-context.js';
import type { Json, StoredFile } from './types.js';

function getUploadURLExternal({ store, args, baseUrl }: MethodContext): Json {
  const filename = requireStr(args, 'filename');
  const length = Number(requireStr(args, 'length'));
  if (!Number.isInteger(length) || length < 1) {
    throw new SlackApiError('invalid_arguments', {
      response_metadata: { messages: ['[ERROR] length must be a positive integer'] },
    });
  }
  const file: StoredFile = {
    id: slackId('F'),
    filename,
    length,
    altText: optStr(args, 'alt_txt') ?? optStr(args, 'alt_text'),
    snippetType: optStr(args, 'snippet_type'),
    completed: false,
    createdAt: store.now(),
  };
  store.files.set(file.id, file);
  const token = `${file.id}-${hex(12)}`;
  store.uploadTokens.set(token, file.id);
  return { upload_url: `${baseUrl}/upload/v1/${token}`, file_id: file.id };
}

function completeUploadExternal({ store, args }: MethodContext): Json {
  const list = args.files;
  if (!Array.isArray(list) || list.length === 0 || !list.every(isObj)) {
    throw new SlackApiError('invalid_arguments', { response_metadata: { messages: ['[ERROR] files is required'] } });
  }
  const files = list.map((entry) => {
    const f = typeof entry.id === 'string' ? store.files.get(entry.id) : undefined;
    if (!f || f.completed || !f.bytes) throw new SlackApiError('file_not_found');
    return { f, title: typeof entry.title === 'string' ? entry.title : undefined };
  });
  const channelArg = optStr(args, 'channel_id') ?? optStr(args, 'channels')?.split(',')[0];
  const channel = channelArg ? store.resolveChannel(channelArg) : undefined;
  const threadTs = optStr(args, 'thread_ts');
  const initialComment = optStr(args, 'initial_comment');
  let messageTs: string | undefined;
  if (channel) {
    const content = messageContent({ text: initialComment, blocks: args.blocks }, { requireContent: false });
    const m = store.addMessage({
      channel,
      via: 'files.completeUploadExternal',
      ...content,
      threadTs,
      fileIds: files.map(({ f }) => f.id),
    });
    messageTs = m.ts;
  }
  for (const { f, title } of files) {
    f.completed = true;
    f.processedAt = Date.now() + store.ws.fileProcessingMs;
    f.title = title ?? f.filename;
    f.channelId = channel;
    f.userId = channel ? store.dmUserOf(channel) : undefined;
    f.initialComment = initialComment;
    f.threadTs = threadTs;
    f.messageTs = messageTs;
  }
  return { files: files.map(({ f }) => ({ id: f.id, title: f.title })) };
}

/** A file the bot can see: `file_not_found` for unknown or unfinished uploads, `file_deleted` once deleted. */
function knownFile({ store, args }: MethodContext): StoredFile {
  const f = store.files.get(requireStr(args, 'file', 'file_not_found'));
  if (!f?.completed) throw new SlackApiError('file_not_found');
  if (f.deleted) throw new SlackApiError('file_deleted');
  return f;
}

function info(ctx: MethodContext): Json {
  return { file: ctx.store.slackFile(knownFile(ctx)), comments: [], response_metadata: { next_cursor: '' } };
}

function del(ctx: MethodContext): Json {
  knownFile(ctx).deleted = true;
  return {};
}

export const fileMethods: Record<string, MethodSpec> = {
  'files.getUploadURLExternal': { handler: getUploadURLExternal, token: 'bot' },
  'files.completeUploadExternal': { handler: completeUploadExternal, token: 'bot' },
  'files.info': { handler: info, token: 'bot', read: true },
  'files.delete': { handler: del, token: 'bot' },
};
