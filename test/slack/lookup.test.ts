import { demoDirectory } from '@duo-desk/duo-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexUsers } from '../../src/usecases/directory-index.js';
import { auditRows } from '../support/audit.js';
import { type Harness, PEOPLE, startHarness } from '../support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const buttonsOf = (blocks: unknown[]): string[] =>
  blocks
    .filter((b) => (b as { type: string }).type === 'actions')
    .flatMap((b) => ((b as { elements: Array<{ text: { text: string } }> }).elements ?? []).map((e) => e.text.text));

describe('/duo lookup', () => {
  it('when a help-desk agent looks up a locked-out user, then the card shows status, reason, devices and the allowed actions', async () => {
    const before = h.slack.calls.length;
    const r = await h.driver.command(PEOPLE.helpDesk, 'lookup bob');
    expect(JSON.stringify(r.body)).toContain('Looking up');
    const reply = await h.slack.waitFor(() => h.slack.calls.slice(before).find((c) => c.method === 'response_url'));
    const text = JSON.stringify(reply.args);
    expect(text).toContain('Locked out');
    expect(text).toContain('Failed Attempts');
    expect(text).toContain('Duo Mobile activated');
    const buttons = buttonsOf((reply.args as { blocks: unknown[] }).blocks);
    expect(buttons).toEqual(
      expect.arrayContaining([
        'Verify with Duo Push',
        'Unlock',
        'Change status',
        'Request bypass codes',
        'Bypass codes',
      ]),
    );
    expect(buttons).not.toContain('Send enrollment email');
  });

  it('when a read-only responder looks up the same user, then only Verify is offered', async () => {
    const before = h.slack.calls.length;
    await h.driver.command(PEOPLE.readOnly, 'lookup bob');
    const reply = await h.slack.waitFor(() => h.slack.calls.slice(before).find((c) => c.method === 'response_url'));
    expect(buttonsOf((reply.args as { blocks: unknown[] }).blocks)).toEqual(['Verify with Duo Push']);
  });

  it('when the user is found by alias or email, then the same card comes back', async () => {
    for (const q of ['aanders', 'alice.anders@example.com']) {
      const before = h.slack.calls.length;
      await h.driver.command(PEOPLE.helpDesk, `lookup ${q}`);
      const reply = await h.slack.waitFor(() => h.slack.calls.slice(before).find((c) => c.method === 'response_url'));
      expect(JSON.stringify(reply.args)).toContain('(alice)');
    }
  });

  it('when several Duo users share the email typed, then the reply lists them and asks for the exact username', async () => {
    h.duo.addUser({ username: 'pat.one', email: 'pat@example.com' });
    h.duo.addUser({ username: 'pat.two', email: 'pat@example.com' });
    const before = h.slack.calls.length;
    await h.driver.command(PEOPLE.helpDesk, 'lookup pat@example.com');
    const reply = await h.slack.waitFor(() => h.slack.calls.slice(before).find((c) => c.method === 'response_url'));
    const text = JSON.stringify(reply.args);
    expect(text).toContain('2 Duo users match');
    expect(text).toContain('pat.one');
    expect(text).toContain('Use the exact username');
  });

  it('when nobody matches, then the reply says so clearly', async () => {
    const before = h.slack.calls.length;
    await h.driver.command(PEOPLE.helpDesk, 'lookup nobody-here');
    const reply = await h.slack.waitFor(() => h.slack.calls.slice(before).find((c) => c.method === 'response_url'));
    expect(JSON.stringify(reply.args)).toContain('No Duo user matches');
  });

  it('when Duo is unreachable, then the responder is told and nothing is left spinning', async () => {
    h.duo.injectFault({ kind: 'server_error', path: '/admin/v1/users' });
    const before = h.slack.calls.length;
    await h.driver.command(PEOPLE.helpDesk, 'lookup alice');
    const reply = await h.slack.waitFor(() => h.slack.calls.slice(before).find((c) => c.method === 'response_url'));
    expect(JSON.stringify(reply.args)).toContain('Duo is unreachable');
    h.duo.clearFaults();
    const [error] = await auditRows(h, "action = 'duo.error'");
    expect(error).toMatchObject({ actor_user_id: PEOPLE.helpDesk, outcome: 'failed', duo_ref: 'DUO_UNAVAILABLE' });
  });

  it('when /duo lookup has no argument, then a modal with a typeahead opens and picking a user shows the card', async () => {
    await indexUsers(h.runtime.db.em.fork(), demoDirectory(), new Date());
    await h.driver.command(PEOPLE.helpDesk, 'lookup');
    const modal = await h.slack.waitFor(() => h.slack.lastView(PEOPLE.helpDesk));
    const suggest = await h.driver.suggest(modal, 'Duo user', 'ali', PEOPLE.helpDesk);
    const options = suggest.options as Array<{ text: { text: string }; value: string }>;
    const alice = options.find((o) => o.text.text.includes('(alice)'));
    expect(alice).toBeDefined();
    const before = h.slack.calls.length;
    await h.driver.submitView(modal, PEOPLE.helpDesk, { 'Duo user': { value: alice!.value, text: alice!.text.text } });
    const card = await h.slack.waitFor(() =>
      h.slack.calls.slice(before).find((c) => c.method === 'chat.postEphemeral'),
    );
    expect(JSON.stringify(card.args)).toContain('(alice)');
  });
});
