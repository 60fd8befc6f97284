import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import type { Logger } from '../log.js';

/** Bolt's logger interface over ours, so Bolt's own lines are structured and redacted too. */
export function boltLogger(logger: Logger): BoltLogger {
  let level: LogLevel = LogLevel.INFO;
  const join = (msgs: unknown[]) => msgs.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  return {
    debug: (...m: unknown[]) => logger.debug(join(m), { source: 'bolt' }),
    info: (...m: unknown[]) => logger.info(join(m), { source: 'bolt' }),
    warn: (...m: unknown[]) => logger.warn(join(m), { source: 'bolt' }),
    error: (...m: unknown[]) => logger.error(join(m), { source: 'bolt' }),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
