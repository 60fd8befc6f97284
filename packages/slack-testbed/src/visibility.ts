/**
 * Who sees what in the Slack client: the conversations a person is in (the channels they are a member of and their
 * DM with the app), the messages there that are theirs to see (an ephemeral only for its recipient, a DM only for
 * its person, nothing deleted), their open modal stack, and the files those show. The one place for these rules:
 * whatever shows the test bed to a person (the local workspace page, its terminal twin) reads it from here.
 */
import { isObj } from './blocks.js';
import type { SlackStore } from './store.js';
import type { Block, FakeChannel, Json, StoredMessage, StoredView } from './types.js';

export interface Conversation {
  id: string;
  name: string;
  kind: 'channel' | 'dm';
  isPrivate: boolean;
  /** Oldest first, copies. */
  messages: StoredMessage[];
}

export interface Screen {
  userId: string;
  conversations: Conversation[];
  /** The open modal stack, bottom first (copies). */
  modals: StoredView[];
  /** Files on screen: shared with a visible message, or shown by an image's `slack_file`. */
  fileIds: string[];
}

/** A person of the workspace (not a bot, not deactivated). */
function isPerson(store: SlackStore, userId: string): boolean {
  const u = store.user(userId);
  return !!u && !u.isBot && !u.deleted;
}

export function isMember(store: SlackStore, channel: FakeChannel, userId: string): boolean {
  if (!isPerson(store, userId)) return false;
  if (channel.members) return channel.members.includes(userId);
  return store.user(userId)!.teamId === store.ws.teamId;
}

/** Whether `userId` has this conversation in their sidebar: a channel they are in, or their own DM with the app. */
export function canSeeConversation(store: SlackStore, channelId: string, userId: string): boolean {
  if (!isPerson(store, userId)) return false;
  const dmUser = store.dmUserOf(channelId);
  if (dmUser !== undefined) return dmUser === userId;
  const channel = store.channels.get(channelId);
  return !!channel && isMember(store, channel, userId);
}

export function canSeeMessage(store: SlackStore, m: StoredMessage, userId: string): boolean {
  if (m.deleted) return false;
  if (m.ephemeralUser !== undefined && m.ephemeralUser !== userId) return false;
  return canSeeConversation(store, m.channel, userId);
}

export function screenOf(store: SlackStore, userId: string): Screen {
  const conversations: Conversation[] = [];
  if (isPerson(store, userId)) {
    for (const channel of store.channels.values()) {
      if (!isMember(store, channel, userId)) continue;
      conversations.push({
        id: channel.id,
        name: channel.name,
        kind: 'channel',
        isPrivate: channel.isPrivate === true,
        messages: [],
      });
    }
    conversations.push({ id: store.dmChannelFor(userId), name: 'duo-desk', kind: 'dm', isPrivate: true, messages: [] });
  }
  const byId = new Map(conversations.map((c) => [c.id, c]));
  for (const m of store.messages) {
    if (canSeeMessage(store, m, userId)) byId.get(m.channel)?.messages.push(structuredClone(m));
  }
  const modals = isPerson(store, userId)
    ? store.openStack(userId).map((id) => structuredClone(store.views.get(id)!))
    : [];
  const fileIds = new Set<string>();
  for (const c of conversations)
    for (const m of c.messages) {
      for (const id of m.fileIds ?? []) fileIds.add(id);
      for (const id of slackFilesIn(store, m.blocks)) fileIds.add(id);
    }
  for (const v of modals) for (const id of slackFilesIn(store, v.definition.blocks as Block[])) fileIds.add(id);
  return { userId, conversations, modals, fileIds: [...fileIds] };
}

export function canSeeFile(store: SlackStore, userId: string, fileId: string): boolean {
  return screenOf(store, userId).fileIds.includes(fileId);
}

/** The file an image's `slack_file` names (`{ id }` or `{ url }` with the file's url_private or permalink). */
export function fileOfSlackFile(store: SlackStore, ref: unknown): string | undefined {
  if (!isObj(ref)) return undefined;
  if (typeof ref.id === 'string') return store.files.has(ref.id) ? ref.id : undefined;
  if (typeof ref.url !== 'string') return undefined;
  for (const f of store.files.values()) {
    const wire = store.slackFile(f);
    if (wire.url_private === ref.url || wire.permalink === ref.url) return f.id;
  }
  return undefined;
}

/** Images with a slack_file in blocks: image blocks, section accessories and context elements. */
function slackFilesIn(store: SlackStore, blocks: Block[] | undefined): string[] {
  const images: Json[] = [];
  for (const b of blocks ?? []) {
    if (b.type === 'image') images.push(b);
    if (isObj(b.accessory) && b.accessory.type === 'image') images.push(b.accessory);
    if (b.type === 'context' && Array.isArray(b.elements))
      for (const e of b.elements) if (isObj(e) && e.type === 'image') images.push(e);
  }
  return images.map((i) => fileOfSlackFile(store, i.slack_file)).filter((id): id is string => id !== undefined);
}
