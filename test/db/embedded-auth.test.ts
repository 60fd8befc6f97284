import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../src/db/embedded.js';
import { adminExecute } from '../../src/db/scratch.js';

/**
 * The embedded database is reachable from every process on the machine through its loopback port; PGlite
 * itself accepts any user and password. Whoever does not hold the password in the data directory is refused.
 */
let dataDir: string;
let pg: EmbeddedPostgres;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'duo-desk-embedded-'));
  pg = await startEmbeddedPostgres({ dataDir });
});
afterAll(async () => {
  await pg?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const withPassword = (password: string | null) => {
  const u = new URL(pg.url);
  u.password = password ?? '';
  return u.toString();
};

describe('the embedded database', () => {
  it('when a local process connects with a wrong password, or none, then the embedded database refuses it', async () => {
    await expect(adminExecute(withPassword('postgres'), 'select 1')).rejects.toThrow(/password authentication failed/);
    await expect(adminExecute(withPassword('not-the-password-at-all'), 'select 1')).rejects.toThrow(
      /password authentication failed/,
    );
    await expect(adminExecute(withPassword(null), 'select 1')).rejects.toThrow();
    const other = new URL(pg.url);
    other.username = 'admin';
    await expect(adminExecute(other.toString(), 'select 1')).rejects.toThrow(/password authentication failed/);
  });

  it('when the password from the data directory is given, then queries work, on loopback only', async () => {
    await expect(adminExecute(pg.url, 'select 1')).resolves.toBeUndefined();
    expect(new URL(pg.url).hostname).toBe('127.0.0.1');
  });

  it('when the password is generated, then it lives in the data directory with mode 0600 and survives a restart', async () => {
    const file = join(dataDir, 'embedded-db.password');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const before = new URL(pg.url).password;
    await pg.close();
    pg = await startEmbeddedPostgres({ dataDir });
    expect(new URL(pg.url).password).toBe(before);
    await expect(adminExecute(pg.url, 'select 1')).resolves.toBeUndefined();
  });
});
