import { type DuoSimulator, startDuoSimulator } from '@duo-desk/duo-sim';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { DuoError } from '../../src/duo/errors.js';
import type { User } from '../../src/duo/types.js';
import { clientFor, rejectionOf } from './helpers.js';

let sim: DuoSimulator;
const clock = new ManualClock(Date.UTC(2026, 10, 28, 12, 0, 0));

beforeAll(async () => {
  sim = await startDuoSimulator({ clock });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.reset();
});

for (const sigVersion of [5, 2] as const) {
  describe(`DuoAdminClient (signature v${sigVersion}) against the simulator`, () => {
    const c = () => clientFor(sim, { sigVersion }).client;
    const alice = async (): Promise<User> => (await c().getUsersByUsername('alice'))[0]!;

    it('when looking up by username or alias, then the user comes back with phones, groups and aliases', async () => {
      const [byName] = await c().getUsersByUsername('alice');
      const [byAlias] = await c().getUsersByUsername('aanders');
      expect(byName?.user_id).toMatch(/^DU[A-Z0-9]{18}$/);
      expect(byAlias?.user_id).toBe(byName?.user_id);
      expect(byName?.email).toBe('alice.anders@example.com');
      expect(byName?.aliases).toEqual({ alias1: 'aanders' });
      expect(byName?.groups.map((g) => g.name)).toEqual(['Staff']);
      expect(byName?.phones[0]?.capabilities).toContain('push');
      expect(await c().getUsersByUsername('nobody')).toEqual([]);
    });

    it('when looking up by email, then the matching users come back', async () => {
      const users = await c().getUsersByEmail('bob.brown@example.com');
      expect(users.map((u) => u.username)).toEqual(['bob']);
      expect(users[0]?.status).toBe('locked out');
      expect(users[0]?.lockout_reason).toBe('Failed Attempts');
    });

    it('when getting a user by id, then it is returned; an unknown id is DUO_NOT_FOUND', async () => {
      const a = await alice();
      expect((await c().getUserById(a.user_id)).username).toBe('alice');
      const e = await rejectionOf(c().getUserById('DUNOSUCHUSER000000000'));
      expect(e).toBeInstanceOf(DuoError);
      expect((e as DuoError).code).toBe('DUO_NOT_FOUND');
      expect((e as DuoError).duoCode).toBe(40401);
    });

    it('when an id contains reserved characters, then it is URL-encoded in the path', async () => {
      const e = (await rejectionOf(c().getUserById('DU/../x?y=1'))) as DuoError;
      expect(e.code).toBe('DUO_NOT_FOUND');
      expect(sim.requests().at(-1)?.path).toBe('/admin/v1/users/DU%2F..%2Fx%3Fy%3D1');
    });

    it('when iterating users, then every page arrives via next_offset', async () => {
      const pages: User[][] = [];
      for await (const page of c().iterateUsers({ pageSize: 5 })) pages.push(page);
      expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 2]);
      expect(new Set(pages.flat().map((u) => u.username)).size).toBe(17);
    });

    it('when listing phones, then the user phones are returned', async () => {
      const bob = (await c().getUsersByUsername('bob'))[0]!;
      const phones = await c().getUserPhones(bob.user_id);
      expect(phones.map((p) => p.platform).sort()).toEqual(['Apple iOS', 'Google Android']);
    });

    it('when updating a user, then the change is applied and echoed; a forbidden status is rejected', async () => {
      const bob = (await c().getUsersByUsername('bob'))[0]!;
      const updated = await c().updateUser(bob.user_id, {
        status: 'active',
        notes: 'Unlocked by help desk (ticket #42)',
      });
      expect(updated.status).toBe('active');
      expect(updated.notes).toBe('Unlocked by help desk (ticket #42)');
      expect(sim.getUser('bob')?.status).toBe('active');
      const e = (await rejectionOf(
        c().updateUser(bob.user_id, { status: 'locked out' as unknown as 'active' }),
      )) as DuoError;
      expect(e.code).toBe('DUO_REQUEST_REJECTED');
      expect(e.duoCode).toBe(40002);
      expect(e.message).toContain('status');
    });

    it('when sending a verification push, then a push id and 6-digit code come back, and the answer is read', async () => {
      const a = await alice();
      const sent = await c().sendVerificationPush(a.user_id, a.phones[0]!.phone_id);
      expect(sent.confirmationCode).toMatch(/^\d{6}$/);
      expect(await c().getVerificationPushResponse(a.user_id, sent.pushId)).toEqual({
        pushId: sent.pushId,
        result: 'waiting',
      });
      sim.answerPush(sent.pushId, 'approve');
      expect((await c().getVerificationPushResponse(a.user_id, sent.pushId)).result).toBe('approve');
    });

    it('when pushing to a phone without push, then Duo rejects it with 40002', async () => {
      const heidi = (await c().getUsersByUsername('heidi'))[0]!;
      const e = (await rejectionOf(c().sendVerificationPush(heidi.user_id, heidi.phones[0]!.phone_id))) as DuoError;
      expect(e.code).toBe('DUO_REQUEST_REJECTED');
      expect(e.duoCode).toBe(40002);
    });

    it('when creating bypass codes, then 9-digit codes come back, existing ones are kept and metadata lists them', async () => {
      const peggy = (await c().getUsersByUsername('peggy'))[0]!;
      const codes = await c().createBypassCodes(peggy.user_id, { count: 2, reuseCount: 1, validSecs: 3600 });
      expect(codes).toHaveLength(2);
      for (const code of codes) expect(code).toMatch(/^\d{9}$/);
      const meta = await c().getUserBypassCodes(peggy.user_id);
      expect(meta).toHaveLength(5);
      const fresh = meta.filter((m) => m.expiration !== null);
      expect(fresh).toHaveLength(2);
      expect(fresh[0]?.admin_email).toBeNull();
      expect(fresh[0]?.reuse_count).toBe(1);
      expect(fresh[0]?.user?.username).toBe('peggy');
      const post = sim.requests().find((r) => r.method === 'POST');
      expect(post?.params.preserve_existing).toBe('true');
    });

    it('when bypass code options are out of range, then nothing is sent', async () => {
      const before = sim.requests().length;
      for (const count of [0, 11, 1.5]) {
        const e = (await rejectionOf(c().createBypassCodes('DUX', { count, reuseCount: 1, validSecs: 60 }))) as {
          code: string;
        };
        expect(e.code).toBe('INVALID_INPUT');
      }
      await expect(c().createBypassCodes('DUX', { count: 1, reuseCount: -1, validSecs: 60 })).rejects.toThrow();
      expect(sim.requests().length).toBe(before);
    });

    it('when bypass codes expire, then they disappear from the metadata', async () => {
      const a = await alice();
      await c().createBypassCodes(a.user_id, { count: 1, reuseCount: 1, validSecs: 60 });
      expect(await c().getUserBypassCodes(a.user_id)).toHaveLength(1);
      clock.advance(61_000);
      expect(await c().getUserBypassCodes(a.user_id)).toHaveLength(0);
    });

    it('when deleting a bypass code, then it is gone', async () => {
      const peggy = (await c().getUsersByUsername('peggy'))[0]!;
      const [first] = await c().getUserBypassCodes(peggy.user_id);
      await c().deleteBypassCode(first!.bypass_code_id);
      const after = await c().getUserBypassCodes(peggy.user_id);
      expect(after).toHaveLength(2);
      expect(after.some((m) => m.bypass_code_id === first!.bypass_code_id)).toBe(false);
    });

    it('when enrolling a user, then the enrollment email lands in the outbox', async () => {
      await c().enrollUser({ username: 'frank', email: 'frank.fischer@example.com', validSecs: 86_400 });
      expect(sim.enrollmentOutbox()).toEqual([
        { username: 'frank', email: 'frank.fischer@example.com', sentAt: clock.now(), validSecs: 86_400 },
      ]);
    });

    it('when listing admins and the info summary, then both answer', async () => {
      const admins = await c().getAdmins();
      expect(admins.map((a) => a.role)).toEqual(['Owner', 'Help Desk']);
      const summary = await c().getInfoSummary();
      expect(summary.user_count).toBe(17);
    });
  });
}
