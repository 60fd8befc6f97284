import { webApi } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeSlack, startFakeSlack } from '../src/index.js';

/** Who sees what: the rules a person's screen (the local workspace page) is drawn from. */
const USERS = [
  { id: 'U0AGENT', name: 'hank' },
  { id: 'U0MANAGER', name: 'mona' },
  { id: 'U0PARTNER', name: 'xena', teamId: 'T0PARTNER' },
  { id: 'U0GONE', name: 'gone', deleted: true },
];
const HELPDESK = 'C0HELPDESK';
const APPROVALS = 'C0APPROVALS';
const MODAL = {
  type: 'modal' as const,
  title: { type: 'plain_text' as const, text: 'Modal' },
  blocks: [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text: 'hi' } }],
};

describe('what each person sees', () => {
  let fake: FakeSlack;
  let client: webApi.WebClient;

  beforeEach(async () => {
    fake = await startFakeSlack({
      users: USERS,
      // Uploads are usable in blocks at once: processing time is not what these tests are about.
      fileProcessingMs: 0,
      channels: [
        { id: HELPDESK, name: 'help-desk' },
        { id: APPROVALS, name: 'approvals', members: ['U0MANAGER'] },
      ],
    });
    client = new webApi.WebClient(fake.botToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
  });
  afterEach(async () => {
    await fake.close();
  });

  const texts = (userId: string, channel: string) =>
    fake
      .screen(userId)
      .conversations.find((c) => c.id === channel)
      ?.messages.map((m) => m.text);

  it('when an ephemeral is posted for the agent, then only the agent sees it; a channel message everyone in it sees', async () => {
    await client.chat.postMessage({ channel: HELPDESK, text: 'for the channel' });
    await client.chat.postEphemeral({ channel: HELPDESK, user: 'U0AGENT', text: 'only for hank' });
    expect(texts('U0AGENT', HELPDESK)).toEqual(['for the channel', 'only for hank']);
    expect(texts('U0MANAGER', HELPDESK)).toEqual(['for the channel']);
  });

  it("when the bot DMs the agent, then the DM is in the agent's sidebar only", async () => {
    await client.chat.postMessage({ channel: 'U0AGENT', text: 'your DM' });
    const dm = fake.dmChannelFor('U0AGENT');
    expect(texts('U0AGENT', dm)).toEqual(['your DM']);
    expect(fake.screen('U0MANAGER').conversations.map((c) => c.id)).not.toContain(dm);
    expect(JSON.stringify(fake.screen('U0MANAGER'))).not.toContain('your DM');
  });

  it('when a channel has members, then only they see it; without members, the people of the workspace do', async () => {
    await client.chat.postMessage({ channel: APPROVALS, text: 'a request' });
    expect(texts('U0MANAGER', APPROVALS)).toEqual(['a request']);
    expect(texts('U0AGENT', APPROVALS)).toBeUndefined();
    // A guest from another workspace is in no channel unless named a member; a deactivated person sees nothing.
    expect(fake.screen('U0PARTNER').conversations.map((c) => c.kind)).toEqual(['dm']);
    expect(fake.screen('U0GONE').conversations).toEqual([]);
  });

  it('when a message is deleted or edited, then it is gone from every screen or shows its last version', async () => {
    const gone = await client.chat.postMessage({ channel: HELPDESK, text: 'soon gone' });
    const kept = await client.chat.postMessage({ channel: HELPDESK, text: 'v1' });
    await client.chat.delete({ channel: HELPDESK, ts: gone.ts! });
    await client.chat.update({ channel: HELPDESK, ts: kept.ts!, text: 'v2' });
    expect(texts('U0AGENT', HELPDESK)).toEqual(['v2']);
  });

  it("when a modal is open for the manager, then it is on the manager's screen, not the agent's", async () => {
    await client.views.open({ trigger_id: fake.issueTriggerId('U0MANAGER'), view: MODAL });
    expect(fake.screen('U0MANAGER').modals).toHaveLength(1);
    expect(fake.screen('U0AGENT').modals).toEqual([]);
  });

  it('when a file is shared in a DM or shown by an image block, then only the people who see that may fetch it', async () => {
    const up = (await client.filesUploadV2({
      channel_id: fake.dmChannelFor('U0AGENT'),
      file: Buffer.from('png bytes'),
      filename: 'qr.png',
    })) as unknown as { files: Array<{ files: Array<{ id: string }> }> };
    const fileId = up.files[0]!.files[0]!.id;
    expect(fake.canSeeFile('U0AGENT', fileId)).toBe(true);
    expect(fake.canSeeFile('U0MANAGER', fileId)).toBe(false);
    await client.views.open({
      trigger_id: fake.issueTriggerId('U0MANAGER'),
      view: { ...MODAL, blocks: [{ type: 'image', alt_text: 'qr', slack_file: { id: fileId } }] },
    });
    expect(fake.canSeeFile('U0MANAGER', fileId)).toBe(true);
  });

  it('when something changes through the Web API, then change listeners hear of it', async () => {
    let heard = 0;
    const off = fake.onChange(() => {
      heard += 1;
    });
    await client.chat.postMessage({ channel: HELPDESK, text: 'x' });
    off();
    await client.chat.postMessage({ channel: HELPDESK, text: 'y' });
    expect(heard).toBe(1);
  });
});
