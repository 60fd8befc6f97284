import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { startPasswordFront } from './password-front.js';

/**
 * Zero-setup PostgreSQL: PGlite (PostgreSQL compiled to WebAssembly) in this process, served on a
 * loopback port through pglite-socket so the ORM talks to it with the same `pg` driver as to a real
 * server. Its traps (see stack-notes): one session behind all connections (transactions are
 * serialised, so code must never wait on a second connection inside a transaction) and no
 * cross-process lock on the data directory, which `acquireDataDirLock` adds.
 *
 * PGlite accepts any user and password, so the socket server listens only on a Unix socket in a private
 * directory, and the loopback port clients use is a front that checks a password first (password-front.ts):
 * one generated into the data directory (mode 0600, kept across restarts), or per process in memory.
 */
export interface EmbeddedPostgres {
  url: string;
  close(): Promise<void>;
}

export const EMBEDDED_MAX_CONNECTIONS = 16;

export async function startEmbeddedPostgres(opts: { dataDir?: string; logger?: Logger }): Promise<EmbeddedPostgres> {
  // Loaded only here: with DATABASE_URL the process never holds PGlite (about 40 MB of RSS once imported).
  const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-socket'),
  ]);
  let releaseLock: (() => void) | undefined;
  let db: PGlite;
  if (opts.dataDir) {
    const dir = resolve(opts.dataDir);
    mkdirSync(dir, { recursive: true });
    releaseLock = acquireDataDirLock(dir);
    const pgDir = join(dir, 'pg');
    const fresh = !existsSync(join(pgDir, 'PG_VERSION'));
    if (fresh) opts.logger?.info('creating the embedded database (first run takes a few seconds)', { dataDir: pgDir });
    try {
      db = await PGlite.create({ dataDir: pgDir });
    } catch (e) {
      releaseLock();
      throw e;
    }
  } else {
    db = await PGlite.create();
  }
  const password = opts.dataDir ? dataDirPassword(resolve(opts.dataDir), opts.logger) : newPassword();
  const socketDir = mkdtempSync(join(tmpdir(), 'duo-desk-pg-')); // created 0700: only this user gets in
  const socketPath =
    process.platform === 'win32'
      ? `\\\\.\\pipe\\duo-desk-pg-${randomBytes(8).toString('hex')}`
      : join(socketDir, 'pglite.sock');
  const server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: EMBEDDED_MAX_CONNECTIONS });
  let front: Awaited<ReturnType<typeof startPasswordFront>>;
  try {
    await server.start();
    front = await startPasswordFront({ user: EMBEDDED_USER, password, target: socketPath });
  } catch (e) {
    await server.stop();
    await db.close();
    rmSync(socketDir, { recursive: true, force: true });
    releaseLock?.();
    throw e;
  }
  const url = `postgresql://${EMBEDDED_USER}:${encodeURIComponent(password)}@127.0.0.1:${front.port}/postgres`;
  // Lets the CLI (and a second process) use this database while we hold the data directory.
  const sharePath = opts.dataDir ? join(resolve(opts.dataDir), SHARE_FILE) : undefined;
  if (sharePath) writeFileSync(sharePath, JSON.stringify({ url, pid: process.pid }), { mode: 0o600 });
  let closed = false;
  return {
    url,
    async close() {
      if (closed) return;
      closed = true;
      if (sharePath) rmSync(sharePath, { force: true });
      await front.close();
      await server.stop();
      await db.close();
      rmSync(socketDir, { recursive: true, force: true });
      releaseLock?.();
    },
  };
}

const SHARE_FILE = 'embedded-db.json';
const PASSWORD_FILE = 'embedded-db.password';
const EMBEDDED_USER = 'postgres';

const newPassword = () => randomBytes(24).toString('base64url');

/** The data directory's database password: generated once (mode 0600), and kept owner-only. */
function dataDirPassword(dir: string, logger?: Logger): string {
  const path = join(dir, PASSWORD_FILE);
  try {
    writeFileSync(path, newPassword(), { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
    chmodSync(path, 0o600);
    logger?.warn('the embedded database password file was readable by others; made it owner-only', { path });
  }
  const password = readFileSync(path, 'utf8').trim();
  if (password.length < 16)
    throw new AppError(
      'CONFIG_INVALID',
      `The embedded database password in ${path} is too short; delete the file to generate a new one.`,
    );
  return password;
}

/** The loopback URL of the embedded database another live duo-desk process is serving from dataDir, if any. */
export function findRunningEmbedded(dataDir: string): string | undefined {
  try {
    const info = JSON.parse(readFileSync(join(resolve(dataDir), SHARE_FILE), 'utf8')) as { url?: string; pid?: number };
    if (typeof info.url === 'string' && typeof info.pid === 'number' && info.pid !== process.pid && isAlive(info.pid))
      return info.url;
  } catch {
    // no running instance
  }
  return undefined;
}

/**
 * An exclusive lock file holding our pid. A second process on the same data directory is refused
 * (PGlite would open it and corrupt it); a lock left by a dead process is taken over. Local mode holds a second
 * one (its own file), since it may run on a database another process serves.
 */
/** Lock files this process holds (a lock naming our own pid but not in here is left by an earlier process). */
const heldLocks = new Set<string>();

export function acquireDataDirLock(dir: string, file = 'duo-desk.lock'): () => void {
  const path = join(dir, file);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      // A lock this process holds is not stale even though it names our pid.
      if (heldLocks.has(path)) throw Object.assign(new Error('held here'), { code: 'EEXIST' });
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      heldLocks.add(path);
      const release = () => {
        heldLocks.delete(path);
        try {
          if (readFileSync(path, 'utf8') === String(process.pid)) rmSync(path);
        } catch {
          // already gone
        }
      };
      process.once('exit', release);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = heldLocks.has(path) ? process.pid : Number(readFileSync(path, 'utf8').trim());
      if (
        heldLocks.has(path) ||
        (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder))
      ) {
        throw new AppError(
          'DATA_DIR_LOCKED',
          `The data directory ${dir} is in use by another duo-desk process (pid ${holder}). Stop it, or set DUO_DESK_DATA_DIR to another directory, or set DATABASE_URL to share a real PostgreSQL server.`,
        );
      }
      rmSync(path, { force: true }); // stale lock from a process that is gone
    }
  }
  throw new AppError('DATA_DIR_LOCKED', `Could not lock the data directory ${dir}.`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
