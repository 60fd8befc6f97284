import { randomBytes } from 'node:crypto';
import { MikroORM } from '@mikro-orm/postgresql';
import { inject } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database.js';

/**
 * A migrated, empty database for one test file: a new database on TEST_DATABASE_URL's server
 * (dropped afterwards), or the embedded one with its schema wiped.
 */
export async function freshDatabase(): Promise<Database & { drop(): Promise<void> }> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    const name = `duodesk_test_${process.pid}_${randomBytes(3).toString('hex')}`;
    await adminExecute(serverUrl, `create database "${name}"`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const db = await openDatabase({ url: url.toString() });
    return Object.assign(db, {
      async drop() {
        await db.close();
        await adminExecute(serverUrl, `drop database if exists "${name}" with (force)`);
      },
    });
  }
  const url = inject('embeddedDatabaseUrl');
  if (!url) throw new Error('no embedded database was started by the global setup');
  await adminExecute(url, 'drop schema if exists public cascade; create schema public;');
  const db = await openDatabase({ url });
  return Object.assign(db, { drop: () => db.close() });
}

/** Opens a second connection pool to the same database (a second app instance). */
export function attachDatabase(db: Database): Promise<Database> {
  return openDatabase({ url: db.url, migrate: false });
}

export async function adminExecute(url: string, sql: string): Promise<void> {
  const orm = await MikroORM.init({
    clientUrl: url,
    entities: [],
    discovery: { warnWhenNoEntities: false },
    pool: { min: 0, max: 1 },
    allowGlobalContext: true,
  });
  try {
    await orm.em.getConnection().execute(sql);
  } finally {
    await orm.close(true);
  }
}
