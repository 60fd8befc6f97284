import type { webApi } from '@slack/bolt';
import type { Message, ModalView } from '../../views/block-kit.js';

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
}
