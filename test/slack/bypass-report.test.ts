import { makePhone } from '@duo-desk/duo-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackApprovalNotices } from '../../src/slack/approval-notices.js';
import { requireActor } from '../../src/usecases/access.js';
import { bypassCodesKind } from '../../src/usecases/approval-bypass-codes.js';
import { submitRequest } from '../../src/usecases/approval-engine.js';
import { auditRows } from '../support/audit.js';
import { callerOf } from '../support/bypass-kit.js';
import { CHANNELS, type Harness, PEOPLE, startHarness } from '../support/harness.js';

/**
 * `/duo users codes`: the organisation's valid bypass codes from GET /admin/v1/bypass_codes (paged), the weak ones
 * (no expiry), by user and by creator (the responder who asked, from duo-desk's own records; "API" otherwise), and
 * never a code.
 */
let h: Harness;
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
  h = await startHarness({ startJobs: false });
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
});
