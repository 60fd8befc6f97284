import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows, auditRowsText } from '../support/audit.js';
import { CHANNELS, type Harness, PEOPLE, startHarness } from '../support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ users: [{ id: 'UFOREIGN1', name: 'visitor', teamId: 'T0OTHER' }] });
});
afterAll(async () => {
  await h?.close();
});

const ackText = (body: unknown) => JSON.stringify(body);

describe('the request path', () => {
  it('when an owner sends a signed /duo help, then the help lists every command', async () => {
    const r = await h.driver.command(PEOPLE.owner, 'help');
    expect(r.status).toBe(200);
    const text = ackText(r.body);
    for (const sub of ['lookup', 'verify', 'unlock', 'status', 'enroll', 'bypass', 'codes', 'audit', 'roles', 'mfa'])
      expect(text).toContain(`/duo ${sub}`);
    expect((r.body as { response_type?: string }).response_type).toBe('ephemeral');
  });

  it('when a read-only responder asks for help, then only what that role may do is listed', async () => {
    const r = await h.driver.command(PEOPLE.readOnly, 'help');
    const text = ackText(r.body);
    expect(text).toContain('/duo lookup');
    expect(text).toContain('/duo verify');
    expect(text).toContain('/duo audit');
    for (const sub of ['unlock', 'status', 'bypass', 'codes', 'roles', 'enroll'])
      expect(text).not.toContain(`/duo ${sub} `);
  });

  it('when /duo has no text, then it shows the help', async () => {
    const r = await h.driver.command(PEOPLE.helpDesk, '');
    expect(ackText(r.body)).toContain('/duo lookup');
  });

  it('when someone who is not a responder uses /duo, then they are told how to get access and it is audited as denied', async () => {
    const r = await h.driver.command(PEOPLE.stranger, 'lookup alice');
    const text = ackText(r.body);
    expect(text).toContain('not a duo-desk responder');
    expect(text).toContain('roles grant');
    expect(await auditRowsText(h)).toMatch(/permission\.denied.*U567|U567.*permission\.denied/);
  });

  it('when a user of another team sends a command, then it is refused', async () => {
    const r = await h.driver.command('UFOREIGN1', 'help', { teamId: 'T0OTHER' });
    expect(ackText(r.body)).toContain('only acts for members of the workspace');
  });

  it('when a subcommand is unknown, then the reply says so and points to help', async () => {
    const r = await h.driver.command(PEOPLE.owner, 'frobnicate');
    expect(ackText(r.body)).toContain('/duo help');
  });

  it('when the signature is wrong, stale or missing, then Slack gets 401 and nothing runs', async () => {
    const botCalls = () =>
      h.slack.calls.filter((c) => (c.args as { channel?: string }).channel !== CHANNELS.audit).length;
    const before = botCalls();
    const auditBefore = (await auditRows(h)).length;
    const form = `token=x&team_id=${'T0DUODESK'}&user_id=${PEOPLE.owner}&command=%2Fduo&text=help&channel_id=${CHANNELS.helpdesk}`;
    expect(await h.driver.sendRaw('form', form, { signature: 'v0=deadbeef' })).toMatchObject({ status: 401 });
    expect(await h.driver.sendRaw('form', form, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 })).toMatchObject({
      status: 401,
    });
    expect(await h.driver.sendRaw('form', form, { omitSignature: true })).toMatchObject({ status: 401 });
    expect(botCalls()).toBe(before);
    expect((await auditRows(h)).length).toBe(auditBefore);
  });
});
