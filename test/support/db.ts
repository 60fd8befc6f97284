import { inject } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database.js';
import { adminExecute, createScratchDatabase, type ScratchDatabase } from '../../src/db/scratch.js';

export { adminExecute };

/** The embedded server takes EMBEDDED_MAX_CONNECTIONS in all: two app instances must fit in it. */
const EMBEDDED_POOL_MAX = 6;
const embedded = () => !process.env.TEST_DATABASE_URL;

/**
 * A migrated, empty database for one test file: a new database on TEST_DATABASE_URL's server
 * (dropped afterwards), or the embedded one with its schema wiped.
 */
export async function freshDatabase(): Promise<ScratchDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) return createScratchDatabase(serverUrl, 'duodesk_test');
  const url = inject('embeddedDatabaseUrl');
  if (!url) throw new Error('no embedded database was started by the global setup');
  await adminExecute(url, 'drop schema if exists public cascade; create schema public;');
  const db = await openDatabase({ url, poolMax: EMBEDDED_POOL_MAX });
  return Object.assign(db, { drop: () => db.close() });
}

/** Opens a second connection pool to the same database (a second app instance). */
export function attachDatabase(db: Database): Promise<Database> {
  return openDatabase({ url: db.url, migrate: false, ...(embedded() ? { poolMax: EMBEDDED_POOL_MAX } : {}) });
}
