import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import type { Logger } from '../log.js';

/** Bolt's logger interface over ours, so Bolt's own lines are structured and redacted too. */
export function boltLogger(logger: Logger): BoltLogger {
  let level: LogLevel = LogLevel.INFO;
  const join = (msgs: unknown[]) => msgs.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  // The Web API client and Bolt's ack log whole bodies at debug; a message body can carry a confirmation
  // or bypass code (6/9 digits no pattern can tell from other numbers), so only the line's label is kept.
  const noBody = (s: string) =>
    s
      .replace(/^(http request (?:body|result)): [\s\S]*$/, '$1: [omitted]')
      .replace(/^(ack\(\) [^(]*\(body): [\s\S]*$/, '$1: [omitted])');
  return {
    debug: (...m: unknown[]) => logger.debug(noBody(join(m)), { source: 'bolt' }),
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
