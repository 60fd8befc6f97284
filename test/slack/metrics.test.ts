import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, PEOPLE, startHarness } from '../support/harness.js';

/**
 * GET /metrics (Prometheus text) after a lookup and a verification: the series an operator's dashboards need,
 * behind METRICS_TOKEN, and no label that names a person, a Duo user or a secret.
 */
const TOKEN = 'metrics-token-for-the-test-0123456789';

let h: Harness;
const metricsUrl = () => `http://127.0.0.1:${h.runtime.slack.port}/metrics`;
const scrape = async () => {
  const res = await fetch(metricsUrl(), { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
};
/** The value of one series (all labels given, in any order), or undefined. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (
      Object.entries(labels).every(([k, v]) => got[k] === v) &&
      Object.keys(got).length === Object.keys(labels).length
    )
      return Number(m[3]);
  }
  return undefined;
}

describe('/metrics', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    h = await startHarness({ verificationPollMs: 50, config: { metricsToken: TOKEN } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('when scraped without the bearer token or with a wrong one, then it answers 401 and no metrics', async () => {
    const none = await fetch(metricsUrl());
    expect(none.status).toBe(401);
    expect(await none.text()).not.toContain('duodesk_');
    const wrong = await fetch(metricsUrl(), { headers: { authorization: 'Bearer not-the-token-at-all-xx' } });
    expect(wrong.status).toBe(401);
  });

  it('when a lookup and a verification ran, then requests, Duo calls, jobs, pushes and the gauges are exposed', async () => {
    await h.driver.command(PEOPLE.helpDesk, 'lookup bob');
    await h.driver.command(PEOPLE.helpDesk, 'verify alice');
    const push = await h.slack.waitFor(() => h.duo.pendingPushes().find((p) => p.username === 'alice'), {
      description: 'push to alice',
    });
    h.duo.answerPush(push.pushId, 'approve');
    let text = '';
    // The verify listener returns once the answer is shown.
    for (let i = 0; i < 200; i++) {
      text = await scrape();
      if (
        (value(text, 'duodesk_verification_pushes_total', { result: 'approve' }) ?? 0) >= 1 &&
        value(text, 'duodesk_slack_requests_total', { listener: 'command:verify', outcome: 'ok' }) !== undefined
      )
        break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(value(text, 'duodesk_slack_requests_total', { listener: 'command:lookup', outcome: 'ok' })).toBe(1);
    expect(value(text, 'duodesk_slack_requests_total', { listener: 'command:verify', outcome: 'ok' })).toBe(1);
    expect(
      value(text, 'duodesk_slack_request_duration_seconds_count', { listener: 'command:lookup', outcome: 'ok' }),
    ).toBe(1);
    expect(
      value(text, 'duodesk_duo_requests_total', { endpoint: '/admin/v1/users', method: 'GET', status: '200' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      value(text, 'duodesk_duo_requests_total', {
        endpoint: '/admin/v1/users/:id/send_verification_push',
        method: 'POST',
        status: '200',
      }),
    ).toBe(1);
    expect(
      value(text, 'duodesk_duo_request_duration_seconds_count', {
        endpoint: '/admin/v1/users/:id/verification_push_response',
        method: 'GET',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(value(text, 'duodesk_verification_pushes_total', { result: 'sent' })).toBe(1);
    expect(value(text, 'duodesk_job_runs_total', { kind: 'audit.relay', outcome: 'again' })).toBeGreaterThanOrEqual(1);
    expect(value(text, 'duodesk_job_lag_seconds_count', { kind: 'audit.relay' })).toBeGreaterThanOrEqual(1);
    expect(value(text, 'duodesk_relay_backlog')).toBeGreaterThanOrEqual(0);
    expect(value(text, 'duodesk_relay_oldest_pending_seconds')).toBeGreaterThanOrEqual(0);
    expect(value(text, 'duodesk_approvals_pending')).toBe(0);
    expect(value(text, 'duodesk_stepup_failures_total')).toBe(0);
    expect(value(text, 'duodesk_stepup_locks_total')).toBe(0);
    expect(value(text, 'duodesk_audit_events_total', { action: 'verification.answered', outcome: 'success' })).toBe(1);
  });

  it('when the metrics are read, then no label names a person, a Duo user, a channel or a secret', async () => {
    // A subcommand that is really a username is counted as "other", never under its text.
    await h.driver.command(PEOPLE.helpDesk, 'carol');
    const text = await scrape();
    expect(value(text, 'duodesk_slack_requests_total', { listener: 'command:other', outcome: 'refused' })).toBe(1);
    expect(text).not.toContain('carol');
    // The app's own series (the Node.js process series label handle types and versions only).
    const own = text
      .split('\n')
      .filter((l) => l.startsWith('duodesk_') && !/^duodesk_(nodejs|process)_/.test(l))
      .join('\n');
    const values = [...own.matchAll(/\w+="([^"]*)"/g)].map((m) => m[1]!);
    expect(values.length).toBeGreaterThan(20);
    const duoUsers = h.duo.requests().flatMap((r) => Object.values(r.params).flat().map(String));
    const forbidden = [
      ...Object.values(PEOPLE),
      'alice',
      'bob',
      h.duo.skey,
      h.runtime.deps.config.slack.botToken!,
      h.signingSecret,
      ...duoUsers.filter((v) => /^D[A-Z0-9]{10,}$/.test(v)),
    ];
    for (const v of values) {
      // Closed vocabularies only: listener and endpoint names, kinds, actions, outcomes, numbers.
      expect(v).toMatch(/^[a-z0-9_.:/+-]+$|^[\d.e+]+$|^\+Inf$|^[A-Z]+$/);
      for (const f of forbidden) expect(v).not.toContain(f);
    }
    expect(text).not.toMatch(/\bDU[A-Z0-9]{10,}/);
    expect(text).not.toMatch(/\bU\d{3}\b/);
  });
});

describe('/metrics on METRICS_PORT', { timeout: 60_000 }, () => {
  let hp: Harness;
  beforeAll(async () => {
    hp = await startHarness({ config: { metricsPort: 0 } });
  });
  afterAll(async () => {
    await hp?.close();
  });

  it('when METRICS_PORT is set, then /metrics is served there only, not beside /slack/events', async () => {
    expect(hp.runtime.metricsPort).toBeGreaterThan(0);
    const own = await fetch(`http://127.0.0.1:${hp.runtime.metricsPort}/metrics`);
    expect(own.status).toBe(200);
    expect(await own.text()).toContain('duodesk_relay_backlog');
    const main = await fetch(`http://127.0.0.1:${hp.runtime.slack.port}/metrics`);
    expect(main.status).toBe(404);
  });
});
