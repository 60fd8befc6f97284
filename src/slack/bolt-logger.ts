import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import type { Logger } from '../log.js';

/** Bolt's logger interface over ours, so Bolt's own lines are structured and redacted too. */
export function boltLogger(logger: Logger): BoltLogger {
  let level: LogLevel = LogLevel.INFO;
  const join = (msgs: unknown[]) => msgs.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  // The Web API client, Bolt's ack and the Socket Mode client log whole payloads at debug, inbound and
  // outbound; one can carry a typed TOTP code, a confirmation or bypass code (6/9 digits no pattern can tell
  // from other numbers) or a TOTP key in a view, so only the line's label is kept.
  const noBody = (s: string) =>
    s
      .replace(/^(http request (?:body|result)): [\s\S]*$/, '$1: [omitted]')
      .replace(/^(ack\(\) [^(]*\(body): [\s\S]*$/, '$1: [omitted])')
      .replace(/^(Received a message on the WebSocket): [\s\S]*$/, '$1: [omitted]')
      .replace(/^(Unable to parse an incoming WebSocket message \(will ignore\)): [\s\S]*$/, '$1: [omitted]')
      .replace(/^(Calling ack\(\) - type: [^,]*, envelope_id: [^,]*), data: [\s\S]*$/, '$1, data: [omitted]')
      .replace(/^(Sending a WebSocket message): [\s\S]*$/, '$1: [omitted]');
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
