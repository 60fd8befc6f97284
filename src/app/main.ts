import { plainWords } from '../../views/format.js';
import { explain } from '../../views/problems.js';
import { type Config, loadConfig } from '../config.js';
import { describeDatabaseUrl } from '../db/database.js';
import { isAppError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { startRuntime } from './runtime.js';

/** `npm start`: real Slack when SLACK_* is set (HTTP or Socket Mode), else local mode. */
export async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (isAppError(e) && e.code === 'CONFIG_INVALID') {
      process.stderr.write(`duo-desk cannot start.\n${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  try {
    if (config.slackMode === 'local') await runLocal(config, logger);
    else await runConnected(config, logger);
  } catch (e) {
    if (isAppError(e)) {
      process.stderr.write(`duo-desk cannot start: ${e.problem ? explain(e, plainWords) : e.message}\n`);
      process.exit(2);
    }
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      process.stderr.write(
        `duo-desk cannot start: port ${config.port} is already in use (another duo-desk?). Stop it, or set PORT to a free port.\n`,
      );
      process.exit(2);
    }
    logger.error('duo-desk failed to start', { err: e });
    process.exit(1);
  }
}

async function runConnected(config: Config, logger: Logger) {
  if (!config.duo) throw new Error('DUO_IKEY, DUO_SKEY and DUO_HOST are required with a real Slack workspace');
  const runtime = await startRuntime({ config, logger });
  logger.info('duo-desk is running', {
    mode: config.slackMode,
    port: runtime.slack.port,
    team: runtime.slack.teamId,
    database: runtime.db.kind === 'embedded' ? `embedded (${config.dataDir})` : describeDatabaseUrl(runtime.db.url),
  });
  onShutdown(logger, () => runtime.stop());
}

async function runLocal(config: Config, logger: Logger) {
  // Loaded only in local mode: it brings the Slack stand-in and the Duo simulator, which production never needs.
  const { localModeBanner, startLocalMode } = await import('./local.js');
  const local = await startLocalMode(config, logger);
  process.stdout.write(localModeBanner(local, config));
  onShutdown(logger, () => local.stop());
}

function onShutdown(logger: Logger, stop: () => Promise<void>): (signal: string) => void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    // Requests in flight and running jobs get about 9 s (runtime.stop); past 12 s something hangs: exit anyway.
    setTimeout(() => {
      logger.error('shutdown took longer than 12 s; exiting');
      process.exit(1);
    }, 12_000).unref();
    stop()
      .then(() => process.exit(0))
      .catch((e) => {
        logger.error('shutdown failed', { err: e });
        process.exit(1);
      });
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGHUP', () => handler('SIGHUP'));
  // `kill <pid of npm start>` does not reach us (npm passes no signal on). `npm start` execs node, so npm is our
  // parent: when it goes, we are re-parented and stop as on SIGTERM, rather than holding the port and the data.
  const parent = process.ppid;
  if (parent > 1)
    setInterval(() => {
      if (process.ppid !== parent) handler('parent exited');
    }, 1000).unref();
  return handler;
}

await main();
