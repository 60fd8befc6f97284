import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.js';
import { changeSetting } from '../../src/usecases/settings.js';
import { auditRows, auditEventIdOf as eventIdOf } from '../support/audit.js';
import { runCli } from '../support/cli.js';
import { CHANNELS, type Harness, PEOPLE, startHarness, TEAM } from '../support/harness.js';

/**
 * The mirror cannot be skipped: whatever process writes an event (the command line included), the
 * running instance's relay posts it; alerts go ahead of any backlog; an event that reached the
 * database without being mirrored, or a hole in the seqs, is posted or reported as an alert.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  live = h.runtime;
});
afterAll(async () => {
  await h?.close();
});

const auditMessages = () => h.slack.messages(CHANNELS.audit).filter((m) => eventIdOf(m) !== undefined);
const posted = (eventId: number) =>
  h.slack.waitFor(() => auditMessages().find((m) => eventIdOf(m) === eventId), {
    timeoutMs: 30_000,
    description: `event ${eventId} in the audit channel`,
  });
const sql = <T = Record<string, unknown>>(q: string, params: unknown[] = []) =>
  h.runtime.db.em.fork().getConnection().execute<T[]>(q, params);
const lookup = (n: number) => ({
  teamId: TEAM,
  actor: { userId: PEOPLE.helpDesk, role: 'help_desk' },
  action: 'user.lookup' as const,
  outcome: 'success' as const,
  target: { username: `backlog${n}` },
});

/** The instance whose job runner is live. */
let live: Runtime;

/** Stops the live relay, writes what `write` writes, then brings up a fresh instance to relay it. */
async function withRelayDown<T>(write: () => Promise<T>): Promise<T> {
  await live.jobs.stop();
  const r = await write();
  live = (await h.addInstance()).runtime;
  return r;
}

describe('audit mirror', { timeout: 120_000 }, () => {
  it('when the app role can rewrite the audit trail (it owns the table), then start-up says so in the log', () => {
    const warning = h.logger.lines.find((l) => /owns the audit_event table|is a superuser/.test(l));
    expect(warning).toContain('MIGRATION_DATABASE_URL');
  });

  it('when the command line writes an event, then the running instance relays it to the audit channel', async () => {
    const r = await runCli(h.runtime.db.url, ['roles', 'grant', 'U0CLIUSER', 'read_only', '--team', TEAM]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const [row] = await auditRows(h, "action = 'responder.granted' and actor_user_id = 'cli'");
    const message = await posted(Number(row!.id));
    expect(message.text).toContain('the command line granted a role to');
    expect(message.text).toMatch(new RegExp(`\\(#${row!.seq}, .* UTC, link ${String(row!.hash).slice(0, 16)}\\)$`));
  });

  it('when 300 events are waiting and a push is reported as fraud, then the alert is posted before the rest of the backlog', async () => {
    const postsBefore = auditMessages().length;
    const { alert, backlog } = await withRelayDown(async () => {
      const em = h.runtime.db.em.fork();
      const backlog: number[] = [];
      for (let i = 0; i < 300; i++) backlog.push((await h.runtime.deps.audit.record(em, lookup(i))).id);
      const alert = await h.runtime.deps.audit.record(em, {
        teamId: TEAM,
        actor: { userId: PEOPLE.helpDesk, role: 'help_desk' },
        action: 'verification.answered',
        outcome: 'denied',
        target: { username: 'alice' },
        params: { result: 'fraud', alert: true },
      });
      return { alert: alert.id, backlog };
    });
    const message = await posted(alert);
    expect(message.text).toMatch(/^:rotating_light: \*ALERT\* /);
    // At about one post a second, "first" is what keeps it within seconds of being written.
    const after = auditMessages().slice(postsBefore).map(eventIdOf);
    expect(after[0]).toBe(alert);
    await posted(backlog.at(-1)!);
    expect(auditMessages().slice(postsBefore).map(eventIdOf)).toEqual([alert, ...backlog]);
  });

  it('when an owner weakens a setting while a backlog waits, then that change is posted first, as an alert', async () => {
    const postsBefore = auditMessages().length;
    const change = await withRelayDown(async () => {
      const em = h.runtime.db.em.fork();
      for (let i = 0; i < 20; i++) await h.runtime.deps.audit.record(em, lookup(500 + i));
      await changeSetting(
        h.runtime.deps,
        em,
        { userId: PEOPLE.owner, role: 'owner' },
        TEAM,
        'step_up_for_unlock',
        'on',
        'c1',
      );
      await changeSetting(
        h.runtime.deps,
        em,
        { userId: PEOPLE.owner, role: 'owner' },
        TEAM,
        'step_up_for_unlock',
        'off',
        'c2',
      );
      const rows = await auditRows(h, "action = 'setting.changed' and correlation_id in ('c1', 'c2')");
      return { tightened: Number(rows[0]!.id), weakened: Number(rows[1]!.id) };
    });
    const message = await posted(change.weakened);
    expect(message.text).toMatch(/^:rotating_light: \*ALERT\* /);
    expect(auditMessages().slice(postsBefore).map(eventIdOf)[0]).toBe(change.weakened);
    expect((await posted(change.tightened)).text).not.toContain('ALERT');
  });

  it('when an event reached the database without its outbox row, then the relay posts it anyway and alerts the gap', async () => {
    const ids = await withRelayDown(async () => {
      const em = h.runtime.db.em.fork();
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push((await h.runtime.deps.audit.record(em, lookup(1000 + i))).id);
      // A writer that does not mirror (an old version, or someone inserting rows by hand).
      await sql('delete from audit_outbox where event_id = ?', [ids[1]]);
      return ids;
    });
    await posted(ids[2]!);
    const [gap] = await auditRows(h, "action = 'audit.gap_detected'");
    expect(gap!.params).toMatchObject({ beforeSeq: expect.any(Number), unmirrored: 1 });
    const gapPost = await posted(Number(gap!.id));
    expect(gapPost.text).toMatch(/^:rotating_light: \*ALERT\* :x: duo-desk found a gap in the audit trail/);
    expect(auditMessages().map(eventIdOf)).toEqual(expect.arrayContaining(ids));
  });

  it('when a superuser deletes an event before it was posted, then the relay reports the missing seq once, as an alert, and posts the rest', async () => {
    const before = (await auditRows(h, "action = 'audit.gap_detected'")).length;
    const written = await withRelayDown(async () => {
      const em = h.runtime.db.em.fork();
      const rows = [];
      for (let i = 0; i < 3; i++) rows.push(await h.runtime.deps.audit.record(em, lookup(2000 + i)));
      await sql(
        `alter table audit_event disable trigger audit_event_no_update_delete;
         delete from audit_event where id = ${rows[1]!.id};
         delete from audit_outbox where event_id = ${rows[1]!.id};
         alter table audit_event enable trigger audit_event_no_update_delete;`,
      );
      return rows;
    });
    await posted(written[2]!.id);
    const gaps = (await auditRows(h, "action = 'audit.gap_detected'")).slice(before);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]!.params).toMatchObject({
      beforeSeq: written[2]!.seq,
      missingFrom: written[1]!.seq,
      missingTo: written[1]!.seq,
    });
    await posted(Number(gaps[0]!.id));
  });
});
