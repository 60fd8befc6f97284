import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from './errors.js';
import type { Logger } from './log.js';

/**
 * A 32-byte key from the environment; in local mode only, one generated into the data directory
 * (mode 0600, with a warning), so a first run needs no set-up. Outside local mode a missing key
 * stops start-up, naming the variable.
 */
export function loadKey(opts: {
  variable: string;
  fileName: string;
  configured: string | undefined;
  local: boolean;
  dataDir: string;
  logger: Logger;
}): Buffer {
  if (opts.configured) return Buffer.from(opts.configured, 'base64');
  if (!opts.local)
    throw new AppError(
      'CONFIG_INVALID',
      `${opts.variable} is required outside local mode: set it to 32 random bytes, base64 (openssl rand -base64 32).`,
    );
  mkdirSync(opts.dataDir, { recursive: true });
  const path = join(opts.dataDir, opts.fileName);
  if (!existsSync(path)) {
    writeFileSync(path, randomBytes(32).toString('base64'), { mode: 0o600 });
    opts.logger.warn(`generated a local key; set ${opts.variable} in production`, { path });
  }
  chmodSync(path, 0o600);
  return Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
}
