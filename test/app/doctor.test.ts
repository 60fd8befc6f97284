import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type DoctorCheck, manifestBotScopes, runDoctor } from '../../src/app/doctor.js';
import type { Config } from '../../src/config.js';
import { grantAppRole } from '../../src/db/privileges.js';
import { adminExecute } from '../../src/db/scratch.js';
import { CHANNELS, type Harness, startHarness } from '../support/harness.js';

/**
 * `duo-desk doctor` against the sandbox set up as an installer should (the app's own role owning nothing), then
 * against each deliberately broken set-up: every one fails naming the problem and its fix.
 */
const serverUrl = process.env.TEST_DATABASE_URL;
const APP_ROLE = process.env.TEST_APP_DATABASE_USER ?? 'duodesk_app';
const APP_PASSWORD = process.env.TEST_APP_DATABASE_PASSWORD;
if (!serverUrl)
  console.warn(
    'doctor tests skipped: they need a PostgreSQL server with a second, non-owner role (TEST_DATABASE_URL; .ci/run sets it)',
  );

let h: Harness;
let good: Config;

const failed = (checks: DoctorCheck[]) => checks.filter((c) => !c.ok);
const check = (checks: DoctorCheck[], name: string) => checks.find((c) => c.name === name)!;

describe.skipIf(!serverUrl)('duo-desk doctor', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    h = await startHarness();
    await adminExecute(
      serverUrl!,
      `do $$ begin if not exists (select 1 from pg_roles where rolname = '${APP_ROLE}') then
        create role "${APP_ROLE}" login${APP_PASSWORD ? ` password '${APP_PASSWORD.replace(/'/g, "''")}'` : ''}; end if; end $$`,
    );
    await grantAppRole(h.runtime.db.em.fork(), APP_ROLE);
    const app = new URL(h.runtime.db.url);
    app.username = APP_ROLE;
    app.password = APP_PASSWORD ?? '';
    good = { ...h.runtime.deps.config, databaseUrl: app.toString(), migrationDatabaseUrl: undefined };
  });
  afterAll(async () => {
    await h?.close();
  });

  it('when the set-up is right, then every check passes', async () => {
    const checks = await runDoctor({ config: good });
    expect(failed(checks)).toEqual([]);
    expect(checks.map((c) => c.name)).toEqual([
      'slack.token',
      'slack.scopes',
      'slack.audit_channel',
      'slack.approval_channel',
      'duo.credentials',
      'duo.clock',
      'duo.read_users',
      'duo.settings',
      'db.migrations',
      'db.privileges',
      'keys.encryption',
      'keys.audit',
    ]);
  });

  it('when the bot is not in the audit channel, then doctor fails naming the channel and says to invite the bot', async () => {
    const channel = h.slack.store.channels.get(CHANNELS.audit)!;
    channel.botMember = false;
    try {
      const checks = await runDoctor({ config: good });
      expect(failed(checks).map((c) => c.name)).toEqual(['slack.audit_channel']);
      expect(check(checks, 'slack.audit_channel').detail).toContain(`not a member of ${CHANNELS.audit}`);
      expect(check(checks, 'slack.audit_channel').fix).toContain('/invite @duo-desk');
    } finally {
      channel.botMember = true;
    }
  });

  it('when the bot token lacks a scope of manifest.yml, then doctor fails naming that scope', async () => {
    const before = [...h.slack.store.ws.botScopes];
    h.slack.store.ws.botScopes = before.filter((s) => s !== 'users:read.email');
    try {
      const checks = await runDoctor({ config: good });
      expect(failed(checks).map((c) => c.name)).toEqual(['slack.scopes']);
      expect(check(checks, 'slack.scopes').detail).toContain('lacks users:read.email');
      expect(check(checks, 'slack.scopes').fix).toContain('reinstall');
    } finally {
      h.slack.store.ws.botScopes = before;
    }
  });

  it('when DUO_SKEY is wrong, then doctor fails the Duo credentials and names the keys, and the secret is not printed', async () => {
    const wrong = 'x'.repeat(40);
    const checks = await runDoctor({ config: { ...good, duo: { ...good.duo!, skey: wrong } } });
    expect(failed(checks).map((c) => c.name)).toEqual(['duo.credentials']);
    expect(check(checks, 'duo.credentials').fix).toContain('DUO_SKEY');
    expect(JSON.stringify(checks)).not.toContain(wrong);
    expect(JSON.stringify(checks)).not.toContain(good.duo!.skey);
  });

  it('when the Admin API application lacks Grant read resource and Grant settings, then doctor fails naming each grant to tick', async () => {
    h.duo.setMissingGrants(['read_resource', 'settings']);
    try {
      const checks = await runDoctor({ config: good });
      expect(failed(checks).map((c) => c.name)).toEqual(['duo.read_users', 'duo.settings']);
      expect(check(checks, 'duo.read_users').fix).toContain('Grant read resource');
      expect(check(checks, 'duo.settings').fix).toContain('Grant settings');
    } finally {
      h.duo.setMissingGrants([]);
    }
  });

  it("when this machine's clock is 10 minutes off Duo's, then doctor fails the clock check naming the skew", async () => {
    h.duo.setClockSkew(-600_000);
    try {
      const checks = await runDoctor({ config: good });
      expect(failed(checks).map((c) => c.name)).toEqual(['duo.credentials', 'duo.clock']);
      expect(check(checks, 'duo.clock').detail).toMatch(/clock is 60\d s ahead of Duo's/);
      expect(check(checks, 'duo.clock').fix).toContain('NTP');
    } finally {
      h.duo.setClockSkew(0);
    }
  });

  it('when the app runs as the role that owns the audit table, then doctor fails the privileges check saying so', async () => {
    const checks = await runDoctor({ config: { ...good, databaseUrl: h.runtime.db.url } });
    expect(failed(checks).map((c) => c.name)).toContain('db.privileges');
    expect(failed(checks).every((c) => c.name === 'db.privileges')).toBe(true);
    expect(checks.map((c) => c.detail).join('\n')).toContain('owns the audit_event table');
    expect(check(checks, 'db.privileges').fix).toContain('MIGRATION_DATABASE_URL');
  });
});

describe('manifest scopes without a YAML library', () => {
  it('when manifest.yml is read by the line reader, then it finds the same bot scopes as a YAML parser', () => {
    const text = readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8');
    const parsed = parse(text) as { oauth_config: { scopes: { bot: string[] } } };
    expect(manifestBotScopes(text)).toEqual(parsed.oauth_config.scopes.bot);
    expect(manifestBotScopes(text).length).toBeGreaterThan(5);
  });
});
