import type { webApi } from '@slack/bolt';
import type { HomeView, Message, ModalView } from '../../views/block-kit.js';

/**
 * Posting to channels, DMs and ephemeral messages, updating messages and uploading files, for the
 * code that runs outside a Slack request (jobs) and for use-case results. Only this adapter knows
 * the Web API client.
 */
export type SlackMessage = Message;

export class Notifier {
  constructor(private readonly client: webApi.WebClient) {}

  async post(channel: string, msg: SlackMessage): Promise<{ channel: string; ts: string }> {
    const r = await this.client.chat.postMessage({
      channel,
      text: msg.text,
      ...(msg.blocks ? { blocks: msg.blocks } : {}),
    });
    return { channel: String(r.channel), ts: String(r.ts) };
  }

  async update(channel: string, ts: string, msg: SlackMessage): Promise<void> {
    await this.client.chat.update({ channel, ts, text: msg.text, blocks: msg.blocks ?? [] });
  }

  async delete(channel: string, ts: string): Promise<void> {
    await this.client.chat.delete({ channel, ts });
  }

  async ephemeral(channel: string, user: string, msg: SlackMessage): Promise<void> {
    await this.client.chat.postEphemeral({
      channel,
      user,
      text: msg.text,
      ...(msg.blocks ? { blocks: msg.blocks } : {}),
    });
  }

  async dmChannel(user: string): Promise<string> {
    const r = await this.client.conversations.open({ users: user });
    return String(r.channel?.id);
  }

  async dm(user: string, msg: SlackMessage): Promise<{ channel: string; ts: string }> {
    return this.post(await this.dmChannel(user), msg);
  }

  /** Ephemeral in the channel when possible (the person is there), else a DM. */
  async tellPrivately(
    user: string,
    channel: string | null | undefined,
    msg: SlackMessage,
  ): Promise<'ephemeral' | 'dm'> {
    if (channel && !channel.startsWith('D')) {
      try {
        await this.ephemeral(channel, user, msg);
        return 'ephemeral';
      } catch {
        // not in the channel, channel archived, …: fall back to a DM
      }
    }
    await this.dm(user, msg);
    return 'dm';
  }

  async uploadToUser(
    user: string,
    file: { filename: string; content: string | Buffer; title: string; comment: string },
  ): Promise<void> {
    const channel = await this.dmChannel(user);
    await this.client.filesUploadV2({
      channel_id: channel,
      filename: file.filename,
      file: typeof file.content === 'string' ? Buffer.from(file.content) : file.content,
      title: file.title,
      initial_comment: file.comment,
    });
  }

  /**
   * Uploads a file shared with no channel: only the bot can see it until a block shows it (an image
   * block's slack_file in a modal). Returns its id once Slack has processed it (see waitUntilProcessed).
   */
  async uploadUnshared(file: { filename: string; content: Buffer; title: string; altText: string }): Promise<string> {
    const r = await this.client.filesUploadV2({
      filename: file.filename,
      file: file.content,
      title: file.title,
      alt_text: file.altText,
    });
    const id = (r.files as Array<{ files?: Array<{ id?: string }> }>)[0]?.files?.[0]?.id;
    if (!id) throw new Error('files.completeUploadExternal returned no file id');
    await this.waitUntilProcessed(id);
    return id;
  }

  /**
   * Slack completes uploads asynchronously: until the file is processed (files.info reports its type),
   * a block that names it is refused as an invalid slack_file. Waits a few seconds at most.
   */
  private async waitUntilProcessed(fileId: string): Promise<void> {
    for (let delay = 100; delay <= 1600; delay *= 2) {
      const r = await this.client.files.info({ file: fileId });
      if ((r.file as { mimetype?: string } | undefined)?.mimetype) return;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  /** Deletes a file the bot uploaded; one that is already gone counts as deleted. */
  async deleteFile(fileId: string): Promise<void> {
    try {
      await this.client.files.delete({ file: fileId });
    } catch (e) {
      const error = (e as { data?: { error?: string } }).data?.error;
      if (error !== 'file_not_found' && error !== 'file_deleted') throw e;
    }
  }

  async openView(triggerId: string, view: ModalView): Promise<{ id: string; hash: string }> {
    const r = await this.client.views.open({ trigger_id: triggerId, view });
    return { id: String(r.view?.id), hash: String(r.view?.hash) };
  }

  async updateView(viewId: string, view: ModalView, hash?: string): Promise<void> {
    await this.client.views.update({ view_id: viewId, view, ...(hash ? { hash } : {}) });
  }

  async pushView(triggerId: string, view: ModalView): Promise<{ id: string; hash: string }> {
    const r = await this.client.views.push({ trigger_id: triggerId, view });
    return { id: String(r.view?.id), hash: String(r.view?.hash) };
  }

  /** A reply in a message's thread (the approval card's reminders). */
  async postInThread(channel: string, threadTs: string, msg: SlackMessage): Promise<void> {
    await this.client.chat.postMessage({
      channel,
      thread_ts: threadTs,
      text: msg.text,
      ...(msg.blocks ? { blocks: msg.blocks } : {}),
    });
  }

  /** The person's App Home tab. */
  async publishHome(userId: string, view: HomeView): Promise<void> {
    await this.client.views.publish({ user_id: userId, view });
  }
}
