import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { auditRows } from '../support/audit.js';
import { type Harness, PEOPLE, startHarness } from '../support/harness.js';

/** Restoring a user from the Trash (POST /admin/v1/users/bulk_restore). */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});
afterEach(() => {
  h.duo.reset();
});

const restoreCalls = () => h.duo.requests().filter((r) => r.path === '/admin/v1/users/bulk_restore');

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

describe('restore from the Trash', () => {
  it('when a help-desk agent restores olivia, then Duo has her Disabled (not Active), it is audited, and the card offers setting her Active', async () => {
    expect(await answer(PEOPLE.helpDesk, 'lookup olivia', '(olivia)')).toContain('Restore from Trash');
    const shown = await answer(PEOPLE.helpDesk, 'restore olivia', 'Restored from the Trash');
    expect(h.duo.getUser('olivia')!.status).toBe('disabled');
    expect(shown).toContain('Disabled');
    // The card's Unlock re-enables: Disabled to Active, behind the unlock guards.
    expect(shown).toContain('"Unlock"');
    expect(shown).not.toContain('Restore from Trash');
    const rows = await auditRows(h, `action = 'user.restored' and target_username = 'olivia'`);
    expect(rows.map((r) => [r.phase, r.outcome])).toEqual([
      ['intent', 'pending'],
      ['outcome', 'success'],
    ]);
  });

  it('when the user in the Trash is managed by directory sync, then it is refused (only a sync restores them) and Duo is not asked', async () => {
    h.duo.addUser({
      username: 'tess',
      status: 'pending deletion',
      external_id: '5e6f7a8b-2222-4a2b-9c3d-0d4c1e2f1111',
      last_directory_sync: Math.floor(Date.now() / 1000) - 600,
    });
    expect(await answer(PEOPLE.owner, 'lookup tess', '(tess)')).not.toContain('Restore from Trash');
    const shown = await answer(PEOPLE.owner, 'restore tess', 'only a sync');
    expect(shown).toContain('directory sync');
    expect(h.duo.getUser('tess')!.status).toBe('pending deletion');
    expect(restoreCalls()).toEqual([]);
    const denied = await auditRows(h, `action = 'permission.denied' and target_username = 'tess'`);
    expect(denied.at(-1)!.params).toMatchObject({ attempted: 'user.restore', why: 'directory_account' });
  });

  it('when a read-only responder asks to restore, or the user is not in the Trash, then it is refused', async () => {
    expect(await answer(PEOPLE.readOnly, 'restore olivia', 'cannot restore users')).toContain('Help Desk');
    await answer(PEOPLE.owner, 'restore alice', 'not in the Trash');
    expect(restoreCalls()).toEqual([]);
    expect(h.duo.getUser('olivia')!.status).toBe('pending deletion');
  });
});
