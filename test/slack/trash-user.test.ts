import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { auditRows } from '../support/audit.js';
import { approveWith, enrollTotp, eventually, totpAt } from '../support/bypass-kit.js';
import { type Harness, PEOPLE, startHarness } from '../support/harness.js';

/** Sending a user to the Trash (POST /admin/v1/users/bulk_send_to_trash): a guarded change. */
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

const trashCalls = () => h.duo.requests().filter((r) => r.path === '/admin/v1/users/bulk_send_to_trash');

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

describe('send to the Trash', () => {
  it('when a help-desk agent asks to trash frank, then it waits for a second person; an owner approves; frank is pending deletion; restore brings him back Disabled', async () => {
    await answer(PEOPLE.helpDesk, 'trash frank Left the company, ticket INC-4242', 'waits for a second person');
    expect(h.duo.getUser('frank')!.status).toBe('active');
    expect(trashCalls()).toEqual([]);
    const row = await eventually(async () => {
      const [r] = await h.runtime.db.em
        .fork()
        .getConnection()
        .execute<Array<{ id: string; card_ts: string | null }>>(
          `select id, card_ts from approval_request where kind = 'user_trash' order by created_at desc limit 1`,
        );
      return r?.card_ts ? r : undefined;
    }, 'the Trash card');
    clock.advance(60_000);
    await approveWith(h, row.card_ts!, PEOPLE.owner, await totpAt(h, ownerSecret));
    await eventually(
      async () => (h.duo.getUser('frank')!.status === 'pending deletion' ? true : undefined),
      'frank in the Trash',
    );
    const outcome = await eventually(async () => {
      const rows = await auditRows(h, `action = 'user.trashed' and target_username = 'frank' and phase = 'outcome'`);
      return rows.at(-1);
    }, 'the outcome row');
    expect(outcome).toMatchObject({ outcome: 'success', actor_user_id: PEOPLE.owner });

    // The card of a user in the Trash says when they were marked and when Duo deletes them.
    const card = await answer(PEOPLE.helpDesk, 'lookup frank', '(frank)');
    expect(card).toContain('In the Trash since');
    expect(card).toContain('Duo deletes them permanently');
    expect(card).toContain('Restore from Trash');
    expect(await answer(PEOPLE.helpDesk, 'lookup olivia', '(olivia)')).toContain('marked outside duo-desk');

    await answer(PEOPLE.helpDesk, 'restore frank', 'Restored from the Trash');
    expect(h.duo.getUser('frank')!.status).toBe('disabled');
  });

  it('when someone asks to trash niaj (directory-synced), then it is refused: only a sync trashes her', async () => {
    const before = trashCalls().length;
    const shown = await answer(PEOPLE.owner, 'trash niaj Leaving', 'only a sync');
    expect(shown).toContain('directory sync');
    expect(h.duo.getUser('niaj')!.status).toBe('active');
    expect(trashCalls().length).toBe(before);
  });

  it('when a read-only responder asks, or no reason is given, then it is refused and Duo is not asked', async () => {
    const before = trashCalls().length;
    expect(await answer(PEOPLE.readOnly, 'trash alice Bye', 'cannot send users to the Trash')).toContain('Help Desk');
    await answer(PEOPLE.helpDesk, 'trash alice', 'Give a reason');
    expect(h.duo.getUser('alice')!.status).toBe('active');
    expect(trashCalls().length).toBe(before);
  });
});
