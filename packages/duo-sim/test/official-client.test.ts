/**
 * The official Node client against our simulator: proves the simulator speaks Duo's wire protocol as
 * Duo's own code produces it (v2 with form/query params, v5 with a JSON body). See
 * support/official-duo.ts for how it reaches a loopback http server.
 */
import https from 'node:https';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type DuoSimulator, startDuoSimulator, userIdFor } from '../src/index.js';
import { officialCall as call, officialDuo as duo, routeOfficialClientOverHttp } from './support/official-duo.js';

let sim: DuoSimulator;

beforeAll(async () => {
  sim = await startDuoSimulator();
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.reset();
  routeOfficialClientOverHttp();
});
afterEach(() => {
  vi.restoreAllMocks();
});

for (const [label, version] of [
  ['SIGNATURE_VERSION_2', 2],
  ['SIGNATURE_VERSION_5', 5],
] as const) {
  describe(`official @duosecurity/duo_api Client with ${label}`, () => {
    const client = () => new duo.Client(sim.ikey, sim.skey, new URL(sim.url).host, version);

    it('when it looks up a user by alias (GET), then the simulator answers with the user', async () => {
      const res = await call(client(), 'GET', '/admin/v1/users', { username: 'aanders' });
      expect(res.stat).toBe('OK');
      expect((res.response as Array<{ username: string }>).map((u) => u.username)).toEqual(['alice']);
      expect(https.request).toHaveBeenCalled();
    });

    it('when it updates a user (POST), then the change is applied', async () => {
      const res = await call(client(), 'POST', `/admin/v1/users/${userIdFor('bob')}`, {
        status: 'active',
        notes: "Unlocked: caller verified (O'Brien's ticket #7)",
      });
      expect(res.stat).toBe('OK');
      expect(res.response).toMatchObject({
        status: 'active',
        notes: "Unlocked: caller verified (O'Brien's ticket #7)",
      });
      expect(sim.getUser('bob')?.status).toBe('active');
    });

    it('when it creates bypass codes (POST), then codes come back and are stored', async () => {
      const res = await call(client(), 'POST', `/admin/v1/users/${userIdFor('peggy')}/bypass_codes`, {
        count: '2',
        reuse_count: '1',
        valid_secs: '3600',
        preserve_existing: 'true',
      });
      expect(res.stat).toBe('OK');
      expect(res.response).toHaveLength(2);
      expect(sim.bypassCodesOf(userIdFor('peggy'))).toHaveLength(5);
    });

    it('when its skey is wrong, then it gets 40103', async () => {
      const bad = new duo.Client(sim.ikey, 'y'.repeat(40), new URL(sim.url).host, version);
      const res = await call(bad, 'GET', '/admin/v1/users', { username: 'alice' });
      expect(res).toMatchObject({ stat: 'FAIL', code: 40103 });
    });
  });
}
