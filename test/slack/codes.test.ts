import type { StoredMessage } from '@duo-desk/slack-testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows } from '../support/audit.js';
import { eventually, messageText, privateMessages } from '../support/bypass-kit.js';
import { clickAction } from '../support/forge.js';
import { type Harness, PEOPLE, startHarness } from '../support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const userId = (username: string) => h.duo.getUser(username)!.user_id;
const deletes = () =>
  h.duo.requests().filter((r) => r.method === 'DELETE' && r.path.startsWith('/admin/v1/bypass_codes/'));

/** The list message of this user's codes, once it shows `text`. */
const listShowing = (responder: string, username: string, text: string) =>
  h.slack.waitFor(
    () =>
      privateMessages(h, responder, `Bypass codes of`)
        .filter((m) => messageText(m).includes(`(${username})`))
        .find((m) => messageText(m).includes(text)),
    { description: `codes list of ${username} showing ${text}` },
  );

const current = (m: StoredMessage) => h.slack.message(m.channel, m.ts)!;

describe('/duo codes', () => {
  it("when help desk lists a user's codes, then Duo's metadata is shown (never a code) and the listing is audited", async () => {
    await h.driver.command(PEOPLE.helpDesk, 'codes peggy');
    const list = await listShowing(PEOPLE.helpDesk, 'peggy', 'by API');
    const text = messageText(list);
    expect(text).toContain('never expires');
    expect(text).toContain('1 use left');
    expect((text.match(/codes_delete_one/g) ?? []).length).toBe(3);
    expect(text).toContain('Delete all 3');
    for (const c of h.duo.bypassCodesOf(userId('peggy'))) expect(text).not.toContain(c.code);
    const [audit] = await auditRows(h, "action = 'bypass_codes.listed'");
    expect(audit).toMatchObject({ actor_user_id: PEOPLE.helpDesk, target_username: 'peggy', outcome: 'success' });
    expect(audit!.params).toMatchObject({ count: 3 });
  });

  it('when one code is deleted, then Duo deletes exactly it, the list is refreshed in place, and intent and outcome are audited', async () => {
    const list = await listShowing(PEOPLE.helpDesk, 'peggy', 'Delete all 3');
    const [first] = h.duo.bypassCodesOf(userId('peggy'));
    await clickAction(h, { message: list }, 'codes_delete_one', PEOPLE.helpDesk, {
      match: `${userId('peggy')}:${first!.bypass_code_id}`,
    });
    await h.slack.waitFor(() => messageText(current(list)).includes('Deleted 1 code'));
    expect(h.duo.bypassCodesOf(userId('peggy')).map((c) => c.bypass_code_id)).not.toContain(first!.bypass_code_id);
    expect(h.duo.bypassCodesOf(userId('peggy'))).toHaveLength(2);
    expect(messageText(current(list))).toContain('Delete all 2');
    const rows = await auditRows(h, "action = 'bypass_code.deleted'");
    expect(rows.map((r) => `${r.phase}/${r.outcome}`)).toEqual(['intent/pending', 'outcome/success']);
    expect(rows[0]!.params).toMatchObject({ bypassCodeId: first!.bypass_code_id });
  });

  it('when a Delete click carries a code of another user, then nothing is deleted and the attempt is audited', async () => {
    const list = await listShowing(PEOPLE.helpDesk, 'peggy', 'Delete all 2');
    const victors = h.duo.bypassCodesOf(userId('victor')).length;
    const foreign = h.duo.bypassCodesOf(userId('victor'))[0]!.bypass_code_id;
    const before = deletes().length;
    await clickAction(h, { message: list }, 'codes_delete_one', PEOPLE.helpDesk, {
      value: `${userId('peggy')}:${foreign}`,
    });
    await h.slack.waitFor(() => privateMessages(h, PEOPLE.helpDesk, 'no longer among')[0]);
    expect(deletes()).toHaveLength(before);
    expect(h.duo.bypassCodesOf(userId('victor'))).toHaveLength(victors);
    const refused = await eventually(
      async () => (await auditRows(h, "action = 'bypass_code.deleted' and outcome = 'denied'"))[0],
      'refusal audited',
    );
    expect(refused.params).toMatchObject({ bypassCodeId: foreign });
  });

  it('when Delete all is confirmed, then every code of the user is deleted and the list says so', async () => {
    const list = await listShowing(PEOPLE.helpDesk, 'peggy', 'Delete all 2');
    await h.driver.clickButton({ message: list }, 'Delete all 2', PEOPLE.helpDesk);
    await h.slack.waitFor(() => messageText(current(list)).includes('No active bypass codes'));
    expect(messageText(current(list))).toContain('Deleted 2 codes');
    expect(h.duo.bypassCodesOf(userId('peggy'))).toHaveLength(0);
    const outcomes = await auditRows(h, "action = 'bypass_code.deleted' and phase = 'outcome' and outcome = 'success'");
    expect(outcomes).toHaveLength(3);
  });

  it('when a read-only responder asks for the codes, then it is refused and audited', async () => {
    const r = await h.driver.command(PEOPLE.readOnly, 'codes victor');
    expect(JSON.stringify(r.body)).toContain("Read-only responders cannot list users' bypass codes");
    const denied = await auditRows(h, "action = 'permission.denied' and actor_user_id = ?", [PEOPLE.readOnly]);
    expect(denied.map((r) => (r.params as { attempted: string }).attempted)).toContain('bypass_codes.list');
  });

  it("when the lookup card's Bypass codes button is clicked, then the list comes as a new private message", async () => {
    await h.driver.command(PEOPLE.helpDesk, 'lookup dave');
    const card = await h.slack.waitFor(() => privateMessages(h, PEOPLE.helpDesk, 'card_codes').at(-1));
    await h.driver.clickButton({ message: card }, 'Bypass codes', PEOPLE.helpDesk);
    const list = await listShowing(PEOPLE.helpDesk, 'dave', 'No active bypass codes');
    expect(list.ts).not.toBe(card.ts);
  });

  it("when Duo's answer to a deletion is lost, then the responder is told, the intent is completed as unknown, and nothing is retried", async () => {
    await h.driver.command(PEOPLE.helpDesk, 'codes victor');
    const list = await listShowing(PEOPLE.helpDesk, 'victor', 'Delete all 95');
    h.duo.injectFault({ kind: 'server_error', method: 'DELETE', path: '/admin/v1/bypass_codes/', times: 1 });
    const before = deletes().length;
    await clickAction(h, { message: list }, 'codes_delete_one', PEOPLE.helpDesk);
    await h.slack.waitFor(() => privateMessages(h, PEOPLE.helpDesk, 'may or may not have applied')[0]);
    h.duo.clearFaults();
    const last = (await auditRows(h, "action = 'bypass_code.deleted' and phase = 'outcome'")).at(-1)!;
    expect(last).toMatchObject({ outcome: 'unknown', duo_ref: 'DUO_UNAVAILABLE' });
    expect(deletes().length - before).toBe(1);
  });
});
