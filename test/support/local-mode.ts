import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalMode, startLocalMode } from '../../src/app/local.js';
import { loadConfig } from '../../src/config.js';
import { createMemoryLogger } from '../../src/log.js';
import { freshDatabase } from './db.js';
import { assertNoSecretLeaks } from './secret-scan.js';

/**
 * Local mode as `npm start` runs it (src/app/local.ts: the stand-in workspace, the Duo simulator, the workspace page
 * on the bot's own port, the console), on a test database, a scratch data directory and an ephemeral port.
 */
export interface LocalModeHarness {
  local: LocalMode;
  /** `http://127.0.0.1:PORT` */
  base: string;
  dataDir: string;
  logger: ReturnType<typeof createMemoryLogger>;
  /** Stops everything, after the suite's leak scan. */
  close(): Promise<void>;
}

export async function startLocalModeHarness(): Promise<LocalModeHarness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'duo-desk-local-'));
  const db = await freshDatabase();
  const logger = createMemoryLogger('debug');
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DUO_DESK_DATA_DIR: dataDir, LOG_LEVEL: 'debug' });
  const local = await startLocalMode(config, logger, { database: db });
  return {
    local,
    base: local.pageUrl.replace(/\/$/, ''),
    dataDir,
    logger,
    async close() {
      const leak = await assertNoSecretLeaks({
        runtime: local.runtime,
        slack: local.slack,
        duo: local.duoSim!,
        logger,
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      await local.stop();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
      if (leak) throw leak;
    },
  };
}
