import { DEMO_DIRECTORIES } from '@duo-desk/duo-sim';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { auditRows } from '../support/audit.js';
import { type Harness, PEOPLE, startHarness } from '../support/harness.js';

/** One-user directory sync: POST /admin/v1/users/directorysync/[directory_key]/syncuser. */
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

const ENTRA = DEMO_DIRECTORIES[0];
const syncCalls = () => h.duo.requests().filter((r) => r.method === 'POST' && r.path.includes('/directorysync/'));

/** The final answer to `/duo sync …` (the ack says "Syncing…", the response_url then replaces it). */
async function sync(userId: string, text: string, expected: string): Promise<string> {
  const since = h.slack.calls.length;
  const r = await h.driver.command(userId, `sync ${text}`);
  return h.slack.waitFor(
    () => {
      const shown = [
        JSON.stringify(r.body ?? ''),
        ...h.slack.calls.slice(since).map((c) => JSON.stringify(c.args)),
      ].join(' ');
      return shown.includes(expected) ? shown : undefined;
    },
    { description: `"${expected}" after /duo sync ${text}` },
  );
}

describe('sync one user from the directory', () => {
  it('when a help-desk agent syncs niaj after the directory changed her email, then Duo has the new email, the card shows it and it is audited', async () => {
    h.duo.setDirectoryUser(ENTRA.directory_key, 'niaj', {
      realname: 'Niaj Nair-Okafor',
      email: 'niaj.okafor@example.com',
      external_id: h.duo.getUser('niaj')!.external_id!,
    });
    const shown = await sync(PEOPLE.helpDesk, 'niaj entra', 'Synced');
    expect(shown).toContain('Entra ID (example.com)');
    expect(shown).toContain('niaj.okafor@example.com');
    expect(h.duo.getUser('niaj')).toMatchObject({ email: 'niaj.okafor@example.com', realname: 'Niaj Nair-Okafor' });
    expect(syncCalls().map((r) => r.path)).toEqual([`/admin/v1/users/directorysync/${ENTRA.directory_key}/syncuser`]);
    const rows = await auditRows(h, `action = 'user.synced' and target_username = 'niaj'`);
    expect(rows.map((r) => [r.phase, r.outcome])).toEqual([
      ['intent', 'pending'],
      ['outcome', 'success'],
    ]);
    expect(rows[1]).toMatchObject({ actor_user_id: PEOPLE.helpDesk, params: { directory: ENTRA.name } });
  });

  it('when two directories are configured and none is named, then the responder is asked which, and Duo is not called', async () => {
    const shown = await sync(PEOPLE.helpDesk, 'niaj', 'Say which directory');
    expect(shown).toContain('Active Directory (CORP)');
    expect(syncCalls()).toEqual([]);
  });

  it('when a person exists only in the directory, then a help-desk sync creates them in Duo (Duo allows Help Desk a single-user sync)', async () => {
    h.duo.setDirectoryUser(ENTRA.directory_key, 'quinn', {
      realname: 'Quinn Quartz',
      email: 'quinn.quartz@example.com',
      external_id: '9a8b7c6d-0000-4e6b-8a1d-0f2e3c4b5a69',
    });
    expect(h.duo.getUser('quinn')).toBeUndefined();
    const shown = await sync(PEOPLE.helpDesk, `quinn ${ENTRA.directory_key}`, 'Synced');
    expect(shown).toContain('Quinn Quartz');
    expect(h.duo.getUser('quinn')).toMatchObject({ status: 'active', email: 'quinn.quartz@example.com' });
  });

  it('when the directory no longer has niaj, then the sync sends her to the Trash and the answer says only a sync restores her', async () => {
    h.duo.setDirectoryUser(ENTRA.directory_key, 'niaj', null);
    const shown = await sync(PEOPLE.userManager, 'niaj entra', 'Trash');
    expect(shown).toContain('only a sync can restore');
    expect(h.duo.getUser('niaj')!.status).toBe('pending deletion');
  });

  it('when the username is in neither the directory nor Duo, then Duo answers 404 and the responder is told what to check', async () => {
    const shown = await sync(PEOPLE.helpDesk, 'nobody entra', 'is neither in');
    expect(shown).toContain('Entra ID (example.com)');
    const rows = await auditRows(h, `action = 'user.synced' and target_username = 'nobody'`);
    expect(rows.at(-1)).toMatchObject({ phase: 'outcome', outcome: 'failed' });
  });

  it('when a read-only responder or a stranger asks for a sync, then it is refused and Duo is not called', async () => {
    const readOnly = await sync(PEOPLE.readOnly, 'niaj entra', 'cannot sync users');
    expect(readOnly).toContain('Help Desk');
    await sync(PEOPLE.stranger, 'niaj entra', 'not a duo-desk responder');
    expect(syncCalls()).toEqual([]);
    const denied = await auditRows(h, `action = 'permission.denied' and actor_user_id = ?`, [PEOPLE.readOnly]);
    expect(denied.at(-1)!.params).toMatchObject({ attempted: 'user.sync' });
  });

  it('when an unknown directory is named, then the responder gets the list', async () => {
    const shown = await sync(PEOPLE.owner, 'niaj ldap', 'No synced directory is called');
    expect(shown).toContain('Entra ID (example.com)');
  });
});
