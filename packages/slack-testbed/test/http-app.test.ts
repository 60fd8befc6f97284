import { webApi } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeSlack, SlackClientError, SlackDriver, signSlackRequest, startFakeSlack } from '../src/index.js';
import { SIGNING_SECRET, startHttpApp, type TinyApp } from './tiny-app.js';

const USERS = [
  { id: 'U0REQUEST', name: 'rita', realName: 'Rita Requester', email: 'rita@example.com' },
  { id: 'U0APPROVE', name: 'aaron', realName: 'Aaron Approver', email: 'aaron@example.com' },
];
const CHANNEL = 'C0HELPDESK';

describe('slack test bed over HTTP', () => {
  let fake: FakeSlack;
  let tiny: TinyApp;
  let driver: SlackDriver;

  beforeEach(async () => {
    fake = await startFakeSlack({ users: USERS, channels: [{ id: CHANNEL, name: 'help-desk' }] });
    tiny = await startHttpApp(fake);
    driver = new SlackDriver({ slack: fake, signingSecret: SIGNING_SECRET, eventsUrl: tiny.eventsUrl });
  });

  afterEach(async () => {
    await tiny.stop();
    await fake.close();
  });

  async function runCommand() {
    const res = await driver.command('U0REQUEST', 'jdoe', { channelId: CHANNEL });
    const view = await fake.waitFor(() => fake.lastView('U0REQUEST'));
    const card = await fake.waitFor(() => fake.lastMessage({ channel: CHANNEL, ephemeral: false }));
    return { res, view, card };
  }

  it('when the app starts, then it called auth.test with the bot token', async () => {
    const call = await fake.waitFor(() => fake.callsTo('auth.test')[0]);
    expect(call.token).toBe(fake.botToken);
    expect(call.outcome).toEqual({ status: 200 });
  });

  it('when a user runs the command, then the app acks, posts an ephemeral and opens a modal', async () => {
    const { res, view, card } = await runCommand();
    expect(res).toMatchObject({ status: 200, body: undefined });
    const ephemeral = fake.lastMessage({ userId: 'U0REQUEST', ephemeral: true });
    expect(ephemeral?.text).toBe('Looking up jdoe');
    expect(ephemeral?.channel).toBe(CHANNEL);
    expect(view.callbackId).toBe('verify');
    expect(view.id).toMatch(/^V[A-Z0-9]+$/);
    expect(card.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(Number(card.ts)).toBeGreaterThan(Number(ephemeral?.ts));
    // The WebClient sends form-urlencoded with the view JSON-stringified; the fake decoded it.
    const open = fake.callsTo('views.open')[0]!;
    expect((open.args.view as { callback_id: string }).callback_id).toBe('verify');
    expect(open.args.team_id).toBe(fake.teamId);
  });

  it('when a user clicks a button in the message, then the app answers through response_url', async () => {
    const { card } = await runCommand();
    const res = await driver.clickButton({ message: card }, 'Approve', 'U0APPROVE');
    expect(res.status).toBe(200);
    const updated = await fake.waitFor(() => {
      const m = fake.message(CHANNEL, card.ts);
      return m?.history.length ? m : undefined;
    });
    expect(updated.text).toBe('Approved by <@U0APPROVE>');
    expect(updated.history[0]?.text).toBe('Request for jdoe');
    expect(fake.callsTo('response_url')).toHaveLength(1);
    expect(tiny.handled).toContain('approve');
  });

  it('when a button text is not on the surface, then the driver says which buttons exist', async () => {
    const { card } = await runCommand();
    await expect(driver.clickButton({ message: card }, 'Escalate', 'U0APPROVE')).rejects.toThrow(
      /no button Escalate.*"Approve", "Deny"/,
    );
  });

  it('when the modal is submitted with inputs, then the app reads state.values and the modal closes', async () => {
    const { view } = await runCommand();
    const res = await driver.submitView(view, 'U0REQUEST', {
      Reason: 'locked out',
      'Target user': 'alice',
      factor: 'Phone call',
    });
    expect(res).toMatchObject({ status: 200, body: undefined });
    const msg = await fake.waitFor(() => fake.messages(CHANNEL).find((m) => m.text?.includes('verified')));
    expect(msg.text).toBe('<@U0REQUEST> verified: locked out / u-alice / phone');
    expect(fake.lastView('U0REQUEST')).toBeUndefined();
    expect(tiny.handled).toEqual(['command', 'options', 'view']);
  });

  it('when an option is picked in a non-dispatching input, then only the client state changes until submit', async () => {
    const { view } = await runCommand();
    const picked = await driver.selectOption(view, 'Factor', 'Phone call', 'U0REQUEST');
    expect(picked).toEqual({ status: 0, body: undefined });
    await driver.submitView(fake.view(view.id)!, 'U0REQUEST', { Reason: 'lost phone' });
    const msg = await fake.waitFor(() => fake.messages(CHANNEL).find((m) => m.text?.includes('verified')));
    expect(msg.text).toBe('<@U0REQUEST> verified: lost phone / none / phone');
  });

  it('when the app answers response_action errors, then submitView returns them and the modal stays open showing them', async () => {
    const { view } = await runCommand();
    const res = await driver.submitView(view, 'U0REQUEST', { Reason: 'bad', Factor: 'Push' });
    expect(res).toMatchObject({
      status: 200,
      body: { response_action: 'errors', errors: { reason: 'Give a real reason' } },
    });
    expect(fake.lastView('U0REQUEST')).toMatchObject({ id: view.id, errors: { reason: 'Give a real reason' } });
  });

  it('when the driver sends a request, then it reports it exactly as signed, with a fresh timestamp', async () => {
    const { view } = await runCommand();
    const res = await driver.submitView(view, 'U0REQUEST', { Reason: 'lost phone', Factor: 'Push' });
    const sent = res.request!;
    expect(sent.url).toBe(tiny.eventsUrl);
    const ts = Number(sent.headers['x-slack-request-timestamp']);
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(60);
    expect(sent.headers['x-slack-signature']).toBe(signSlackRequest(SIGNING_SECRET, sent.body, ts));
    expect(JSON.parse(String(new URLSearchParams(sent.body).get('payload'))).type).toBe('view_submission');
  });

  it('when a required input is empty, then the Slack client refuses to submit', async () => {
    const { view } = await runCommand();
    await expect(driver.submitView(view, 'U0REQUEST', { Reason: 'x' })).rejects.toThrow(SlackClientError);
    expect(tiny.handled).not.toContain('view');
  });

  it('when the user types in an external select, then block_suggestion returns the app options', async () => {
    const { view } = await runCommand();
    const res = await driver.suggest(view, 'Target user', 'al', 'U0REQUEST');
    expect(res.status).toBe(200);
    expect(res.options.map((o) => o.value)).toEqual(['u-alice', 'u-albert']);
  });

  it('when a request has a bad signature, a 6-minute-old timestamp or no signature, then 401 and no handler ran', async () => {
    const body = { command: '/duo', text: 'x', user_id: 'U0REQUEST', channel_id: CHANNEL, team_id: fake.teamId };
    const bad = await driver.sendRaw('form', body, { signature: 'v0=deadbeef' });
    const staleTs = Math.floor(Date.now() / 1000) - 6 * 60;
    const raw = new URLSearchParams(body).toString();
    const stale = await driver.sendRaw('form', raw, {
      timestamp: staleTs,
      signature: signSlackRequest(SIGNING_SECRET, raw, staleTs),
    });
    const missing = await driver.sendRaw('form', body, { omitSignature: true });
    expect([bad.status, stale.status, missing.status]).toEqual([401, 401, 401]);
    expect(tiny.handled).toEqual([]);
  });

  it('when chat.postMessage is rate limited, then the WebClient sees 429 with Retry-After', async () => {
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 7 });
    const client = new webApi.WebClient(fake.botToken, {
      slackApiUrl: fake.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    });
    const err = await client.chat.postMessage({ channel: CHANNEL, text: 'hi' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: webApi.ErrorCode.RateLimitedError, retryAfter: 7 });
    // The next call goes through.
    await expect(client.chat.postMessage({ channel: CHANNEL, text: 'hi' })).resolves.toMatchObject({ ok: true });
    expect(fake.callsTo('chat.postMessage').map((c) => c.outcome?.status)).toEqual([429, 200]);
  });

  it('when a retrying WebClient is rate limited once, then it waits Retry-After and succeeds', async () => {
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const client = new webApi.WebClient(fake.botToken, {
      slackApiUrl: fake.apiUrl,
      retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 0 },
      logLevel: webApi.LogLevel.ERROR,
    });
    const started = Date.now();
    await expect(client.chat.postMessage({ channel: CHANNEL, text: 'hi' })).resolves.toMatchObject({ ok: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(fake.callsTo('chat.postMessage')).toHaveLength(2);
  });

  it('when a method fails with 500 or a Slack error, then the WebClient reports each', async () => {
    fake.failNext('users.info', { status: 500 });
    fake.failNext('users.info', { error: 'fatal_error' });
    const err500 = await tiny.app.client.users.info({ user: 'U0REQUEST' }).catch((e: unknown) => e);
    expect(err500).toMatchObject({ code: webApi.ErrorCode.HTTPError, statusCode: 500 });
    const errSlack = await tiny.app.client.users.info({ user: 'U0REQUEST' }).catch((e: unknown) => e);
    expect(errSlack).toMatchObject({ code: webApi.ErrorCode.PlatformError, data: { error: 'fatal_error' } });
    const ok = await tiny.app.client.users.info({ user: 'U0REQUEST' });
    expect(ok.user?.profile?.email).toBe('rita@example.com');
  });

  it('when the app uploads a file with files.uploadV2, then the fake stores the bytes shared to the channel', async () => {
    const res = await tiny.app.client.files.uploadV2({
      channel_id: CHANNEL,
      filename: 'report.csv',
      title: 'Report',
      content: 'user,status\njdoe,locked\n',
      initial_comment: 'Here is the report',
    });
    expect(res.ok).toBe(true);
    const [file] = fake.files();
    expect(file).toMatchObject({ filename: 'report.csv', title: 'Report', channelId: CHANNEL, completed: true });
    expect(file?.text).toBe('user,status\njdoe,locked\n');
    const msg = fake.lastMessage({ channel: CHANNEL });
    expect(msg).toMatchObject({ text: 'Here is the report', fileIds: [file?.id] });
    expect(fake.everythingReceived()).toContain('jdoe,locked');
    expect(fake.calls.map((c) => c.method).slice(-3)).toEqual([
      'files.getUploadURLExternal',
      'file_upload',
      'files.completeUploadExternal',
    ]);
  });
});
