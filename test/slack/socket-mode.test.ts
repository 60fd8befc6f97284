import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, PEOPLE, startHarness } from '../support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ socketMode: true });
});
afterAll(async () => {
  await h?.close();
});

describe('Socket Mode', () => {
  it('when SLACK_APP_TOKEN is set, then the bot connects through apps.connections.open', () => {
    expect(h.runtime.deps.config.slackMode).toBe('socket');
    expect(h.slack.callsTo('apps.connections.open')).toHaveLength(1);
    expect(h.slack.socketMode.connectionCount()).toBe(1);
  });

  it('when /duo help arrives as a Socket Mode envelope, then the same listeners answer in the ack', async () => {
    const r = await h.driver.command(PEOPLE.owner, 'help');
    expect(r.status).toBe(200);
    expect(JSON.stringify(r.body)).toContain('/duo lookup');
  });

  it('when a lookup arrives over Socket Mode, then the card comes back through the response_url', async () => {
    const before = h.slack.calls.length;
    await h.driver.command(PEOPLE.helpDesk, 'lookup alice');
    const reply = await h.slack.waitFor(() => h.slack.calls.slice(before).find((c) => c.method === 'response_url'));
    expect(JSON.stringify(reply.args)).toContain('(alice)');
  });
});
