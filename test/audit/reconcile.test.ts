import type { StoredMessage } from '@duo-desk/slack-testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_METADATA_EVENT } from '../../src/audit/relay.js';
import { ManualClock } from '../../src/clock.js';
import { auditRows } from '../support/audit.js';
import { CHANNELS, type Harness, PEOPLE, startHarness, TEAM } from '../support/harness.js';

/**
 * An intent written before a Duo call whose outcome never came (the bot died in between) is closed
 * as "unknown" once it is older than any request could take, and the audit channel shows it.
 */
const clock = new ManualClock();
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ clock });
});
afterAll(async () => {
  await h?.close();
});

async function until<T>(fn: () => Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const eventIdOf = (m: StoredMessage) =>
  Number(
    (m.metadata as { event_type?: string; event_payload?: { event_id?: unknown } } | undefined)?.event_payload
      ?.event_id,
  );

describe('intents without an outcome', () => {
  it('when the bot stopped between the intent and the Duo answer, then after restart the intent is closed as unknown and shown in the audit channel', async () => {
    const em = h.runtime.db.em.fork();
    const audit = h.runtime.deps.audit;
    const actor = { userId: PEOPLE.helpDesk, role: 'help_desk' };
    const orphan = await audit.intent(em, {
      teamId: TEAM,
      actor,
      action: 'user.status_changed',
      target: { duoUserId: 'DU000000000000000042', username: 'bob' },
      ticket: 'INC-77',
      correlationId: 'corr-orphan',
      params: { from: 'locked out', to: 'active' },
    });
    const finished = await audit.intent(em, {
      teamId: TEAM,
      actor,
      action: 'enrollment.sent',
      target: { username: 'carol' },
    });
    await audit.complete(em, finished, { outcome: 'success' });

    // The bot dies; it comes back three minutes later.
    await h.runtime.jobs.stop();
    clock.advance(3 * 60_000);
    const young = await audit.intent(em, {
      teamId: TEAM,
      actor,
      action: 'user.status_changed',
      target: { username: 'dave' },
    });
    await h.addInstance();

    const [unknown] = await until(async () => {
      const rows = await auditRows(h, 'intent_id = ?', [orphan.id]);
      return rows.length ? rows : undefined;
    }, 'the orphan intent to be closed');
    expect(unknown).toMatchObject({
      phase: 'outcome',
      outcome: 'unknown',
      action: 'user.status_changed',
      actor_user_id: PEOPLE.helpDesk,
      actor_role: 'help_desk',
      target_username: 'bob',
      ticket: 'INC-77',
      correlation_id: 'corr-orphan',
    });
    expect(unknown!.params).toMatchObject({ from: 'locked out', to: 'active' });
    expect(await auditRows(h, "intent_id = ? and outcome = 'unknown'", [finished.id])).toEqual([]);
    expect(await auditRows(h, 'intent_id = ?', [young.id])).toEqual([]);

    const message = await h.slack.waitFor(() =>
      h.slack
        .messages(CHANNELS.audit)
        .find(
          (m) =>
            (m.metadata as { event_type?: string } | undefined)?.event_type === AUDIT_METADATA_EVENT &&
            eventIdOf(m) === Number(unknown!.id),
        ),
    );
    expect(message.text).toContain(':grey_question:');
    expect(message.text).toContain('*bob*: *unknown*');
    expect(JSON.stringify(message.blocks)).toContain('check the user in Duo');
  });
});
