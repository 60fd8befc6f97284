import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { auditRows } from '../support/audit.js';
import { approveWith, enrollTotp, eventually, totpAt } from '../support/bypass-kit.js';
import { type Harness, PEOPLE, startHarness } from '../support/harness.js';

/** Permanent deletion (DELETE /admin/v1/users/[user_id]) of users in the Trash: guarded; more than one needs an owner. */
const clock = new ManualClock();
let h: Harness;
let ownerSecret: string;
beforeAll(async () => {
  h = await startHarness({ clock });
  ownerSecret = await enrollTotp(h, PEOPLE.owner);
});
afterAll(async () => {
  await h?.close();
});

const deleteCalls = () =>
  h.duo.requests().filter((r) => r.method === 'DELETE' && r.path.startsWith('/admin/v1/users/'));

async function answer(userId: string, text: string, expected: string): Promise<string> {
  const since = h.slack.calls.length;
  const r = await h.driver.command(userId, text);
  return h.slack.waitFor(
    () => {
      const shown = [
        JSON.stringify(r.body ?? ''),
        ...h.slack.calls.slice(since).map((c) => JSON.stringify(c.args)),
      ].join(' ');
      return shown.includes(expected) ? shown : undefined;
    },
    { description: `"${expected}" after /duo ${text}` },
  );
}

const latestRequest = () =>
  eventually(async () => {
    const [r] = await h.runtime.db.em
      .fork()
      .getConnection()
      .execute<Array<{ id: string; card_ts: string | null; policy: string }>>(
        `select id, card_ts, policy from approval_request where kind = 'user_delete' order by created_at desc limit 1`,
      );
    return r?.card_ts ? r : undefined;
  }, 'the deletion card');

describe('delete permanently', () => {
  it('when a help-desk agent asks to delete olivia (in the Trash), then the answer warns, a second person approves, and Duo deletes her', async () => {
    const shown = await answer(PEOPLE.helpDesk, 'delete olivia Duplicate account', 'waits for a second person');
    expect(shown).toContain('must re-enroll');
    expect(h.duo.getUser('olivia')).toBeDefined();
    const row = await latestRequest();
    expect(row.policy).toBe('second_person');
    clock.advance(60_000);
    await approveWith(h, row.card_ts!, PEOPLE.owner, await totpAt(h, ownerSecret));
    await eventually(async () => (h.duo.getUser('olivia') === undefined ? true : undefined), 'olivia deleted');
    const outcome = await eventually(
      async () =>
        (await auditRows(h, `action = 'user.deleted' and target_username = 'olivia' and phase = 'outcome'`)).at(-1),
      'the outcome row',
    );
    expect(outcome).toMatchObject({ outcome: 'success' });
  });

  it('when a user manager asks to delete two users at once, then only an owner may approve, and both go', async () => {
    for (const username of ['ursula', 'uwe']) h.duo.addUser({ username, status: 'pending deletion' });
    await answer(PEOPLE.userManager, 'delete ursula,uwe Cleanup after the merger', 'waits for an owner');
    const row = await latestRequest();
    expect(row.policy).toBe('second_owner');
    clock.advance(60_000);
    await approveWith(h, row.card_ts!, PEOPLE.owner, await totpAt(h, ownerSecret));
    await eventually(
      async () => (!h.duo.getUser('ursula') && !h.duo.getUser('uwe') ? true : undefined),
      'both deleted',
    );
  });

  it('when the user is not in the Trash, or the responder is read-only, then it is refused and Duo deletes nothing', async () => {
    const before = deleteCalls().length;
    await answer(PEOPLE.owner, 'delete alice Test', 'is not in the Trash');
    expect(await answer(PEOPLE.readOnly, 'delete olivia Test', 'cannot delete users permanently')).toContain(
      'Help Desk',
    );
    expect(deleteCalls().length).toBe(before);
    expect(h.duo.getUser('alice')).toBeDefined();
  });
});
