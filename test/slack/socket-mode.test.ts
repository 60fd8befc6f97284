import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIEWS } from '../../views/ids.js';
import { auditRows } from '../support/audit.js';
import { enrollTotp, eventually, totpAt, waitForView } from '../support/bypass-kit.js';
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

  it('when a responder types a TOTP code into a modal over Socket Mode at LOG_LEVEL=debug, then no log line holds the code', async () => {
    expect(h.runtime.deps.config.logLevel).toBe('debug');
    const secret = await enrollTotp(h, PEOPLE.owner);
    const before = h.slack.views(PEOPLE.owner).length;
    await h.driver.command(PEOPLE.owner, 'mfa');
    const modal = await waitForView(h, PEOPLE.owner, VIEWS.mfaConfirm, before);
    const typed = await totpAt(h, secret, 1);
    const linesBefore = h.logger.lines.length;
    await h.driver.submitView(modal, PEOPLE.owner, { 'Code from your authenticator app': typed });
    await h.slack.waitFor(() => h.slack.lastView(PEOPLE.owner)?.callbackId !== VIEWS.mfaConfirm);
    const lines = h.logger.lines.slice(linesBefore);
    expect(lines.filter((l) => l.includes(typed))).toEqual([]);
    // The payload lines were logged, as labels only.
    expect(lines.some((l) => l.includes('Received a message on the WebSocket: [omitted]'))).toBe(true);
  });

  it('when the same envelope payload is delivered twice over Socket Mode, then it is acted on once and the copy audited', async () => {
    const looked = async () => (await auditRows(h, "action = 'user.lookup' and target_username = 'frank'")).length;
    const replays = async () => (await auditRows(h, "action = 'request.replayed'")).length;
    const replaysBefore = await replays();
    const payload = {
      token: h.slack.verificationToken,
      team_id: h.slack.teamId,
      team_domain: h.slack.teamDomain,
      channel_id: 'C0HELPDESK',
      channel_name: 'help-desk',
      user_id: PEOPLE.helpDesk,
      user_name: 'hank',
      command: '/duo',
      text: 'lookup frank',
      api_app_id: h.slack.appId,
      response_url: h.slack.newResponseUrl({ channelId: 'C0HELPDESK', userId: PEOPLE.helpDesk }),
      trigger_id: h.slack.issueTriggerId(PEOPLE.helpDesk),
    };
    for (let i = 0; i < 2; i++) {
      const ack = await h.slack.socketServer.send('slash_commands', payload, { acceptsResponsePayload: true });
      expect(ack.acked).toBe(true);
    }
    await eventually(async () => (await replays()) === replaysBefore + 1, 'the copy audited');
    await eventually(async () => (await looked()) === 1, 'one lookup');
    const row = (await auditRows(h, "action = 'request.replayed'")).at(-1);
    expect(row!.params).toMatchObject({ matched: 'trigger_id', request: 'slash_command' });
  });
});
