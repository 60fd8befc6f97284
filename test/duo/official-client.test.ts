/**
 * The official Node client (@duosecurity/duo_api 1.5.0) against our simulator: proves the simulator speaks
 * Duo's wire protocol as Duo's own code produces it (v2 with form/query params, v5 with a JSON body).
 *
 * How it is pointed at the simulator: lib/main.js is https-only. It calls `https.request({host, method, path,
 * headers, ca: <Duo's pinned roots>})` with no port, agent or protocol option, and signs `this.host` which it
 * also sends as the Host header. So we give it host `127.0.0.1:PORT` (signed and sent as Host exactly as it
 * would `api-xxx.duosecurity.com`) and, for the duration of each test, replace `https.request` with a shim that
 * splits host/port and hands the identical options, headers and body to `http.request`. A self-signed TLS
 * server would not help: the pinned CA list cannot be overridden, so certificate checks would fail anyway.
 * Everything above the transport (canonicalization, signature, Date header, params placement, body bytes)
 * is the official code, unmodified.
 */
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type DuoSimulator, startDuoSimulator, userIdFor } from '../../src/duo-sim/index.js';

const require = createRequire(import.meta.url);
interface OfficialClient {
  jsonApiCall(method: string, path: string, params: Record<string, string>, cb: (res: unknown) => void): void;
}
const duo = require('@duosecurity/duo_api') as {
  Client: new (ikey: string, skey: string, host: string, sigVersion?: number) => OfficialClient;
  SIGNATURE_VERSION_2: number;
  SIGNATURE_VERSION_5: number;
};

let sim: DuoSimulator;

beforeAll(async () => {
  sim = await startDuoSimulator();
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.reset();
  const realRequest = http.request;
  vi.spyOn(https, 'request').mockImplementation(((
    options: https.RequestOptions,
    cb?: (res: http.IncomingMessage) => void,
  ) => {
    const [hostname, port] = String(options.host).split(':');
    const { ca: _pinnedCa, host: _host, ...rest } = options;
    return realRequest({ ...rest, hostname, port: Number(port) }, cb);
  }) as unknown as typeof https.request);
});
afterEach(() => {
  vi.restoreAllMocks();
});

const call = (client: OfficialClient, method: string, path: string, params: Record<string, string>) =>
  new Promise<Record<string, unknown>>((resolve) =>
    client.jsonApiCall(method, path, params, (r) => resolve(r as Record<string, unknown>)),
  );

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
