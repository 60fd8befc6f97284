import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DUO_CHECK_CACHE_MS } from '../../src/app/readiness.js';
import { ManualClock } from '../../src/clock.js';
import { type Harness, startHarness } from '../support/harness.js';

/** /healthz and /readyz answer anyone: they must stay cheap and say nothing an outsider could use. */
const clock = new ManualClock();
let h: Harness;
let base: string;
beforeAll(async () => {
  h = await startHarness({ clock });
  base = h.eventsUrl.replace('/slack/events', '');
});
afterAll(async () => {
  await h?.close();
});

const duoChecks = () => h.duo.requests().filter((r) => r.path === '/admin/v1/info/summary').length;

describe('health', () => {
  it('when /healthz is asked, then it answers without touching the database or Duo', async () => {
    const before = duoChecks();
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ ok: true });
    expect(duoChecks()).toBe(before);
  });

  it('when 25 anonymous /readyz calls arrive within 30 s, then they make at most 1 Duo call', async () => {
    clock.advance(DUO_CHECK_CACHE_MS);
    const before = duoChecks();
    const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${base}/readyz`)));
    for (let i = 0; i < 5; i++) {
      clock.advance(1_000);
      answers.push(await fetch(`${base}/readyz`));
    }
    expect(answers.map((a) => a.status)).toEqual(Array(25).fill(200));
    expect(await answers[0]!.json()).toEqual({ db: 'ok', duo: 'ok' });
    expect(duoChecks() - before).toBeLessThanOrEqual(1);
  });

  it('when Duo fails, then /readyz says only "failed" (once the cached answer is 30 s old), with no error text', async () => {
    h.duo.injectFault({ kind: 'server_error', path: '/admin/v1/info' });
    try {
      clock.advance(DUO_CHECK_CACHE_MS);
      const r = await fetch(`${base}/readyz`);
      expect(r.status).toBe(503);
      expect(await r.text()).toBe(JSON.stringify({ db: 'ok', duo: 'failed' }));
    } finally {
      h.duo.clearFaults();
    }
    clock.advance(DUO_CHECK_CACHE_MS);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });
});
