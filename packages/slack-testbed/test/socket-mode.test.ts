import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeSlack, SlackDriver, startFakeSlack } from '../src/index.js';
import { APP_TOKEN, SIGNING_SECRET, startSocketApp, type TinyApp } from './tiny-app.js';

const USERS = [{ id: 'U0REQUEST', name: 'rita', email: 'rita@example.com' }];
const CHANNEL = 'C0HELPDESK';

describe('slack test bed over Socket Mode', () => {
  let fake: FakeSlack;
  let tiny: TinyApp;
  let driver: SlackDriver;

  beforeEach(async () => {
    fake = await startFakeSlack({ users: USERS, appToken: APP_TOKEN });
    tiny = await startSocketApp(fake);
    driver = new SlackDriver({ slack: fake, signingSecret: SIGNING_SECRET, socket: true });
  });

  afterEach(async () => {
    // Stop the app first: a Socket Mode client whose server vanishes tries to reconnect.
    await tiny.stop();
    await fake.close();
  });

  it('when the app starts, then it opened a connection with its app-level token and got hello', async () => {
    const open = fake.callsTo('apps.connections.open');
    expect(open).toHaveLength(1);
    expect(open[0]?.token).toBe(APP_TOKEN);
    expect(fake.socketMode.connectionCount()).toBe(1);
  });

  it('when a user runs the command over Socket Mode, then the app acks the envelope and does the same work', async () => {
    const res = await driver.command('U0REQUEST', 'jdoe', { channelId: CHANNEL });
    expect(res).toEqual({ status: 200, body: undefined });
    const view = await fake.waitFor(() => fake.lastView('U0REQUEST'));
    const card = await fake.waitFor(() => fake.lastMessage({ channel: CHANNEL, ephemeral: false }));
    expect(fake.lastMessage({ userId: 'U0REQUEST', ephemeral: true })?.text).toBe('Looking up jdoe');

    const suggestion = await driver.suggest(view, 'target_select', 'bo', 'U0REQUEST');
    expect(suggestion.options.map((o) => o.value)).toEqual(['u-bob']);

    const errors = await driver.submitView(view, 'U0REQUEST', { Reason: 'bad', Factor: 'Push' });
    expect(errors.body).toEqual({ response_action: 'errors', errors: { reason: 'Give a real reason' } });

    await driver.clickButton({ message: card }, 'Approve', 'U0REQUEST');
    await fake.waitFor(() => fake.message(CHANNEL, card.ts)?.text === 'Approved by <@U0REQUEST>');
    expect(tiny.handled).toEqual(['command', 'options', 'view', 'approve']);
  });

  it('when a token that is not an app-level token asks for a connection, then not_allowed_token_type', async () => {
    const res = await fetch(`${fake.apiUrl}apps.connections.open`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.botToken}` },
    });
    expect(await res.json()).toEqual({ ok: false, error: 'not_allowed_token_type' });
  });
});
