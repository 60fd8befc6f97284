import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  officialCall,
  officialDuo,
  routeOfficialClientOverHttp,
} from '../../packages/duo-sim/test/support/official-duo.js';

/** `duo-desk sim` on its own, as a person would run it, answering Duo's official client. */
let child: ChildProcess;
let printed = '';

beforeAll(async () => {
  child = spawn(process.execPath, ['--import', 'tsx', 'src/app/cli.ts', 'sim', '--port', '0'], {
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => {
    printed += String(d);
  });
  const deadline = Date.now() + 60_000;
  while (!/DUO_SKEY=\S+/.test(printed)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`duo-desk sim did not start: ${printed}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});
afterAll(() => {
  child?.kill('SIGTERM');
});
beforeEach(() => routeOfficialClientOverHttp());
afterEach(() => {
  vi.restoreAllMocks();
});

const printedValue = (name: string) => printed.match(new RegExp(`${name}=(\\S+)`))![1]!;

describe('duo-desk sim', () => {
  it('when started on its own, then it prints its URL, ikey and skey and some demo users', () => {
    expect(printedValue('DUO_HOST')).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(printedValue('DUO_IKEY')).toMatch(/^DI/);
    expect(printedValue('DUO_SKEY').length).toBeGreaterThanOrEqual(40);
    expect(printed).toContain('alice');
  });

  for (const version of [2, 5]) {
    it(`when the official client signs a request with signature version ${version}, then the running simulator answers it`, async () => {
      const host = new URL(printedValue('DUO_HOST')).host;
      const client = new officialDuo.Client(printedValue('DUO_IKEY'), printedValue('DUO_SKEY'), host, version);
      const res = await officialCall(client, 'GET', '/admin/v1/users', { username: 'alice' });
      expect(res.stat).toBe('OK');
      expect((res.response as Array<{ username: string }>)[0]?.username).toBe('alice');
    });
  }
});
