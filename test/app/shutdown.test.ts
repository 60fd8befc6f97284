import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { DuoSimulator } from '@duo-desk/duo-sim';
import { type FakeSlack, SlackDriver } from '@duo-desk/slack-testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CHANNELS } from '../../src/app/local-directory.js';
import { grantResponder, startSandbox } from '../../src/app/sandbox.js';
import { AuditKeyring } from '../../src/audit/keys.js';
import { AuditTrail } from '../../src/audit/trail.js';
import { systemClock } from '../../src/clock.js';
import type { ScratchDatabase } from '../../src/db/scratch.js';
import { freshDatabase } from '../support/db.js';
import { PEOPLE } from '../support/harness.js';

/**
 * Graceful shutdown of a real process, started as `npm start` does (bin/duo-desk.js start): SIGTERM while a
 * lookup waits on a slow Duo lets the lookup finish (the card reaches Slack), then the process exits 0 in 10 s.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

let db: ScratchDatabase;
let sandbox: Awaited<ReturnType<typeof startSandbox>> & { duo: DuoSimulator };
let slack: FakeSlack;
let child: ChildProcess | undefined;
let output = '';

describe('SIGTERM', { timeout: 90_000 }, () => {
  beforeAll(async () => {
    db = await freshDatabase();
    sandbox = await startSandbox();
    slack = sandbox.slack;
    const auditKey = randomBytes(32);
    const audit = new AuditTrail(systemClock, new AuditKeyring(auditKey));
    await grantResponder(db, audit, { userId: PEOPLE.helpDesk, role: 'help_desk', approver: false, grantedBy: 'test' });
    const port = await freePort();
    child = spawn(process.execPath, ['bin/duo-desk.js', 'start'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: db.url,
        SLACK_SIGNING_SECRET: sandbox.signingSecret,
        SLACK_BOT_TOKEN: slack.botToken,
        SLACK_API_URL: slack.apiUrl,
        DUO_IKEY: sandbox.duo.ikey,
        DUO_SKEY: sandbox.duo.skey,
        DUO_HOST: sandbox.duo.url,
        DUO_DESK_AUDIT_CHANNEL: LOCAL_CHANNELS.audit,
        DUO_DESK_APPROVAL_CHANNEL: LOCAL_CHANNELS.approvals,
        DUO_DESK_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        DUO_DESK_AUDIT_KEY: auditKey.toString('base64'),
        DUO_DESK_DATA_DIR: `/tmp/duo-desk-shutdown-${process.pid}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (b: Buffer) => {
      output += b.toString('utf8');
    });
    child.stderr!.on('data', (b: Buffer) => {
      output += b.toString('utf8');
    });
    const started = Date.now();
    for (;;) {
      if (child.exitCode !== null) throw new Error(`duo-desk exited at start: ${output.slice(0, 2000)}`);
      if (Date.now() - started > 60_000) throw new Error(`duo-desk not ready: ${output.slice(0, 2000)}`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`)
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    (globalThis as { eventsUrl?: string }).eventsUrl = `http://127.0.0.1:${port}/slack/events`;
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await sandbox?.close();
    await db?.drop();
  });

  it('when SIGTERM arrives during a lookup that waits on a slow Duo, then the lookup finishes and the process exits 0 within 10 s', async () => {
    const driver = new SlackDriver({
      slack,
      signingSecret: sandbox.signingSecret,
      eventsUrl: (globalThis as { eventsUrl?: string }).eventsUrl!,
    });
    // The start-up directory pass reads /admin/v1/users too: let it finish, so the slow answer is the lookup's.
    for (let i = 0; ; i++) {
      const rows = await db.em
        .fork()
        .getConnection()
        .execute<Array<{ status: string }>>(`select status from job where kind = 'directory.sync'`);
      if (rows.length && rows.every((r) => r.status !== 'running') && output.includes('directory sync finished')) break;
      if (i > 200) throw new Error(`directory sync never finished: ${output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Duo answers the user search only after 2.5 s.
    sandbox.duo.injectFault({ kind: 'latency', method: 'GET', path: '/admin/v1/users', latencyMs: 2500, times: 1 });
    const before = slack.calls.length;
    const r = await driver.command(PEOPLE.helpDesk, 'lookup bob');
    expect(JSON.stringify(r.body)).toContain('Looking up');
    // The lookup is now waiting on Duo.
    // Acked: the lookup's Duo search is now under way (answered in 2.5 s).
    await new Promise((r) => setTimeout(r, 200));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child!.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const t0 = Date.now();
    child!.kill('SIGTERM');
    // Draining: the lookup still runs, but the server takes no new requests.
    await new Promise((r) => setTimeout(r, 300));
    const late = await fetch((globalThis as { eventsUrl?: string }).eventsUrl!.replace('/slack/events', '/healthz'))
      .then((res) => res.status)
      .catch(() => 'refused');
    expect(late).toBe('refused');
    const { code, signal } = await exited;
    const tookMs = Date.now() - t0;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(tookMs).toBeLessThan(10_000);
    // The slow request was the lookup's, and its card reached Slack before the process went away.
    expect(tookMs).toBeGreaterThan(2000);
    expect(
      sandbox.duo.requests().some((q) => q.path === '/admin/v1/users' && JSON.stringify(q.params).includes('bob')),
    ).toBe(true);
    const reply = slack.calls.slice(before).find((c) => c.method === 'response_url');
    expect(reply, output.slice(-3000)).toBeDefined();
    expect(JSON.stringify(reply!.args)).toContain('Locked out');
    expect(output).toContain('shutting down');
    expect(output).not.toContain('"level":"error"');
    // Nothing was cut short: the listener finished inside the drain.
    expect(output).not.toContain('listeners still running');
    expect(output).not.toContain('leases are released');
  });
});
