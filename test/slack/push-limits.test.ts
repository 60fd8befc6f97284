import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { auditRows } from '../support/audit.js';
import { eventually, setSetting } from '../support/bypass-kit.js';
import { type Harness, PEOPLE, startHarness } from '../support/harness.js';

/** The embedded test database (no TEST_DATABASE_URL) serves one session at a time. */
const ONE_SESSION = !process.env.TEST_DATABASE_URL;
if (ONE_SESSION)
  console.warn(
    'the two-instance push-limit test skipped on the embedded database: two instances at once need a PostgreSQL server (set TEST_DATABASE_URL; .ci/run does); the embedded database serves one session at a time, as it serves one instance',
  );

/**
 * Push bombing: a caller (or a responder's hijacked session) asks for push after push until the real user
 * taps Approve to make them stop. Verification pushes are limited per Duo user and per responder.
 */
const clock = new ManualClock();
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ clock });
});
afterAll(async () => {
  await h?.close();
});

const pushesTo = (username: string) => {
  const id = h.duo.getUser(username)!.user_id;
  return h.duo.requests().filter((r) => r.path === `/admin/v1/users/${id}/send_verification_push`).length;
};
const limitDenials = () => auditRows(h, "action = 'permission.denied' and params->>'attempted' = 'verification.sent'");
const lastModal = (userId: string) => JSON.stringify(h.slack.lastView(userId)?.definition ?? {});

/** `/duo verify <username>` as `userId`; resolves with the modal's final text. */
async function verify(userId: string, username: string, driver = h.driver): Promise<string> {
  // Modals only: the person's App Home is a view too, republished whenever something changes for them.
  const modals = () => h.slack.views(userId).filter((v) => v.definition.type === 'modal').length;
  const before = modals();
  await driver.command(userId, `verify ${username}`);
  return h.slack.waitFor(() => {
    const text = lastModal(userId);
    return modals() > before && !text.includes('hourglass') && text;
  });
}

describe('verification push limits', () => {
  it('when pushes to one Duo user keep coming, then the sixth in 10 minutes is refused with the limit explained, audited, and Duo is not called', async () => {
    const responders = [PEOPLE.helpDesk, PEOPLE.owner, PEOPLE.userManager];
    for (let i = 0; i < 5; i++) expect(await verify(responders[i % 3]!, 'alice')).toContain('Push sent');
    expect(pushesTo('alice')).toBe(5);

    const refused = await verify(PEOPLE.owner, 'alice');
    expect(refused).toContain('already got 5 verification pushes in the last 10 minutes');
    expect(refused).toContain('max_verification_pushes_per_user');
    expect(pushesTo('alice')).toBe(5);
    const [denial] = (await limitDenials()).slice(-1);
    expect(denial).toMatchObject({ actor_user_id: PEOPLE.owner, target_username: 'alice', outcome: 'denied' });
    expect(denial!.params).toMatchObject({ scope: 'user', limit: 5, windowMinutes: 10 });

    clock.advance(10 * 60_000);
    expect(await verify(PEOPLE.owner, 'alice')).toContain('Push sent');
    expect(pushesTo('alice')).toBe(6);
  });

  it('when one responder sends pushes to many users, then the per-responder limit stops them', async () => {
    clock.advance(10 * 60_000);
    await setSetting(h, 'max_verification_pushes_per_responder', 2);
    try {
      expect(await verify(PEOPLE.helpDesk, 'dave')).toContain('Push sent');
      expect(await verify(PEOPLE.helpDesk, 'niaj')).toContain('Push sent');
      const refused = await verify(PEOPLE.helpDesk, 'peggy');
      expect(refused).toContain('You already sent 2 verification pushes in the last 10 minutes');
      expect(pushesTo('peggy')).toBe(0);
    } finally {
      await setSetting(h, 'max_verification_pushes_per_responder', 20);
    }
  });

  it.skipIf(ONE_SESSION)(
    'when 12 pushes to one user are asked for at the same moment on two instances, then at most 5 go out',
    async () => {
      clock.advance(10 * 60_000);
      const second = await h.addInstance();
      const before = pushesTo('victor');
      const denialsBefore = (await limitDenials()).length;
      const people = [PEOPLE.helpDesk, PEOPLE.owner, PEOPLE.userManager];
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 ? second.driver : h.driver).command(people[i % 3]!, 'verify victor'),
        ),
      );
      await eventually(async () => (await limitDenials()).length - denialsBefore === 7, 'seven refusals');
      expect(pushesTo('victor') - before).toBe(5);
    },
  );
});
