import { randomBytes } from 'node:crypto';
import { MikroORM } from '@mikro-orm/postgresql';
import { type Database, openDatabase } from './database.js';

/**
 * Throw-away databases for tests and benchmarks: a new, migrated database on a PostgreSQL server,
 * dropped afterwards, so nothing is written into a real audit trail.
 */
export interface ScratchDatabase extends Database {
  drop(): Promise<void>;
}

export async function createScratchDatabase(serverUrl: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${process.pid}_${randomBytes(3).toString('hex')}`;
  await adminExecute(serverUrl, `create database "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const dropIt = () => adminExecute(serverUrl, `drop database if exists "${name}" with (force)`);
  let db: Database;
  try {
    db = await openDatabase({ url: url.toString() });
  } catch (e) {
    await dropIt();
    throw e;
  }
  return Object.assign(db, {
    async drop() {
      await db.close();
      await dropIt();
    },
  });
}

/** One statement on its own short-lived connection (create/drop database, schema resets). */
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
