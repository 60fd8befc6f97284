import { type DuoSimulator, startDuoSimulator, userIdFor } from '@duo-desk/duo-sim';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DuoAdminClient } from '../../src/duo/client.js';
import { DuoError } from '../../src/duo/errors.js';
import { AppError } from '../../src/errors.js';
import { createMemoryLogger } from '../../src/log.js';
import { clientFor, rejectionOf } from './helpers.js';

let sim: DuoSimulator;
const ALICE = userIdFor('alice');
const VICTOR = userIdFor('victor');

beforeAll(async () => {
  sim = await startDuoSimulator();
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.reset();
});

describe('rate limiting', () => {
  it('when Duo answers 429 twice, then the client waits 1 s then 2 s (+ jitter < 1 s) and succeeds', async () => {
    sim.injectFault({ method: 'GET', path: '/admin/v1/users', kind: 'rate_limit', times: 2 });
    const { client, sleeps } = clientFor(sim, { random: () => 0.42 });
    const users = await client.getUsersByUsername('alice');
    expect(users[0]?.username).toBe('alice');
    expect(sleeps).toEqual([1420, 2420]);
    expect(sim.requests().map((r) => r.status)).toEqual([429, 429, 200]);
  });

  it('when a write is rate limited, then it is retried too (a 429 means not applied)', async () => {
    sim.injectFault({ method: 'POST', kind: 'rate_limit', times: 1 });
    const { client, sleeps } = clientFor(sim, { random: () => 0.999 });
    const codes = await client.createBypassCodes(ALICE, { count: 1, reuseCount: 1, validSecs: 600 });
    expect(codes).toHaveLength(1);
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]!).toBeGreaterThanOrEqual(1000);
    expect(sleeps[0]!).toBeLessThan(2000);
    expect(sim.bypassCodesOf(ALICE)).toHaveLength(1);
  });

  it('when 429 never stops, then after 6 retries (1..32 s) the error is DUO_RATE_LIMITED', async () => {
    sim.injectFault({ kind: 'rate_limit' });
    const { client, sleeps } = clientFor(sim, { random: () => 0 });
    const e = (await rejectionOf(client.getInfoSummary())) as DuoError;
    expect(e.code).toBe('DUO_RATE_LIMITED');
    expect(e.httpStatus).toBe(429);
    expect(sleeps).toEqual([1000, 2000, 4000, 8000, 16000, 32000]);
    expect(sim.requests()).toHaveLength(7);
  });
});

describe('timeouts, network errors and server errors', () => {
  it('when Duo is slower than timeoutMs, then the call fails with DUO_TIMEOUT', async () => {
    sim.injectFault({ path: '/admin/v1/info', kind: 'latency', latencyMs: 1500 });
    const { client } = clientFor(sim, { timeoutMs: 150, readRetries: 0 });
    const e = (await rejectionOf(client.getInfoSummary())) as DuoError;
    expect(e).toBeInstanceOf(DuoError);
    expect(e.code).toBe('DUO_TIMEOUT');
    expect(e.outcomeUnknown).toBe(false);
  });

  it('when a write times out, then outcomeUnknown is true and it is not retried', async () => {
    sim.injectFault({ method: 'POST', kind: 'latency', latencyMs: 1000 });
    const { client } = clientFor(sim, { timeoutMs: 150 });
    const e = (await rejectionOf(client.updateUser(ALICE, { notes: 'x' }))) as DuoError;
    expect(e.code).toBe('DUO_TIMEOUT');
    expect(e.outcomeUnknown).toBe(true);
    expect(sim.requests().filter((r) => r.method === 'POST').length).toBeLessThanOrEqual(1);
  });

  it('when a POST gets a 500, then it is not retried and the outcome is unknown', async () => {
    sim.injectFault({ method: 'POST', kind: 'server_error', times: 5 });
    const { client } = clientFor(sim);
    const e = (await rejectionOf(
      client.createBypassCodes(ALICE, { count: 1, reuseCount: 1, validSecs: 60 }),
    )) as DuoError;
    expect(e.code).toBe('DUO_UNAVAILABLE');
    expect(e.httpStatus).toBe(500);
    expect(e.outcomeUnknown).toBe(true);
    expect(sim.requests().filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('when a GET gets 500 twice, then it is retried and succeeds', async () => {
    sim.injectFault({ method: 'GET', kind: 'server_error', times: 2 });
    const { client } = clientFor(sim);
    expect((await client.getUserById(ALICE)).username).toBe('alice');
    expect(sim.requests().map((r) => r.status)).toEqual([500, 500, 200]);
  });

  it('when a GET keeps failing with 500, then after readRetries it is DUO_UNAVAILABLE', async () => {
    sim.injectFault({ method: 'GET', kind: 'server_error' });
    const { client } = clientFor(sim, { readRetries: 1 });
    const e = (await rejectionOf(client.getUserById(ALICE))) as DuoError;
    expect(e.code).toBe('DUO_UNAVAILABLE');
    expect(e.outcomeUnknown).toBe(false);
    expect(sim.requests()).toHaveLength(2);
  });

  it('when the connection drops on a GET, then it is retried; on a DELETE, then DUO_UNAVAILABLE with outcomeUnknown', async () => {
    sim.injectFault({ method: 'GET', kind: 'drop', times: 1 });
    const { client } = clientFor(sim);
    expect((await client.getUserById(ALICE)).username).toBe('alice');
    sim.injectFault({ method: 'DELETE', kind: 'drop' });
    const e = (await rejectionOf(client.deleteBypassCode('DBX'))) as DuoError;
    expect(e.code).toBe('DUO_UNAVAILABLE');
    expect(e.outcomeUnknown).toBe(true);
    expect(sim.requests().filter((r) => r.method === 'DELETE')).toHaveLength(1);
  });
});

describe('bad responses', () => {
  it('when Duo answers with an HTML error page, then DUO_BAD_RESPONSE with a readable, short message', async () => {
    sim.injectFault({ kind: 'html', times: 1 });
    const { client } = clientFor(sim);
    const e = (await rejectionOf(client.getUsersByUsername('alice'))) as DuoError;
    expect(e.code).toBe('DUO_BAD_RESPONSE');
    expect(e.httpStatus).toBe(400);
    expect(e.message).toContain('HTML page');
    expect(e.message).toContain('400 Bad Request');
    expect(e.message).not.toContain('<');
    expect(e.message.length).toBeLessThan(400);
  });

  it('when Duo answers with truncated JSON, then DUO_BAD_RESPONSE', async () => {
    sim.injectFault({ kind: 'malformed_json', times: 1 });
    const { client } = clientFor(sim);
    const e = (await rejectionOf(client.getUsersByUsername('alice'))) as DuoError;
    expect(e.code).toBe('DUO_BAD_RESPONSE');
    expect(e.message).toContain('non-JSON');
  });

  it('when the response has the wrong shape, then DUO_BAD_RESPONSE names the field', async () => {
    const fake = (async () =>
      new Response(JSON.stringify({ stat: 'OK', response: [{ username: 'x' }] }), {
        headers: { 'content-type': 'application/json' },
      })) as typeof fetch;
    const client = new DuoAdminClient({ ikey: 'DI', skey: 's', host: 'api-x.duosecurity.com', fetch: fake });
    const e = (await rejectionOf(client.getUsersByUsername('x'))) as DuoError;
    expect(e.code).toBe('DUO_BAD_RESPONSE');
    expect(e.message).toContain('user_id');
  });
});

describe('authentication and configuration', () => {
  it('when the skey is wrong, then DUO_INVALID_SIGNATURE with HTTP 401 and Duo code 40103', async () => {
    const { client } = clientFor(sim, { skey: 'x'.repeat(40) });
    const e = (await rejectionOf(client.getUsersByUsername('alice'))) as DuoError;
    expect(e.code).toBe('DUO_INVALID_SIGNATURE');
    expect(e.httpStatus).toBe(401);
    expect(e.duoCode).toBe(40103);
    expect(e.message).not.toContain('x'.repeat(40));
  });

  it('when the host is plain http and not loopback, then the client refuses to start', () => {
    for (const host of ['http://api-x.duosecurity.com', 'http://10.0.0.1:8080', 'ftp://x', 'https://h/path']) {
      let err: unknown;
      try {
        new DuoAdminClient({ ikey: 'DI', skey: 's', host });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('CONFIG_INVALID');
    }
    for (const host of ['api-x.duosecurity.com', 'http://127.0.0.1:9', 'http://localhost:9', 'http://[::1]:9']) {
      expect(() => new DuoAdminClient({ ikey: 'DI', skey: 's', host })).not.toThrow();
    }
  });

  it('when a request is signed, then X-Duo-Date is sent over https by default', async () => {
    let seen: { url: string; headers: Record<string, string> } | undefined;
    const fake = (async (url: string, init: RequestInit) => {
      seen = { url, headers: init.headers as Record<string, string> };
      return new Response('{"stat":"OK","response":{}}', { headers: { 'content-type': 'application/json' } });
    }) as unknown as typeof fetch;
    const client = new DuoAdminClient({ ikey: 'DI', skey: 's', host: 'API-X.duosecurity.com', fetch: fake });
    await client.getInfoSummary();
    expect(seen?.url).toBe('https://api-x.duosecurity.com/admin/v1/info/summary');
    expect(seen?.headers['X-Duo-Date']).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} -0000$/);
  });
});

describe('bypass-code limit', () => {
  it('when victor (95 codes) gets 5 more, then the 101st is refused with DUO_LIMIT_EXCEEDED and nothing is created', async () => {
    const { client } = clientFor(sim);
    expect(sim.bypassCodesOf(VICTOR)).toHaveLength(95);
    expect(await client.createBypassCodes(VICTOR, { count: 5, reuseCount: 1, validSecs: 3600 })).toHaveLength(5);
    const e = (await rejectionOf(
      client.createBypassCodes(VICTOR, { count: 1, reuseCount: 1, validSecs: 3600 }),
    )) as DuoError;
    expect(e.code).toBe('DUO_LIMIT_EXCEEDED');
    expect(e.httpStatus).toBe(500);
    expect(e.duoCode).toBe(50001);
    expect(e.outcomeUnknown).toBe(false);
    expect(sim.bypassCodesOf(VICTOR)).toHaveLength(100);
    expect(
      sim
        .requests()
        .filter((r) => r.method === 'POST')
        .map((r) => r.status),
    ).toEqual([200, 500]);
  });
});

describe('secrets stay out of logs', () => {
  it('when calls succeed and fail at debug level, then neither skey nor Authorization appear in any log line', async () => {
    const logger = createMemoryLogger('debug');
    const quietSim = await startDuoSimulator({ logger });
    try {
      const { client } = clientFor(quietSim, { logger });
      const [alice] = await client.getUsersByUsername('alice');
      const [code] = await client.createBypassCodes(alice!.user_id, { count: 1, reuseCount: 1, validSecs: 60 });
      quietSim.injectFault({ kind: 'rate_limit', times: 1 });
      await client.getAdmins();
      // A different last character (the skey is random: it may already end in Z).
      const wrongSkey = `${quietSim.skey.slice(0, -1)}${quietSim.skey.endsWith('Z') ? 'Y' : 'Z'}`;
      const bad = clientFor(quietSim, { logger, skey: wrongSkey }).client;
      await rejectionOf(bad.getInfoSummary());
      const text = logger.lines.join('\n');
      expect(logger.lines.length).toBeGreaterThan(4);
      expect(text).toContain('"attempt"');
      expect(text).not.toContain(quietSim.skey);
      expect(text).not.toMatch(/Basic /);
      expect(text).not.toContain(code!);
      expect(text).not.toContain(Buffer.from(`${quietSim.ikey}:`).toString('base64').slice(0, 20));
    } finally {
      await quietSim.close();
    }
  });
});
