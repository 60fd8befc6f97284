import { makePhone } from '@duo-desk/duo-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { slackApprovalNotices } from '../../src/slack/approval-notices.js';
import { requireActor } from '../../src/usecases/access.js';
import { bypassCodesKind } from '../../src/usecases/approval-bypass-codes.js';
import { submitRequest } from '../../src/usecases/approval-engine.js';
import { ACTIONS, VIEWS } from '../../views/ids.js';
import { auditRows } from '../support/audit.js';
import {
  approveWith,
  callerOf,
  enrollTotp,
  eventually,
  nextStep,
  totpAt,
  viewText,
  waitForView,
} from '../support/bypass-kit.js';
import { clickAction } from '../support/forge.js';
import { CHANNELS, type Harness, PEOPLE, startHarness } from '../support/harness.js';

/**
 * `/duo users codes`: the organisation's valid bypass codes from GET /admin/v1/bypass_codes (paged), the weak ones
 * (no expiry), by user and by creator (the responder who asked, from duo-desk's own records; "API" otherwise), and
 * never a code.
 */
let h: Harness;
const clock = new ManualClock();
const secrets: Record<string, string> = {};
const MANY = ['codes.many.1', 'codes.many.2', 'codes.many.3', 'codes.many.4', 'codes.many.5', 'codes.many.6'];

/** Issues codes through the approval engine as a duo-desk request of `requester` would (no approval needed). */
async function issue(requester: string, username: string, params: { count: number; validSecs: number }) {
  const em = h.runtime.db.em.fork();
  const caller = callerOf(requester);
  const actor = await requireActor(h.runtime.deps, em, caller);
  const user = h.duo.getUser(username)!;
  const submitted = await submitRequest(
    h.runtime.deps,
    em,
    caller,
    actor,
    slackApprovalNotices(h.runtime.deps, h.runtime.slack.notifier),
    {
      kind: bypassCodesKind,
      params: { count: params.count, reuseCount: 1, validSecs: params.validSecs },
      policy: 'none',
      target: { duoUserId: user.user_id, username },
      reason: 'Caller lost their phone, verified by the manager',
      ticket: null,
      requestChannel: CHANNELS.helpdesk,
      verificationId: null,
      delayHours: 24,
    },
  );
  expect(submitted.outcome).toBe('done');
}

/** Every live code, read per user (GET /admin/v1/users/[id]/bypass_codes): the independent count. */
async function codesPerUser() {
  const all: Array<{ expiration?: number | null; user?: { user_id: string } }> = [];
  for await (const page of h.runtime.deps.duo.iterateUsers())
    for (const u of page) all.push(...(await h.runtime.deps.duo.getUserBypassCodes(u.user_id)));
  return all;
}

async function report(userId: string, answered = true) {
  const before = h.slack.messages().length;
  const r = await h.driver.command(userId, 'users codes');
  if (!answered) return { r, msg: undefined, text: '' };
  const msg = await h.slack
    .waitFor(() =>
      h.slack
        .messages()
        .slice(before)
        .findLast((m) => m.ephemeralUser === userId && JSON.stringify(m.blocks ?? []).includes('Bypass codes')),
    )
    .catch(() => undefined);
  return { r, msg, text: JSON.stringify(msg?.blocks ?? []) };
}

beforeAll(async () => {
  h = await startHarness({ startJobs: false, clock });
  secrets[PEOPLE.owner] = await enrollTotp(h, PEOPLE.owner);
  secrets[PEOPLE.userManager] = await enrollTotp(h, PEOPLE.userManager);
  // 600 codes made through the Admin API, not duo-desk: more than one page of GET /admin/v1/bypass_codes.
  for (const username of MANY) h.duo.addUser({ username, seedBypassCodes: 100 });
  for (const username of ['codes.owner', 'codes.manager'])
    h.duo.addUser({ username, phones: [makePhone(username, 1, 'iphone', '+15555550111', '2026-11-20T09:00:00')] });
  await issue(PEOPLE.owner, 'codes.owner', { count: 2, validSecs: 0 });
  await issue(PEOPLE.userManager, 'codes.manager', { count: 3, validSecs: 3600 });
});
afterAll(async () => {
  await h?.close();
});

describe('/duo users codes', () => {
  it('when a help-desk agent asks for the report, then the valid and weak counts match every user’s codes in Duo, over more than one page', async () => {
    const all = await codesPerUser();
    const weak = all.filter((c) => c.expiration === null || c.expiration === undefined).length;
    expect(all.length).toBeGreaterThan(600);
    const { text } = await report(PEOPLE.helpDesk);
    expect(text).toContain(`${all.length.toLocaleString('en-US')} valid codes`);
    expect(text).toContain(`*${weak.toLocaleString('en-US')} weak*`);
    const pages = h.duo.requests().filter((r) => r.method === 'GET' && r.path === '/admin/v1/bypass_codes');
    expect(pages.length).toBeGreaterThanOrEqual(2);
    const audited = await auditRows(h, "action = 'bypass_codes.reported' and actor_user_id = ?", [PEOPLE.helpDesk]);
    expect(audited.at(-1)!.params).toMatchObject({ total: all.length, weak });
  });

  it('when codes were asked for through duo-desk, then the report names the responder who asked; the rest are "API"', async () => {
    const { text } = await report(PEOPLE.owner);
    expect(text).toContain(`<@${PEOPLE.owner}> (through duo-desk; Duo says API): 2 codes, 2 weak`);
    expect(text).toContain(`<@${PEOPLE.userManager}> (through duo-desk; Duo says API): 3 codes, 0 weak`);
    expect(text).toMatch(/API \(not through duo-desk\): [\d,]+ codes/);
    expect(text).toContain('*codes.many.1*: 100 codes, 100 weak');
    expect(text).toContain('*codes.owner*: 2 codes, 2 weak');
    expect(text).toContain('*codes.manager*: 3 codes, 0 weak');
  });

  it('when the report is shown, then no bypass code appears in it (Duo does not list them, and duo-desk never shows them)', async () => {
    const { text } = await report(PEOPLE.userManager);
    const plaintexts = [
      ...h.duo.issuedBypassCodes().map((c) => c.code),
      ...MANY.flatMap((u) => h.duo.bypassCodesOf(h.duo.getUser(u)!.user_id).map((c) => c.code)),
    ];
    expect(plaintexts.length).toBeGreaterThan(600);
    for (const code of plaintexts) expect(text).not.toContain(code);
  });

  it('when a read-only responder asks for the report, then it is refused by role and audited, and Duo is not asked', async () => {
    const before = h.duo.requests().filter((r) => r.path === '/admin/v1/bypass_codes').length;
    const { r } = await report(PEOPLE.readOnly, false);
    expect(JSON.stringify(r.body)).toContain("cannot list users' bypass codes");
    expect(h.duo.requests().filter((x) => x.path === '/admin/v1/bypass_codes').length).toBe(before);
    const denied = await auditRows(h, "action = 'permission.denied' and actor_user_id = ?", [PEOPLE.readOnly]);
    expect(denied.at(-1)!.params).toMatchObject({ attempted: 'bypass_codes.report' });
  });

  it('when a user manager asks to delete the weak codes, then nothing is deleted until a second person approves; then at most 500 weak codes go, each read again and audited, and the codes with an expiry stay', async () => {
    nextStep(clock);
    const weakBefore = (await h.runtime.deps.duo.listBypassCodes()).filter((c) => c.expiration == null);
    expect(weakBefore.length).toBeGreaterThan(500);
    const { msg } = await report(PEOPLE.userManager);
    const views = h.slack.views(PEOPLE.userManager).length;
    await h.driver.clickButton(msg!, /^Delete the [\d,]+ weak codes…$/, PEOPLE.userManager);
    const form = await waitForView(h, PEOPLE.userManager, VIEWS.weakCodes, views);
    const r = await h.driver.submitView(form, PEOPLE.userManager, {
      Reason: 'Audit finding AF-12: no codes without expiry',
      'Code from your authenticator app': await totpAt(h, secrets[PEOPLE.userManager]!),
    });
    expect(JSON.stringify(r.body)).toContain('Deleting 500 weak codes is waiting');
    const [req] = await h.runtime.db.em
      .fork()
      .getConnection()
      .execute<Array<{ id: string; card_ts: string; state: string }>>(
        `select id, card_ts, state from approval_request where kind = 'weak_codes_delete'`,
      );
    expect(req!.state).toBe('requested');
    expect(h.duo.requests().filter((x) => x.method === 'DELETE')).toEqual([]);

    nextStep(clock);
    await approveWith(h, req!.card_ts, PEOPLE.owner, await totpAt(h, secrets[PEOPLE.owner]!));
    const done = await eventually(async () => {
      const [row] = await h.runtime.db.em
        .fork()
        .getConnection()
        .execute<Array<{ state: string; result: Record<string, number> }>>(
          'select state, result from approval_request where id = ?',
          [req!.id],
        );
      return row && ['done', 'failed'].includes(row.state) ? row : undefined;
    }, 'the deletion done');
    expect(done).toMatchObject({ state: 'done', result: { deleted: 500, gone: 0, notWeak: 0, failed: 0 } });
    const after = await h.runtime.deps.duo.listBypassCodes();
    expect(after.filter((c) => c.expiration == null)).toHaveLength(weakBefore.length - 500);
    expect(after.filter((c) => c.user?.username === 'codes.manager')).toHaveLength(3);
    const deletions = await auditRows(h, "action = 'bypass_code.deleted' and phase = 'outcome' and request_ref = ?", [
      req!.id,
    ]);
    expect(deletions).toHaveLength(500);
    expect(deletions.every((d) => d.outcome === 'success' && d.actor_user_id === PEOPLE.owner)).toBe(true);
    // Each code was read again before its deletion.
    const reads = h.duo.requests().filter((x) => x.method === 'GET' && /^\/admin\/v1\/bypass_codes\/./.test(x.path));
    expect(reads.length).toBeGreaterThanOrEqual(500);
  }, 120_000);

  it('when a read-only responder clicks Delete weak codes, then it is refused and no form opens; a forged button value is refused as tampered', async () => {
    const { msg } = await report(PEOPLE.helpDesk);
    const views = h.slack.views(PEOPLE.readOnly).length;
    const deniedBefore = (await auditRows(h, "action = 'permission.denied' and actor_user_id = ?", [PEOPLE.readOnly]))
      .length;
    await clickAction(h, { message: { channel: msg!.channel, ts: msg!.ts } }, ACTIONS.codesDeleteWeak, PEOPLE.readOnly);
    await eventually(
      async () =>
        (await auditRows(h, "action = 'permission.denied' and actor_user_id = ?", [PEOPLE.readOnly])).length >
        deniedBefore,
      'the refusal',
    );
    expect(h.slack.views(PEOPLE.readOnly).length).toBe(views);
    await clickAction(
      h,
      { message: { channel: msg!.channel, ts: msg!.ts } },
      ACTIONS.codesDeleteWeak,
      PEOPLE.helpDesk,
      {
        value: 'all',
      },
    );
    await eventually(
      async () =>
        (await auditRows(h, "action = 'request.tampered' and actor_user_id = ?", [PEOPLE.helpDesk])).length > 0,
      'the tampering row',
    );
    expect(viewText(h.slack.lastView(PEOPLE.helpDesk))).not.toContain('Delete weak codes');
  });
});
