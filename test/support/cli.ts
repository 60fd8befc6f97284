import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AuditTrail } from '../../src/audit/trail.js';
import type { Clock } from '../../src/clock.js';
import type { Database } from '../../src/db/database.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { createMemoryLogger } from '../../src/log.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `duo-desk` CLI (`node --import tsx src/app/cli.ts …`) as a child process against
 * `databaseUrl`, with a minimal environment (no Slack or Duo credentials).
 */
export function runCli(databaseUrl: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/app/cli.ts', ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 120_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** An audit trail writing straight to a test database (no channel mirror), on the given clock. */
export function directAuditTrail(db: Database, clock: Clock): AuditTrail {
  return new AuditTrail(clock, new JobQueue(db, clock, createMemoryLogger('warn')), { mirrorToChannel: false });
}
