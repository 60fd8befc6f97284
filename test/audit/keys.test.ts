import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditKeyring, auditKeyId, loadAuditKeyring } from '../../src/audit/keys.js';
import { loadConfig } from '../../src/config.js';
import { createMemoryLogger } from '../../src/log.js';

/** The audit key lives outside the database: where it comes from, and start-up without it. */
const dir = mkdtempSync(join(tmpdir(), 'duodesk-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const connected = {
  SLACK_SIGNING_SECRET: 'sekrit-signing',
  SLACK_BOT_TOKEN: 'xoxb-123-abc',
  DUO_IKEY: 'DIXXXXXXXXXXXXXXXXXX',
  DUO_SKEY: 'super-secret-skey-value-0123456789abcdef',
  DUO_HOST: 'api-1234abcd.duosecurity.com',
  DUO_DESK_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
};

describe('audit keys', () => {
  it('when duo-desk starts outside local mode without DUO_DESK_AUDIT_KEY, then it refuses, naming the variable, before opening anything', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/app/main.ts'], {
      env: { PATH: process.env.PATH, ...connected, DUO_DESK_DATA_DIR: join(dir, 'never') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('DUO_DESK_AUDIT_KEY is required outside local mode: set it to 32 random bytes, base64');
    expect(r.stderr).not.toContain(connected.DUO_SKEY);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('when local mode has no key, then one is generated into the data directory (mode 0600) and reused', () => {
    const logger = createMemoryLogger('debug');
    const first = loadAuditKeyring({ configured: undefined, retired: [], local: true, dataDir: dir, logger });
    const file = join(dir, 'audit.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8'), 'base64')).toHaveLength(32);
    const again = loadAuditKeyring({ configured: undefined, retired: [], local: true, dataDir: dir, logger });
    expect(again.current.id).toBe(first.current.id);
    expect(logger.lines.join('\n')).toContain('set DUO_DESK_AUDIT_KEY in production');
    expect(logger.lines.join('\n')).not.toContain(readFileSync(file, 'utf8').trim());
  });

  it('when keys are configured, then retired ones verify only, and a key id reveals nothing of the key', () => {
    const current = randomBytes(32);
    const old = randomBytes(32);
    const env = loadConfig({
      DUO_DESK_AUDIT_KEY: current.toString('base64'),
      DUO_DESK_AUDIT_KEYS_RETIRED: ` ${old.toString('base64')} , ${randomBytes(32).toString('base64')}`,
    });
    expect(env.auditKeysRetired).toHaveLength(2);
    const ring = loadAuditKeyring({
      configured: env.auditKey,
      retired: env.auditKeysRetired,
      local: false,
      dataDir: dir,
      logger: createMemoryLogger('warn'),
    });
    expect(ring.current.id).toBe(auditKeyId(current));
    expect(ring.isRetired(auditKeyId(old))).toBe(true);
    expect(ring.isRetired(ring.current.id)).toBe(false);
    expect(ring.current.id).not.toContain(current.toString('base64').slice(0, 8));
    // The checkpoint key is derived: it is neither the link key nor the same across keys.
    expect(ring.current.checkpointKey.equals(current)).toBe(false);
    expect(new AuditKeyring(old).current.checkpointKey.equals(ring.current.checkpointKey)).toBe(false);
  });

  it('when the audit key, retired keys or migration URL are malformed, then every problem is named', () => {
    let message = '';
    try {
      loadConfig({
        DUO_DESK_AUDIT_KEY: 'short',
        DUO_DESK_AUDIT_KEYS_RETIRED: `${randomBytes(32).toString('base64')},nope`,
        MIGRATION_DATABASE_URL: 'postgres://owner@db/duodesk',
      });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('DUO_DESK_AUDIT_KEY must be 32 random bytes, base64-encoded');
    expect(message).toContain('DUO_DESK_AUDIT_KEYS_RETIRED must be a comma-separated list');
    expect(message).toContain('DATABASE_URL is required with MIGRATION_DATABASE_URL');
  });

  it('when Slack is configured in production without an audit channel, then start-up refuses: every event is mirrored', () => {
    expect(() => loadConfig({ ...connected, NODE_ENV: 'production' })).toThrow(
      /DUO_DESK_AUDIT_CHANNEL is required in production/,
    );
  });
});
