import type { StoredView } from '@duo-desk/slack-testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { VIEWS } from '../../views/ids.js';
import { auditRows } from '../support/audit.js';
import { addVerification, approveWith, enrollTotp, eventually, totpAt } from '../support/bypass-kit.js';
import { type Harness, PEOPLE, startHarness } from '../support/harness.js';

/** Editing a Duo user (POST /admin/v1/users/[user_id]) within Duo's role limits. */
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

const viewText = (v: StoredView | undefined) => JSON.stringify(v?.definition ?? {});
const REASON = 'Caller asked to fix their details; verified by Duo Push';

async function openEdit(userId: string, username: string): Promise<StoredView> {
  const previous = h.slack.lastView(userId)?.id;
  const r = await h.driver.command(userId, `edit ${username}`);
  expect(r.status).toBe(200);
  return h.slack.waitFor(
    () => {
      const v = h.slack.lastView(userId);
      return v && v.id !== previous && v.callbackId === VIEWS.editUser ? v : undefined;
    },
    { description: `the edit form for ${username}` },
  );
}

const blockIds = (v: StoredView) => (v.definition.blocks as Array<{ block_id?: string }>).map((b) => b.block_id);

async function save(view: StoredView, userId: string, values: Record<string, string>) {
  const r = await h.driver.submitView(view, userId, { reason: REASON, ...values });
  return r.body as { errors?: Record<string, string>; response_action?: string; view?: unknown } | undefined;
}

describe('edit a user', () => {
  it('when a help-desk agent edits frank (not enrolled), then only full name, email and notes are offered and the change is made and audited', async () => {
    const form = await openEdit(PEOPLE.helpDesk, 'frank');
    expect(blockIds(form)).toEqual(expect.arrayContaining(['realname', 'email', 'notes']));
    expect(blockIds(form)).not.toContain('aliases');
    expect(blockIds(form)).not.toContain('auto_prompt');
    const body = await save(form, PEOPLE.helpDesk, { email: 'frank.f@example.com', notes: 'New mailbox since Monday' });
    expect(body?.errors).toBeUndefined();
    expect(JSON.stringify(body)).toMatch(/Changed notes, email of/);
    expect(h.duo.getUser('frank')).toMatchObject({ email: 'frank.f@example.com', notes: 'New mailbox since Monday' });
    const rows = await auditRows(h, `action = 'user.edited' and target_username = 'frank'`);
    expect(rows.map((r) => [r.phase, r.outcome])).toEqual([
      ['intent', 'pending'],
      ['outcome', 'success'],
    ]);
    expect(rows[1]!.params).toMatchObject({ fields: 'notes,email' });
  });

  it('when a help-desk agent forges an aliases input into the form, then it is refused (Duo: Help Desk may not change aliases) and Duo is unchanged', async () => {
    const form = await openEdit(PEOPLE.helpDesk, 'alice');
    h.slack.store.views.get(form.id)!.stateValues.aliases = {
      aliases_input: { type: 'plain_text_input', value: 'alice.admin' },
    };
    const body = await save(form, PEOPLE.helpDesk, {});
    expect(JSON.stringify(body)).toContain('full name, email and notes only');
    expect(Object.values(h.duo.getUser('alice')!.aliases)).not.toContain('alice.admin');
    const denied = await auditRows(h, `action = 'permission.denied' and target_username = 'alice'`);
    expect(denied.at(-1)!.params).toMatchObject({ attempted: 'user.edit', why: 'help_desk_fields' });
  });

  it('when a user manager sets aliases and the authentication experience, then Duo has them', async () => {
    const form = await openEdit(PEOPLE.userManager, 'heidi');
    expect(blockIds(form)).toEqual(expect.arrayContaining(['aliases', 'auto_prompt']));
    const body = await save(form, PEOPLE.userManager, { aliases: 'heidi.h\nhh@example.com', auto_prompt: 'off' });
    expect(body?.errors).toBeUndefined();
    expect(h.duo.getUser('heidi')).toMatchObject({
      aliases: { alias1: 'heidi.h', alias2: 'hh@example.com' },
      enable_auto_prompt: false,
    });
    expect(h.duo.getUser('hh@example.com')?.username).toBe('heidi');
    const again = await openEdit(PEOPLE.userManager, 'heidi');
    const nine = Array.from({ length: 9 }, (_, i) => `h${i}`).join('\n');
    expect((await save(again, PEOPLE.userManager, { aliases: nine }))?.errors?.aliases).toContain('At most 8');
    expect((await save(again, PEOPLE.userManager, { aliases: 'heidi' }))?.errors?.aliases).toContain('differ');
  });

  it('when niaj is synced, then the form says which directory manages her and offers no directory fields; a forged email is refused', async () => {
    const form = await openEdit(PEOPLE.owner, 'niaj');
    expect(viewText(form)).toContain('Managed by directory sync');
    expect(viewText(form)).toContain('Entra ID (example.com)');
    expect(blockIds(form)).not.toContain('email');
    expect(blockIds(form)).toContain('notes');
    h.slack.store.views.get(form.id)!.stateValues.email = {
      email_input: { type: 'plain_text_input', value: 'attacker@evil.example' },
    };
    const body = await save(form, PEOPLE.owner, {});
    expect(JSON.stringify(body)).toContain('source directory');
    expect(h.duo.getUser('niaj')!.email).toBe('niaj.nair@example.com');
  });

  it('when a help-desk agent changes the email of enrolled alice, then it needs a verified caller, then waits for a second person, and an owner’s approval changes it', async () => {
    const before = h.duo.getUser('alice')!.email;
    const form = await openEdit(PEOPLE.helpDesk, 'alice');
    expect(viewText(form)).toContain('second person');
    const refused = await save(form, PEOPLE.helpDesk, { email: 'alice.new@example.com' });
    expect(refused?.errors?.email).toContain('Verify the caller first');
    expect(h.duo.getUser('alice')!.email).toBe(before);

    await addVerification(h, PEOPLE.helpDesk, 'alice');
    const body = await save(form, PEOPLE.helpDesk, { email: 'alice.new@example.com' });
    expect(JSON.stringify(body)).toContain('waits for a second person');
    expect(h.duo.getUser('alice')!.email).toBe(before);
    const row = await eventually(async () => {
      const [r] = await h.runtime.db.em
        .fork()
        .getConnection()
        .execute<Array<{ id: string; card_ts: string | null; state: string }>>(
          `select id, card_ts, state from approval_request where kind = 'email_change' order by created_at desc limit 1`,
        );
      return r?.card_ts ? r : undefined;
    }, 'the email-change card');
    // A later 30-second step than enrolling used (a code is accepted once).
    clock.advance(60_000);
    await approveWith(h, row.card_ts!, PEOPLE.owner, await totpAt(h, ownerSecret));
    await eventually(
      async () => (h.duo.getUser('alice')!.email === 'alice.new@example.com' ? true : undefined),
      'the new email in Duo',
    );
    const edited = await eventually(
      async () =>
        (await auditRows(h, `action = 'user.edited' and target_username = 'alice' and phase = 'outcome'`)).at(-1),
      'the outcome row',
    );
    expect(edited).toMatchObject({
      outcome: 'success',
      params: { fields: 'email', guarded: true },
    });
  });

  it('when a read-only responder asks to edit, then it is refused with the roles that may', async () => {
    const r = await h.driver.command(PEOPLE.readOnly, 'edit frank');
    expect(JSON.stringify(r.body)).toContain('cannot edit users');
  });
});
