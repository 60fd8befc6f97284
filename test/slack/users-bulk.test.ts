import type { StoredMessage } from '@duo-desk/slack-testbed';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { createMemoryLogger } from '../../src/log.js';
import { syncDirectory } from '../../src/usecases/directory-index.js';
import { VIEWS } from '../../views/ids.js';
import { auditRows } from '../support/audit.js';
import { approveWith, cardOf, enrollTotp, eventually, nextStep, totpAt, waitForView } from '../support/bypass-kit.js';
import { type Harness, PEOPLE, startHarness } from '../support/harness.js';

/**
 * The bulk status change of the users overview, end to end: a guarded action on the approval engine (the actor's
 * step-up, then a second person), users managed by directory sync never disabled however the form was filled,
 * each user's outcome on the card and in the audit trail.
 */
const clock = new ManualClock();
let h: Harness;
const secrets: Record<string, string> = {};
const LOCKED = ['bulk.ann', 'bulk.ben', 'bulk.cat'];
const SYNCED = 'bulk.synced';
const SYNCED_ELSEWHERE = 'bulk.synced.active';

const duoUser = (username: string) => h.duo.getUser(username)!;
const statusOf = (username: string) => duoUser(username).status;
const approvals = (where = 'true', params: unknown[] = []) =>
  h.runtime.db.em
    .fork()
    .getConnection()
    .execute<
      Array<{ id: string; state: string; policy: string; card_ts: string | null; params: unknown; result: unknown }>
    >(
      `select id, state, policy, card_ts, params, result from approval_request where kind = 'bulk_status' and ${where} order by created_at`,
      params,
    );

async function pageOf(userId: string, filter: string): Promise<StoredMessage> {
  const before = h.slack.messages().length;
  await h.driver.command(userId, `users ${filter}`);
  return h.slack.waitFor(() =>
    h.slack
      .messages()
      .slice(before)
      .findLast((m) => m.ephemeralUser === userId && JSON.stringify(m.blocks ?? []).includes('on this page')),
  );
}

async function openBulkForm(userId: string, filter = 'locked_out') {
  const page = await pageOf(userId, filter);
  const before = h.slack.views(userId).length;
  await h.driver.clickButton(page, 'Change status…', userId);
  return waitForView(h, userId, VIEWS.usersBulk, before);
}

beforeAll(async () => {
  h = await startHarness({ clock, startJobs: false });
  for (const username of LOCKED)
    h.duo.addUser({
      username,
      status: 'locked out',
      lockout_reason: 'Failed Attempts',
      email: `${username}@example.com`,
    });
  h.duo.addUser({
    username: SYNCED,
    status: 'locked out',
    lockout_reason: 'Failed Attempts',
    external_id: 'ad-guid-1',
    last_directory_sync: 1_764_000_000,
  });
  h.duo.addUser({ username: SYNCED_ELSEWHERE, status: 'active', external_id: 'ad-guid-2' });
  await syncDirectory(h.runtime.deps.duo, h.runtime.db.em.fork(), {
    clock,
    logger: createMemoryLogger('error'),
    pageDelayMs: 0,
  });
  secrets[PEOPLE.owner] = await enrollTotp(h, PEOPLE.owner);
  secrets[PEOPLE.userManager] = await enrollTotp(h, PEOPLE.userManager);
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  nextStep(clock);
});

describe('bulk status change from /duo users', () => {
  it('when a user manager asks to disable selected users, then nothing changes until a second person approves; then each is disabled, the synced one left out, and every outcome is reported and audited', async () => {
    const form = await openBulkForm(PEOPLE.userManager);
    expect(JSON.stringify(form.definition)).toContain(`${SYNCED} (directory sync)`);
    const r = await h.driver.submitView(form, PEOPLE.userManager, {
      Users: [...LOCKED, `${SYNCED} (directory sync)`],
      'New status': 'Disabled',
      Reason: 'Contractors left: INC-4711',
      'Code from your authenticator app': await totpAt(h, secrets[PEOPLE.userManager]!),
    });
    expect(JSON.stringify(r.body)).toContain('waiting for a second person');
    const [req] = await approvals();
    expect(req).toMatchObject({ state: 'requested', policy: 'second_person' });
    // Refused without approval: nothing reached Duo.
    for (const u of LOCKED) expect(statusOf(u)).toBe('locked out');
    const params = req!.params as {
      users: Array<{ username: string }>;
      excluded: Array<{ username: string; why: string }>;
    };
    expect(params.users.map((u) => u.username).sort()).toEqual([...LOCKED].sort());
    expect(params.excluded).toEqual([{ username: SYNCED, why: 'directory_synced' }]);

    // The requester cannot approve their own request.
    await h.driver.clickButton({ message: cardOf(h, req!.card_ts!)! }, 'Approve', PEOPLE.userManager);
    await eventually(
      async () =>
        (
          await auditRows(h, "action = 'permission.denied' and actor_user_id = ? and params->>'attempted' = ?", [
            PEOPLE.userManager,
            'bulk_status.approve',
          ])
        ).length > 0,
      'the own-request refusal',
    );
    expect((await approvals('id = ?', [req!.id]))[0]!.state).toBe('requested');
    for (const u of LOCKED) expect(statusOf(u)).toBe('locked out');

    await approveWith(h, req!.card_ts!, PEOPLE.owner, await totpAt(h, secrets[PEOPLE.owner]!));
    const done = await eventually(async () => {
      const [row] = await approvals('id = ?', [req!.id]);
      return row?.state === 'done' ? row : undefined;
    }, 'the bulk change done');
    for (const u of LOCKED) expect(statusOf(u)).toBe('disabled');
    expect(statusOf(SYNCED)).toBe('locked out');
    expect(done.result).toMatchObject({ changed: 3, excludedSynced: 0, failed: 0 });
    const card = await h.slack.waitFor(() => {
      const text = JSON.stringify(cardOf(h, req!.card_ts!)?.blocks);
      return text.includes('3 changed') ? text : undefined;
    });
    for (const u of LOCKED) expect(card).toContain(`${u}: changed`);
    expect(card).toContain(`${SYNCED} (managed by directory sync)`);
    const rows = await auditRows(h, "action = 'user.status_changed' and request_ref = ?", [req!.id]);
    expect(
      rows
        .filter((x) => x.phase === 'outcome' && x.outcome === 'success')
        .map((x) => x.target_username)
        .sort(),
    ).toEqual([...LOCKED].sort());
    expect(rows.every((x) => x.actor_user_id === PEOPLE.owner)).toBe(true);
    expect((await auditRows(h, "action = 'bulk_status.requested'")).length).toBe(1);
  });

  it('when the selection is forged to include a synced user from elsewhere and an unknown id for Disabled, then both are left out and the synced user stays as they are', async () => {
    const synced = duoUser(SYNCED_ELSEWHERE);
    h.duo.addUser({ username: 'bulk.dan', status: 'locked out', lockout_reason: 'Failed Attempts' });
    await syncDirectory(h.runtime.deps.duo, h.runtime.db.em.fork(), {
      clock,
      logger: createMemoryLogger('error'),
      pageDelayMs: 0,
    });
    const form = await openBulkForm(PEOPLE.userManager);
    const r = await h.driver.submitView(form, PEOPLE.userManager, {
      // Options the form never offered: what a hand-built view_submission can carry.
      Users: [
        'bulk.dan',
        { value: synced.user_id, text: 'innocent' },
        { value: 'DUNKNOWN0000000000000', text: 'x' },
      ] as never,
      'New status': 'Disabled',
      Reason: 'Cleanup of leavers, ticket INC-4712',
      'Code from your authenticator app': await totpAt(h, secrets[PEOPLE.userManager]!),
    });
    expect(JSON.stringify(r.body)).toContain('waiting for a second person');
    const req = (await approvals()).at(-1)!;
    const params = req.params as {
      users: Array<{ username: string }>;
      excluded: Array<{ username: string; why: string }>;
    };
    expect(params.users.map((u) => u.username)).toEqual(['bulk.dan']);
    expect(params.excluded).toEqual([
      { username: SYNCED_ELSEWHERE, why: 'directory_synced' },
      { username: 'DUNKNOWN0000000000000', why: 'unknown' },
    ]);
    await approveWith(h, req.card_ts!, PEOPLE.owner, await totpAt(h, secrets[PEOPLE.owner]!));
    await eventually(async () => (await approvals('id = ?', [req.id]))[0]?.state === 'done', 'done');
    expect(statusOf('bulk.dan')).toBe('disabled');
    expect(statusOf(SYNCED_ELSEWHERE)).toBe('active');
  });

  it('when the index is stale and says a user is not synced while Duo says they are, then the change leaves them out, on what Duo says when it runs', async () => {
    h.duo.addUser({
      username: 'bulk.eve',
      status: 'locked out',
      lockout_reason: 'Failed Attempts',
      external_id: 'ad-guid-3',
      last_directory_sync: 1_764_100_000,
    });
    await syncDirectory(h.runtime.deps.duo, h.runtime.db.em.fork(), {
      clock,
      logger: createMemoryLogger('error'),
      pageDelayMs: 0,
    });
    // The index as an earlier pass left it, before the directory took the user over.
    await h.runtime.db.em
      .fork()
      .getConnection()
      .execute('update directory_entry set directory_synced = false where username = ?', ['bulk.eve']);
    const form = await openBulkForm(PEOPLE.userManager);
    await h.driver.submitView(form, PEOPLE.userManager, {
      Users: ['bulk.eve'],
      'New status': 'Disabled',
      Reason: 'Leaver, ticket INC-4713',
      'Code from your authenticator app': await totpAt(h, secrets[PEOPLE.userManager]!),
    });
    const req = (await approvals()).at(-1)!;
    expect((req.params as { users: Array<{ username: string }> }).users.map((u) => u.username)).toEqual(['bulk.eve']);
    await approveWith(h, req.card_ts!, PEOPLE.owner, await totpAt(h, secrets[PEOPLE.owner]!));
    const done = await eventually(async () => {
      const [row] = await approvals('id = ?', [req.id]);
      return row && ['done', 'failed', 'unknown'].includes(row.state) ? row : undefined;
    }, 'the bulk change ended');
    expect(done).toMatchObject({ state: 'done', result: { changed: 0, excludedSynced: 1 } });
    expect(statusOf('bulk.eve')).toBe('locked out');
  });

  it('when only synced users are picked for Disabled, then the form says none can be changed and no request is made', async () => {
    const before = (await approvals()).length;
    const form = await openBulkForm(PEOPLE.userManager, 'all');
    const r = await h.driver.submitView(form, PEOPLE.userManager, {
      Users: [{ value: duoUser(SYNCED).user_id, text: SYNCED }] as never,
      'New status': 'Disabled',
      Reason: 'Should not happen',
      'Code from your authenticator app': await totpAt(h, secrets[PEOPLE.userManager]!),
    });
    expect(JSON.stringify(r.body)).toContain('managed by directory sync cannot be disabled');
    expect(await approvals()).toHaveLength(before);
  });

  it('when the step-up code is wrong, then the request is refused by the step-up guard and audited', async () => {
    const before = (await approvals()).length;
    const form = await openBulkForm(PEOPLE.userManager);
    const r = await h.driver.submitView(form, PEOPLE.userManager, {
      Users: [SYNCED + ' (directory sync)'],
      'New status': 'Active',
      Reason: 'Unlock after the outage',
      'Code from your authenticator app': '000000',
    });
    expect((r.body as { response_action?: string }).response_action).toBe('errors');
    expect(await approvals()).toHaveLength(before);
    const refused = await auditRows(h, "action = 'guard.refused' and actor_user_id = ?", [PEOPLE.userManager]);
    expect(refused.at(-1)!.params).toMatchObject({ guard: 'step_up', attempted: 'bulk_status.request' });
  });

  it('when a help-desk agent or a read-only responder presses Change status…, then the form does not open: refused by role and audited', async () => {
    // Duo lets Help Desk set Locked Out or Disabled users to Active one at a time (unlock, re-enable), and never
    // change status otherwise: a bulk change is for the roles that may change status.
    const hdPage = await pageOf(PEOPLE.helpDesk, 'locked_out');
    const hdViews = h.slack.views(PEOPLE.helpDesk).length;
    await h.driver.clickButton(hdPage, 'Change status…', PEOPLE.helpDesk);
    await eventually(
      async () =>
        (await auditRows(h, "action = 'permission.denied' and actor_user_id = ?", [PEOPLE.helpDesk])).length > 0,
      'the help-desk refusal',
    );
    expect(h.slack.views(PEOPLE.helpDesk).length).toBe(hdViews);

    const page = await pageOf(PEOPLE.readOnly, 'locked_out');
    const views = h.slack.views(PEOPLE.readOnly).length;
    await h.driver.clickButton(page, 'Change status…', PEOPLE.readOnly);
    await eventually(
      async () =>
        (await auditRows(h, "action = 'permission.denied' and actor_user_id = ?", [PEOPLE.readOnly])).length > 0,
      'the read-only refusal',
    );
    expect(h.slack.views(PEOPLE.readOnly).length).toBe(views);
  });
});
