import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, type EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { migrationsList } from '../../migrations/index.js';
import type { Logger } from '../log.js';
import { EMBEDDED_MAX_CONNECTIONS, findRunningEmbedded, startEmbeddedPostgres } from './embedded.js';
import { entities } from './entities.js';
import { grantAppRole } from './privileges.js';

export type { EntityManager } from '@mikro-orm/postgresql';

export interface Database {
  orm: MikroORM;
  /** The root EntityManager: fork it per request or job, never use it directly for work. */
  em: EntityManager;
  kind: 'server' | 'embedded';
  url: string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** A postgres:// URL; when absent, an embedded PostgreSQL is started (in dataDir, or in memory). */
  url?: string | undefined;
  dataDir?: string | undefined;
  /** Embedded only: keep data in memory (tests). */
  inMemory?: boolean;
  logger?: Logger;
  migrate?: boolean;
  /**
   * An owner role's URL (MIGRATION_DATABASE_URL): migrations run with it, and the role of `url` is then
   * granted only what the app needs (src/db/privileges.ts).
   */
  migrationUrl?: string | undefined;
  poolMax?: number;
}

export function ormConfig(url: string, poolMax: number) {
  return defineConfig({
    clientUrl: url,
    entities,
    extensions: [Migrator],
    migrations: { migrationsList, transactional: true, allOrNothing: true, snapshot: false, silent: true },
    pool: { min: 0, max: poolMax },
    allowGlobalContext: false,
    forceUtcTimezone: true,
    debug: false,
    discovery: { warnWhenNoEntities: false },
  });
}

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  let url = opts.url ?? (opts.inMemory ? undefined : findRunningEmbedded(opts.dataDir ?? '.data'));
  let embedded: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
  if (!url) {
    embedded = await startEmbeddedPostgres({
      ...(opts.inMemory ? {} : { dataDir: opts.dataDir ?? '.data' }),
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    url = embedded.url;
  }
  const poolMax = opts.poolMax ?? (embedded ? Math.min(4, EMBEDDED_MAX_CONNECTIONS) : 10);
  let orm: MikroORM;
  try {
    orm = await MikroORM.init(ormConfig(url, poolMax));
    if (opts.migrate !== false)
      if (opts.migrationUrl) await migrateAsOwner(opts.migrationUrl, orm, opts.logger);
      else await migrate(orm, opts.logger);
  } catch (e) {
    await embedded?.close();
    throw e;
  }
  return {
    orm,
    em: orm.em,
    kind: embedded ? 'embedded' : 'server',
    url,
    async close() {
      await orm.close(true);
      await embedded?.close();
    },
  };
}

export async function migrate(orm: MikroORM, logger?: Logger): Promise<string[]> {
  const applied = await orm.getMigrator().up();
  if (applied.length) logger?.info('database migrations applied', { migrations: applied.map((m) => m.name) });
  return applied.map((m) => m.name);
}

/** Migrates through the owner role, then grants the app's own role (the user of `app`) what it needs. */
async function migrateAsOwner(migrationUrl: string, app: MikroORM, logger?: Logger): Promise<void> {
  const [who] = await app.em.getConnection().execute<Array<{ role: string }>>('select current_user as role');
  const owner = await MikroORM.init(ormConfig(migrationUrl, 1));
  try {
    await migrate(owner, logger);
    const [ownerRole] = await owner.em.getConnection().execute<Array<{ role: string }>>('select current_user as role');
    if (who && who.role !== ownerRole?.role) await grantAppRole(owner.em.fork(), who.role);
  } finally {
    await owner.close(true);
  }
}

/** Redacts the password of a connection URL for logs and messages. */
export function describeDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres (unparseable URL)';
  }
}
