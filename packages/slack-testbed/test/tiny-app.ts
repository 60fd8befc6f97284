/** A throwaway Bolt app that exercises the test bed (not the product app). */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, LogLevel } from '@slack/bolt';
import type { FakeSlack } from '../src/index.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const APP_TOKEN = 'xapp-1-A0DUODESK-local';

export interface TinyApp {
  app: App;
  /** Handler names, in the order they ran. */
  handled: string[];
  eventsUrl?: string;
  stop(): Promise<void>;
}

const OPTIONS = ['alice', 'albert', 'bob'].map((v) => ({
  text: { type: 'plain_text' as const, text: v },
  value: `u-${v}`,
}));

function register(app: App, handled: string[]): void {
  app.command('/duo', async ({ ack, command, client }) => {
    handled.push('command');
    await ack();
    await client.chat.postEphemeral({
      channel: command.channel_id,
      user: command.user_id,
      text: `Looking up ${command.text}`,
    });
    await client.views.open({
      trigger_id: command.trigger_id,
      view: {
        type: 'modal',
        callback_id: 'verify',
        private_metadata: command.channel_id,
        title: { type: 'plain_text', text: 'Verify' },
        submit: { type: 'plain_text', text: 'Send push' },
        blocks: [
          {
            type: 'input',
            block_id: 'reason',
            label: { type: 'plain_text', text: 'Reason' },
            element: { type: 'plain_text_input', action_id: 'reason_input' },
          },
          {
            type: 'input',
            block_id: 'target',
            optional: true,
            label: { type: 'plain_text', text: 'Target user' },
            element: { type: 'external_select', action_id: 'target_select', min_query_length: 2 },
          },
          {
            type: 'input',
            block_id: 'factor',
            label: { type: 'plain_text', text: 'Factor' },
            element: {
              type: 'static_select',
              action_id: 'factor_select',
              options: [
                { text: { type: 'plain_text', text: 'Push' }, value: 'push' },
                { text: { type: 'plain_text', text: 'Phone call' }, value: 'phone' },
              ],
            },
          },
        ],
      },
    });
    await client.chat.postMessage({
      channel: command.channel_id,
      text: `Request for ${command.text}`,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: `Request for ${command.text}` } },
        {
          type: 'actions',
          elements: [
            { type: 'button', action_id: 'approve', value: 'req-1', text: { type: 'plain_text', text: 'Approve' } },
            { type: 'button', action_id: 'deny', value: 'req-1', text: { type: 'plain_text', text: 'Deny' } },
          ],
        },
      ],
    });
  });

  app.action('approve', async ({ ack, body, respond }) => {
    handled.push('approve');
    await ack();
    await respond({ replace_original: true, text: `Approved by <@${body.user.id}>` });
  });

  app.options('target_select', async ({ ack, options }) => {
    handled.push('options');
    await ack({ options: OPTIONS.filter((o) => o.text.text.startsWith(options.value)) });
  });

  app.view('verify', async ({ ack, view, body, client }) => {
    handled.push('view');
    const reason = view.state.values.reason?.reason_input?.value ?? '';
    if (reason === 'bad') {
      await ack({ response_action: 'errors', errors: { reason: 'Give a real reason' } });
      return;
    }
    await ack();
    const target = view.state.values.target?.target_select?.selected_option?.value ?? 'none';
    const factor = view.state.values.factor?.factor_select?.selected_option?.value ?? 'none';
    await client.chat.postMessage({
      channel: view.private_metadata,
      text: `<@${body.user.id}> verified: ${reason} / ${target} / ${factor}`,
    });
  });
}

export async function startHttpApp(fake: FakeSlack): Promise<TinyApp> {
  const handled: string[] = [];
  const app = new App({
    signingSecret: SIGNING_SECRET,
    token: fake.botToken,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } },
  });
  register(app, handled);
  const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
  const { port } = server.address() as AddressInfo;
  return { app, handled, eventsUrl: `http://127.0.0.1:${port}/slack/events`, stop: () => app.stop() as Promise<void> };
}

export async function startSocketApp(fake: FakeSlack): Promise<TinyApp> {
  const handled: string[] = [];
  const app = new App({
    socketMode: true,
    appToken: APP_TOKEN,
    token: fake.botToken,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } },
  });
  register(app, handled);
  await app.start();
  return { app, handled, stop: () => app.stop() as Promise<void> };
}
