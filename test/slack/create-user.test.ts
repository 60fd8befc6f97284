import type { StoredView } from '@duo-desk/slack-testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIEWS } from '../../views/ids.js';
import { auditRows } from '../support/audit.js';
import { type Harness, PEOPLE, startHarness } from '../support/harness.js';

/** Creating a Duo user by hand (POST /admin/v1/users): Owner, Administrator, User Manager. */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const viewText = (v: StoredView | undefined) => JSON.stringify(v?.definition ?? {});

async function openCreate(userId: string): Promise<StoredView> {
  const previous = h.slack.lastView(userId)?.id;
  const r = await h.driver.command(userId, 'create');
  expect(r.status).toBe(200);
  return h.slack.waitFor(
    () => {
      const v = h.slack.lastView(userId);
      return v && v.id !== previous && v.callbackId === VIEWS.createUser ? v : undefined;
    },
    { description: 'the create-user form' },
  );
}

async function submit(view: StoredView, userId: string, values: Record<string, string>) {
  const r = await h.driver.submitView(view, userId, values);
  return (r.body as { errors?: Record<string, string> } | undefined)?.errors;
}

describe('create a user', () => {
  it('when a user manager creates nora with an email and two aliases, then Duo has her, it is audited, and her card offers the enrollment email, which sends it', async () => {
    const form = await openCreate(PEOPLE.userManager);
    const before = h.slack.messages().length;
    const errors = await submit(form, PEOPLE.userManager, {
      username: 'nora',
      realname: 'Nora North',
      email: 'nora.north@example.com',
      aliases: 'nora.north@example.com\nnnorth',
      ticket: 'INC-3003',
    });
    expect(errors).toBeUndefined();
    const card = await h.slack.waitFor(
      () =>
        h.slack
          .messages()
          .slice(before)
          .find((m) => m.ephemeralUser === PEOPLE.userManager && JSON.stringify(m.blocks ?? []).includes('(nora)')),
      { description: "nora's card" },
    );
    expect(h.duo.getUser('nora')).toMatchObject({
      realname: 'Nora North',
      email: 'nora.north@example.com',
      status: 'active',
      aliases: { alias1: 'nora.north@example.com', alias2: 'nnorth' },
    });
    expect(h.duo.getUser('nnorth')?.username).toBe('nora');
    const rows = await auditRows(h, `action = 'user.created' and target_username = 'nora'`);
    expect(rows.map((r) => [r.phase, r.outcome])).toEqual([
      ['intent', 'pending'],
      ['outcome', 'success'],
    ]);
    expect(rows[1]).toMatchObject({ actor_user_id: PEOPLE.userManager, ticket: 'INC-3003' });
    expect(viewText(h.slack.lastView(PEOPLE.userManager))).toContain('Created *nora*');

    expect(JSON.stringify(card.blocks)).toContain('Send enrollment email');
    const since = Date.now();
    await h.driver.clickButton({ message: card }, 'Send enrollment email', PEOPLE.userManager);
    const enrollForm = await h.slack.waitFor(() => {
      const v = h.slack.lastView(PEOPLE.userManager);
      return v && v.updatedAt >= since && v.callbackId === VIEWS.enroll ? v : undefined;
    });
    await h.driver.submitView(enrollForm, PEOPLE.userManager, {});
    await h.slack.waitFor(() => h.duo.enrollmentOutbox().find((e) => e.username === 'nora'));
  });

  it('when a help-desk agent asks to create a user, then it is refused with the roles that may (Duo: not Help Desk)', async () => {
    const r = await h.driver.command(PEOPLE.helpDesk, 'create');
    const text = JSON.stringify(r.body);
    expect(text).toContain('cannot create users');
    expect(text).toContain('User Manager');
  });

  it('when a help-desk agent submits a create form opened by someone else, then it is refused and Duo has no such user', async () => {
    const form = await openCreate(PEOPLE.owner);
    h.slack.store.views.get(form.id)!.userId = PEOPLE.helpDesk;
    await h.driver.submitView(form, PEOPLE.helpDesk, { username: 'mallet' }).catch(() => undefined);
    await h.slack.waitFor(async () => {
      const denied = await auditRows(h, `action = 'permission.denied' and actor_user_id = ?`, [PEOPLE.helpDesk]);
      return denied.some((d) => (d.params as { attempted?: string }).attempted === 'user.create') || undefined;
    });
    expect(h.duo.getUser('mallet')).toBeUndefined();
  });

  it('when the aliases repeat, are too many, or one is taken, then the form says which and Duo is not asked to create', async () => {
    const posts = () => h.duo.requests().filter((r) => r.method === 'POST' && r.path === '/admin/v1/users').length;
    const before = posts();
    const form = await openCreate(PEOPLE.owner);
    expect((await submit(form, PEOPLE.owner, { username: 'otto', aliases: 'otto' }))?.aliases).toContain('differ');
    const nine = Array.from({ length: 9 }, (_, i) => `otto${i}`).join('\n');
    expect((await submit(form, PEOPLE.owner, { username: 'otto', aliases: nine }))?.aliases).toContain('At most 8');
    expect((await submit(form, PEOPLE.owner, { username: 'two words' }))?.username).toContain('without spaces');
    expect((await submit(form, PEOPLE.owner, { username: 'otto', email: 'not-an-email' }))?.email).toContain('email');
    const errors = await submit(form, PEOPLE.owner, { username: 'otto', email: '', aliases: 'alice' });
    expect(errors).toBeUndefined();
    await h.slack.waitFor(() =>
      viewText(h.slack.lastView(PEOPLE.owner)).includes('already a Duo username') ? true : undefined,
    );
    expect(h.duo.getUser('otto')).toBeUndefined();
    expect(posts()).toBe(before);
  });
});
