/**
 * Structured logging: JSON lines in production, one readable line per event locally.
 * Every record passes through `redact`, which masks values under secret-looking keys
 * and anything that looks like a Slack token, a Duo Authorization header or a bypass code.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const SECRET_KEY =
  /(secret|token|password|passwd|skey|authorization|cookie|signature|totp|otp|bypass_?codes?|codes|passcode|private_?key|encryption_?key)$/i;
const SECRET_VALUE_PATTERNS: RegExp[] = [
  /xox[abposr]-[A-Za-z0-9-]+/g, // Slack tokens
  /xapp-[A-Za-z0-9-]+/g, // Slack app-level tokens
  /Basic\s+[A-Za-z0-9+/=]{16,}/g, // HTTP Basic (Duo Authorization)
  /otpauth:\/\/[^\s"']+/g, // TOTP provisioning URIs
];

export const REDACTED = '[redacted]';

export function redactString(s: string): string {
  let out = s;
  for (const re of SECRET_VALUE_PATTERNS) out = out.replace(re, REDACTED);
  return out;
}

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[…]';
  if (typeof value === 'string') return redactString(value);
  if (value instanceof Error) {
    const e: Record<string, unknown> = { name: value.name, message: redactString(value.message) };
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) e.code = code;
    if (value.stack) e.stack = redactString(value.stack);
    if (value.cause !== undefined) e.cause = redact(value.cause, depth + 1);
    return e;
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? REDACTED : redact(v, depth + 1);
    return out;
  }
  return value;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: 'json' | 'pretty';
  /** Where lines go; defaults to stderr. Tests pass a collector. */
  sink?: (line: string) => void;
  base?: LogFields;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const min = LEVELS[opts.level ?? 'info'];
  const format = opts.format ?? 'json';
  const sink = opts.sink ?? ((line: string) => process.stderr.write(`${line}\n`));
  const make = (base: LogFields): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
      if (LEVELS[level] < min) return;
      const rec = redact({ ...base, ...fields }) as LogFields;
      const time = new Date().toISOString();
      if (format === 'json') {
        sink(JSON.stringify({ time, level, msg: redactString(msg), ...rec }));
      } else {
        const extra = Object.keys(rec).length ? ` ${JSON.stringify(rec)}` : '';
        sink(`${time.slice(11, 19)} ${level.toUpperCase().padEnd(5)} ${redactString(msg)}${extra}`);
      }
    };
    return {
      debug: (m, f) => emit('debug', m, f),
      info: (m, f) => emit('info', m, f),
      warn: (m, f) => emit('warn', m, f),
      error: (m, f) => emit('error', m, f),
      child: (f) => make({ ...base, ...f }),
    };
  };
  return make(opts.base ?? {});
}

/** A logger that keeps every line in memory (tests scan it for secrets). */
export function createMemoryLogger(level: LogLevel = 'debug'): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level, format: 'json', sink: (l) => lines.push(l) });
  return Object.assign(logger, { lines });
}
