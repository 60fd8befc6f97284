import { webApi } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeSlack, startFakeSlack } from '../src/index.js';

/** A clock the test moves by hand (expiry of triggers and response URLs). */
function handClock(start: number) {
  let t = start;
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
  };
}

const USERS = [
  { id: 'U0REQUEST', name: 'rita', email: 'Rita@Example.com' },
  { id: 'U0GONE', name: 'gone', email: 'gone@example.com', deleted: true },
];
const MODAL = {
  type: 'modal' as const,
  callback_id: 'm',
  title: { type: 'plain_text' as const, text: 'Modal' },
  blocks: [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text: 'hi' } }],
};

// Expected platform errors would otherwise be logged by the WebClient.
const silent: webApi.Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => webApi.LogLevel.ERROR,
  setName: () => {},
};

describe('fake Slack Web API', () => {
  let fake: FakeSlack;
  let clock: ReturnType<typeof handClock>;
  let client: webApi.WebClient;

  beforeEach(async () => {
    clock = handClock(Date.now());
    fake = await startFakeSlack({ users: USERS, clock });
    client = new webApi.WebClient(fake.botToken, {
      slackApiUrl: fake.apiUrl,
      retryConfig: { retries: 0 },
      logger: silent,
    });
  });

  afterEach(async () => {
    await fake.close();
  });

  const post = async (method: string, body: unknown, token = fake.botToken) => {
    const res = await fetch(`${fake.apiUrl}${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(body),
    });
    return (await res.json()) as Record<string, unknown>;
  };

  it('when the token is wrong or missing, then invalid_auth / not_authed', async () => {
    expect(await post('auth.test', {}, 'xoxb-wrong')).toEqual({ ok: false, error: 'invalid_auth' });
    const res = await fetch(`${fake.apiUrl}auth.test`, { method: 'POST' });
    expect(await res.json()).toEqual({ ok: false, error: 'not_authed' });
  });

  it('when a method is unknown, then unknown_method', async () => {
    expect(await post('chat.nope', {})).toMatchObject({ ok: false, error: 'unknown_method' });
  });

  it('when a JSON body is posted, then blocks arrive as objects and the message is stored', async () => {
    const r = await post('chat.postMessage', { channel: 'C0AB', blocks: [{ type: 'divider' }], text: 'x' });
    expect(r).toMatchObject({ ok: true, channel: 'C0AB' });
    expect(fake.messages('C0AB')[0]?.blocks?.[0]).toMatchObject({ type: 'divider', block_id: expect.any(String) });
  });

  it('when blocks break Slack limits, then invalid_blocks with the pointer', async () => {
    const err = await client.chat
      .postMessage({
        channel: 'C0AB',
        text: 'x',
        blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }],
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ data: { error: 'invalid_blocks' } });
  });

  it('when a message is updated or deleted, then its history is kept and unknown ts is message_not_found', async () => {
    const { ts } = await client.chat.postMessage({ channel: 'C0AB', text: 'v1' });
    await client.chat.update({ channel: 'C0AB', ts: ts!, text: 'v2' });
    expect(fake.message('C0AB', ts!)).toMatchObject({ text: 'v2', history: [{ text: 'v1' }] });
    const err = await client.chat.update({ channel: 'C0AB', ts: '1.000001', text: 'x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ data: { error: 'message_not_found' } });
    const link = await client.chat.getPermalink({ channel: 'C0AB', message_ts: ts! });
    expect(link.permalink).toContain(`/archives/C0AB/p${ts!.replace('.', '')}`);
    await client.chat.delete({ channel: 'C0AB', ts: ts! });
    expect(fake.message('C0AB', ts!)?.deleted).toBe(true);
  });

  it('when a trigger_id is reused, older than 3 s or unknown, then views.open fails like Slack', async () => {
    const t1 = fake.issueTriggerId('U0REQUEST');
    await client.views.open({ trigger_id: t1, view: MODAL });
    const reused = await client.views.open({ trigger_id: t1, view: MODAL }).catch((e: unknown) => e);
    expect(reused).toMatchObject({ data: { error: 'expired_trigger_id' } });
    const t2 = fake.issueTriggerId('U0REQUEST');
    clock.advance(3000);
    const old = await client.views.open({ trigger_id: t2, view: MODAL }).catch((e: unknown) => e);
    expect(old).toMatchObject({ data: { error: 'expired_trigger_id' } });
    const made = await client.views.open({ trigger_id: '1.2.abc', view: MODAL }).catch((e: unknown) => e);
    expect(made).toMatchObject({ data: { error: 'invalid_trigger_id' } });
  });

  it('when views.update carries a stale hash, then hash_conflict; external_id works', async () => {
    const opened = await client.views.open({
      trigger_id: fake.issueTriggerId('U0REQUEST'),
      view: { ...MODAL, external_id: 'ext-1' },
    });
    const hash = opened.view!.hash!;
    const updated = await client.views.update({ external_id: 'ext-1', hash, view: { ...MODAL, external_id: 'ext-1' } });
    expect(updated.view?.hash).not.toBe(hash);
    const stale = await client.views.update({ view_id: opened.view!.id!, hash, view: MODAL }).catch((e: unknown) => e);
    expect(stale).toMatchObject({ data: { error: 'hash_conflict' } });
    expect(fake.view(opened.view!.id!)?.history).toHaveLength(1);
  });

  it('when a fourth view is pushed, then push_limit_reached', async () => {
    await client.views.open({ trigger_id: fake.issueTriggerId('U0REQUEST'), view: MODAL });
    await client.views.push({ trigger_id: fake.issueTriggerId('U0REQUEST'), view: MODAL });
    await client.views.push({ trigger_id: fake.issueTriggerId('U0REQUEST'), view: MODAL });
    const err = await client.views
      .push({ trigger_id: fake.issueTriggerId('U0REQUEST'), view: MODAL })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ data: { error: 'push_limit_reached' } });
    const top = fake.lastView('U0REQUEST')!;
    expect(top.previousViewId).not.toBeNull();
  });

  it('when a modal title is longer than 24 characters, then invalid_arguments', async () => {
    const err = await client.views
      .open({
        trigger_id: fake.issueTriggerId('U0REQUEST'),
        view: { ...MODAL, title: { type: 'plain_text', text: 'x'.repeat(25) } },
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ data: { error: 'invalid_arguments' } });
  });

  it('when the App Home is published, then the home view is stored', async () => {
    await client.views.publish({ user_id: 'U0REQUEST', view: { type: 'home', blocks: [{ type: 'divider' }] } });
    expect(fake.homeView('U0REQUEST')?.type).toBe('home');
  });

  it('when users are looked up, then profile, team, deleted and not-found behave like Slack', async () => {
    const info = await client.users.info({ user: 'U0GONE' });
    expect(info.user).toMatchObject({ deleted: true, team_id: fake.teamId, is_bot: false });
    const byEmail = await client.users.lookupByEmail({ email: 'rita@example.com' });
    expect(byEmail.user?.id).toBe('U0REQUEST');
    const missing = await client.users.info({ user: 'U0NOBODY' }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ data: { error: 'user_not_found' } });
    const bot = await client.users.info({ user: fake.botUserId });
    expect(bot.user?.is_bot).toBe(true);
    const rita = await client.users.info({ user: 'U0REQUEST' });
    expect(rita.user?.profile?.email).toBe('Rita@Example.com');
  });

  it('when a file is uploaded with no channel, then it is shared nowhere, a modal can show it once Slack processed it, and files.delete makes it unusable', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const upload = async (c: webApi.WebClient) => {
      const up = await c.filesUploadV2({ filename: 'qr.png', file: png, title: 'QR' });
      return (up.files as Array<{ files: Array<{ id: string }> }>)[0]!.files[0]!.id;
    };
    const withImage = (fileId: string, extra: Record<string, unknown> = { alt_text: 'QR code' }) => ({
      ...MODAL,
      blocks: [{ type: 'image', slack_file: { id: fileId }, ...extra }],
    });
    const open = (c: webApi.WebClient, f: FakeSlack, view: unknown) =>
      c.views.open({ trigger_id: f.issueTriggerId('U0REQUEST'), view: view as never }).catch((e: unknown) => e);

    // Slack completes uploads asynchronously: until then files.info shows no type and blocks refuse the file.
    const slow = await startFakeSlack({ users: USERS, fileProcessingMs: 60_000 });
    try {
      const slowClient = new webApi.WebClient(slow.botToken, {
        slackApiUrl: slow.apiUrl,
        retryConfig: { retries: 0 },
        logger: silent,
      });
      const id = await upload(slowClient);
      expect((await slowClient.files.info({ file: id })).file?.mimetype).toBe('');
      expect(JSON.stringify(await open(slowClient, slow, withImage(id)))).toContain('invalid slack file');
    } finally {
      await slow.close();
    }

    const id = await upload(client);
    const stored = fake.files().find((f) => f.id === id)!;
    expect(stored.channelId).toBeUndefined();
    expect(fake.messages().filter((m) => m.fileIds?.includes(id))).toEqual([]);
    for (let i = 0; i < 50 && !(await client.files.info({ file: id })).file?.mimetype; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect((await client.files.info({ file: id })).file?.mimetype).toBe('image/png');
    expect(await open(client, fake, withImage(id))).toMatchObject({ ok: true });
    expect(JSON.stringify(await open(client, fake, withImage(id, {})))).toContain('missing required field: alt_text');

    await client.files.delete({ file: id });
    expect(fake.files().find((f) => f.id === id)?.deleted).toBe(true);
    expect(await client.files.info({ file: id }).catch((e: unknown) => e)).toMatchObject({
      data: { error: 'file_deleted' },
    });
    expect(JSON.stringify(await open(client, fake, withImage(id)))).toContain('invalid slack file');
    expect(JSON.stringify(await open(client, fake, withImage('FNOSUCHFILE1')))).toContain('invalid slack file');
  });

  it('when a DM is opened twice, then the channel id is stable and posting to a user id lands there', async () => {
    const a = await client.conversations.open({ users: 'U0REQUEST' });
    const b = await client.conversations.open({ users: 'U0REQUEST' });
    expect(a.channel?.id).toBe(b.channel?.id);
    expect(a.channel?.id).toBe(fake.dmChannelFor('U0REQUEST'));
    const posted = await client.chat.postMessage({ channel: 'U0REQUEST', text: 'hello' });
    expect(posted.channel).toBe(a.channel?.id);
    expect(fake.lastMessage({ userId: 'U0REQUEST' })?.text).toBe('hello');
    const info = await client.conversations.info({ channel: a.channel!.id! });
    expect(info.channel).toMatchObject({ is_im: true, user: 'U0REQUEST' });
  });

  it('when a response_url is used, then ephemeral by default, in_channel on request, 5 uses and 30 minutes', async () => {
    const url = fake.newResponseUrl({ channelId: 'C0AB', userId: 'U0REQUEST' });
    const send = (body: unknown) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await send({ text: 'only you' })).status).toBe(200);
    expect(fake.lastMessage({ channel: 'C0AB' })).toMatchObject({ text: 'only you', ephemeralUser: 'U0REQUEST' });
    await send({ text: 'everyone', response_type: 'in_channel' });
    expect(fake.lastMessage({ channel: 'C0AB' })).toMatchObject({ text: 'everyone', ephemeralUser: undefined });
    for (let i = 0; i < 3; i++) await send({ text: `n${i}` });
    const sixth = await send({ text: 'too many' });
    expect(sixth.status).toBe(404);
    expect(await sixth.json()).toEqual({ ok: false, error: 'used_url' });
    const late = fake.newResponseUrl({ channelId: 'C0AB', userId: 'U0REQUEST' });
    clock.advance(31 * 60 * 1000);
    const expired = await fetch(late, { method: 'POST', body: JSON.stringify({ text: 'x' }) });
    expect(expired.status).toBe(404);
    expect(fake.callsTo('response_url')).toHaveLength(7);
    expect(fake.everythingReceived()).toContain('only you');
  });
});
