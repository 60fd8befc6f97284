import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows, until } from '../support/audit.js';
import { type Harness, PEOPLE, startHarness } from '../support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.driver.command(PEOPLE.helpDesk, 'lookup bob');
  await h.driver.command(PEOPLE.helpDesk, 'lookup alice');
  await h.slack.waitFor(() => h.slack.callsTo('response_url').length >= 2);
});
afterAll(async () => {
  await h?.close();
});

/** The next response_url post after `before` calls, as text. */
const replyAfter = async (before: number, match?: string) => {
  const call = await h.slack.waitFor(() =>
    h.slack.calls
      .slice(before)
      .find((c) => c.method === 'response_url' && (!match || JSON.stringify(c.args).includes(match))),
  );
  return call.args as { text?: string; blocks?: Array<{ type: string; text?: { text: string } }> };
};

describe('/duo audit', () => {
  it('when an owner asks for the audit history, then the recent events are listed newest first and the view is audited', async () => {
    const before = h.slack.calls.length;
    await h.driver.command(PEOPLE.owner, 'audit');
    const reply = await replyAfter(before);
    const sections = (reply.blocks ?? []).filter((b) => b.type === 'section').map((b) => b.text?.text ?? '');
    expect(sections[0]).toContain('most recent audit events');
    const events = sections.slice(1);
    expect(events.length).toBeGreaterThanOrEqual(4);
    expect(events.join('\n')).toContain('looked up *alice*');
    const seqs = events.map((t) => Number(/#(\d+)/.exec(t)?.[1]));
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    const viewed = await auditRows(h, "action = 'audit.viewed' and actor_user_id = ?", [PEOPLE.owner]);
    expect(viewed).toHaveLength(1);
    expect(viewed[0]!.outcome).toBe('success');
  });

  it('when the history is asked for one user, then only events about that user are listed', async () => {
    const before = h.slack.calls.length;
    await h.driver.command(PEOPLE.readOnly, 'audit bob');
    const reply = await replyAfter(before);
    const text = JSON.stringify(reply.blocks);
    expect(text).toContain('looked up *bob*');
    expect(text).not.toContain('*alice*');
    // read-only may read but not export: no export button
    expect(text).not.toContain('Export as CSV');
    const viewed = await auditRows(h, "action = 'audit.viewed' and actor_user_id = ?", [PEOPLE.readOnly]);
    expect(viewed.at(-1)!.target_username).toBe('bob');
  });

  it('when there are more than 25 events, then at most 25 are shown within Slack limits', async () => {
    for (let i = 0; i < 20; i++) await h.driver.command(PEOPLE.helpDesk, 'help');
    const before = h.slack.calls.length;
    await h.driver.command(PEOPLE.owner, 'audit');
    const reply = await replyAfter(before);
    const sections = (reply.blocks ?? []).filter((b) => b.type === 'section');
    expect(sections).toHaveLength(26);
    expect(reply.blocks!.length).toBeLessThanOrEqual(50);
  });

  it('when a help-desk agent asks for the audit history, then it is denied and the denial is audited', async () => {
    const r = await h.driver.command(PEOPLE.helpDesk, 'audit');
    expect(JSON.stringify(r.body)).toContain('cannot read the audit history');
    const denied = await auditRows(h, "action = 'permission.denied' and actor_user_id = ?", [PEOPLE.helpDesk]);
    expect(denied.at(-1)!.params).toMatchObject({ attempted: 'audit.read' });
  });

  it('when an owner exports as CSV, then the file is uploaded to their DMs and the export is audited with its row count', async () => {
    const r = await h.driver.command(PEOPLE.owner, 'audit export csv');
    expect(JSON.stringify(r.body)).toContain('Preparing the audit export');
    const file = await h.slack.waitFor(() => h.slack.files().find((f) => f.filename.endsWith('.csv') && f.completed));
    expect(file.channelId).toBe(h.slack.dmChannelFor(PEOPLE.owner));
    const lines = file.text.trim().split('\n');
    expect(lines[0]).toMatch(/^seq,occurred_at,team_id,/);
    // recorded before the upload, so it is there once the file is
    const exported = await auditRows(h, "action = 'audit.exported'");
    expect(exported[0]!.params).toMatchObject({ format: 'csv', rows: lines.length - 1 });
    const sent = await h.slack.waitFor(() =>
      h.slack.callsTo('response_url').find((c) => JSON.stringify(c.args).includes('to your DMs')),
    );
    expect(JSON.stringify(sent.args)).toContain(`(${lines.length - 1} events)`);
  });

  it('when an owner exports as JSON with a time range, then only events in the range are in the file', async () => {
    const all = await auditRows(h);
    const since = new Date(all[2]!.occurred_at as string | Date).toISOString();
    const r = await h.driver.command(PEOPLE.owner, `audit export json ${since} 2099-01-01`);
    expect(JSON.stringify(r.body)).toContain('JSON');
    const file = await h.slack.waitFor(() => h.slack.files().find((f) => f.filename.endsWith('.json') && f.completed));
    const events = JSON.parse(file.text) as Array<{ seq: number; occurred_at: string }>;
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.occurred_at >= since)).toBe(true);
    expect(events.map((e) => e.seq)).not.toContain(1);
  });

  it('when the owner clicks Export as CSV under the history, then the CSV arrives in their DMs', async () => {
    const before = h.slack.calls.length;
    const filesBefore = h.slack.files().length;
    await h.driver.command(PEOPLE.owner, 'audit');
    await replyAfter(before, 'Export as CSV');
    const message = await h.slack.waitFor(() =>
      h.slack
        .messages()
        .findLast((m) => m.ephemeralUser === PEOPLE.owner && JSON.stringify(m.blocks).includes('Export as CSV')),
    );
    await h.driver.clickButton(message, 'Export as CSV', PEOPLE.owner);
    const file = await h.slack.waitFor(() =>
      h.slack
        .files()
        .slice(filesBefore)
        .find((f) => f.completed),
    );
    expect(file.filename).toMatch(/^duo-desk-audit-.+\.csv$/);
    expect(file.text).toContain('audit.viewed');
  });

  it('when a read-only responder tries to export, then it is refused, nothing is uploaded, and the denial is audited', async () => {
    const filesBefore = h.slack.files().length;
    const r = await h.driver.command(PEOPLE.readOnly, 'audit export csv');
    expect(JSON.stringify(r.body)).toContain('cannot export the audit history');
    expect(h.slack.files()).toHaveLength(filesBefore);
    const denied = await auditRows(h, "action = 'permission.denied' and actor_user_id = ?", [PEOPLE.readOnly]);
    expect(denied.at(-1)!.params).toMatchObject({ attempted: 'audit.export' });
  });

  it('when the export arguments are wrong, then the responder is told how to write them', async () => {
    for (const text of ['audit export xml', 'audit export csv yesterday', 'audit export csv 2026-12-01 2026-11-01']) {
      const r = await h.driver.command(PEOPLE.owner, text);
      expect(JSON.stringify(r.body)).toContain('audit export csv|json');
    }
  });
});

describe('one audit row per command', () => {
  const rowsSince = async (seq: number) =>
    (await auditRows(h, 'actor_user_id = ? and seq > ?', [PEOPLE.helpDesk, seq])).map((r) => ({
      action: r.action,
      outcome: r.outcome,
      params: r.params,
    }));
  const lastSeq = async () => Math.max(0, ...(await auditRows(h, 'true')).map((r) => Number(r.seq)));
  const run = async (text: string) => {
    const seq = await lastSeq();
    const answers = h.slack.callsTo('response_url').length;
    const r = await h.driver.command(PEOPLE.helpDesk, text);
    // A lookup answers later, at the response URL; the others in the ack.
    if (text.startsWith('lookup'))
      await h.slack.waitFor(() => h.slack.callsTo('response_url').length > answers, { description: text });
    expect(r.status).toBe(200);
    // The row follows the answer (a command's own event, or command.used once the flow has run).
    await until(async () => (await rowsSince(seq)).length > 0, `the audit row of ${text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    return rowsSince(seq);
  };

  it('when a lookup succeeds, then its own event is the one row (no separate command.used)', async () => {
    expect(await run('lookup carol')).toEqual([expect.objectContaining({ action: 'user.lookup', outcome: 'success' })]);
  });

  it('when a command writes no event of its own (help), then command.used is its one row', async () => {
    expect(await run('help')).toEqual([
      { action: 'command.used', outcome: 'success', params: expect.objectContaining({ subcommand: 'help' }) },
    ]);
  });

  it('when a lookup fails before its event, or the subcommand is unknown, then command.used records the failure once', async () => {
    expect(await run('lookup nobody-by-this-name')).toEqual([
      {
        action: 'command.used',
        outcome: 'failed',
        params: expect.objectContaining({ subcommand: 'lookup', problem: 'lookup.no_match' }),
      },
    ]);
    expect(await run('frobnicate')).toEqual([
      { action: 'command.used', outcome: 'failed', params: expect.objectContaining({ subcommand: 'unknown' }) },
    ]);
  });
});
