import { z } from 'zod';
import { AppError } from './errors.js';

/**
 * The environment, checked once at start-up. Every problem is reported at once, naming the
 * variable, in plain words. Secret values are never echoed back (zod issues only carry the
 * path and our own messages).
 */

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);
export const isLoopbackHost = (host: string): boolean =>
  LOOPBACK_HOSTS.has(host.toLowerCase()) || /^127(\.\d{1,3}){3}$/.test(host);

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/i;

/** DUO_HOST: a bare hostname (HTTPS implied) or an http(s) URL with a port; plain http only to loopback. */
export const duoHostSchema = z.string().superRefine((value, ctx) => {
  const problem = describeDuoHostProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export function describeDuoHostProblem(value: string): string | undefined {
  if (/^https?:\/\//i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return 'is not a valid URL; use a hostname such as api-xxxxxxxx.duosecurity.com or a URL such as https://duo.example:8443';
    }
    if (url.pathname !== '/' || url.search || url.hash || url.username)
      return 'must be a bare host or scheme://host:port, with no path, query or credentials';
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (url.protocol === 'http:' && !isLoopbackHost(host))
      return 'uses plain http to a host that is not loopback; use https (plain http is only allowed to 127.0.0.1 or localhost, for the simulator)';
    return undefined;
  }
  if (!HOSTNAME.test(value))
    return 'is not a valid hostname; expected something like api-xxxxxxxx.duosecurity.com (or an https:// URL with a port)';
  return undefined;
}

/** DUO_HOST naming this machine: the Duo simulator (`duo-desk sim`), not a tenant. */
function pointsAtLoopback(value: string): boolean {
  try {
    return /^https?:\/\//i.test(value) && isLoopbackHost(new URL(value).hostname.replace(/^\[|\]$/g, ''));
  } catch {
    return false;
  }
}

const channelId = z
  .string()
  .regex(/^[CGD][A-Z0-9]{6,}$/, 'must be a Slack channel id such as C0123ABCDEF (not a #name)');

const base64Key = z
  .string()
  .refine((s) => Buffer.from(s, 'base64').length === 32, 'must be 32 random bytes, base64-encoded');

const postgresUrl = z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL');

const optionalString = z
  .string()
  .trim()
  .transform((s) => (s === '' ? undefined : s))
  .optional();

const envSchema = z
  .object({
    NODE_ENV: optionalString,
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).optional(),
    LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
    PORT: z.coerce
      .number({ message: 'must be a number' })
      .int('must be a whole number')
      .min(0, 'must be between 0 and 65535')
      .max(65535, 'must be between 0 and 65535')
      .default(3000),
    HOST: optionalString,
    SLACK_SIGNING_SECRET: optionalString,
    SLACK_BOT_TOKEN: optionalString.pipe(
      z
        .string()
        .regex(/^xoxb-/, 'must be a bot token starting with xoxb-')
        .optional(),
    ),
    SLACK_APP_TOKEN: optionalString.pipe(
      z
        .string()
        .regex(/^xapp-/, 'must be an app-level token starting with xapp-')
        .optional(),
    ),
    SLACK_API_URL: optionalString.pipe(z.url('must be a URL such as https://slack.com/api/').optional()),
    DUO_IKEY: optionalString,
    DUO_SKEY: optionalString,
    DUO_HOST: optionalString.pipe(duoHostSchema.optional()),
    DATABASE_URL: optionalString.pipe(postgresUrl.optional()),
    MIGRATION_DATABASE_URL: optionalString.pipe(postgresUrl.optional()),
    DUO_DESK_DATA_DIR: optionalString,
    DUO_DESK_AUDIT_CHANNEL: optionalString.pipe(channelId.optional()),
    DUO_DESK_APPROVAL_CHANNEL: optionalString.pipe(channelId.optional()),
    /** 'yes': local mode may use a real Duo tenant (DUO_* pointing elsewhere than loopback). */
    DUO_DESK_LOCAL_REAL_DUO: optionalString.pipe(z.enum(['yes'], 'must be yes (or unset)').optional()),
    DUO_DESK_ENCRYPTION_KEY: optionalString.pipe(base64Key.optional()),
    DUO_DESK_AUDIT_KEY: optionalString.pipe(base64Key.optional()),
    /** Duo's synced directories, for one-user syncs: KEY=Name pairs, comma-separated (keys from Duo's directory page). */
    DUO_DESK_DIRECTORIES: optionalString.pipe(
      z
        .string()
        .refine(
          (s) => s.split(',').every((p) => /^\s*[A-Z0-9]{10,40}\s*=\s*[^=,]{1,80}$/.test(p)),
          'must be KEY=Name pairs separated by commas, such as DDABCDEF0123456789AB=Entra ID',
        )
        .optional(),
    ),
    DUO_DESK_AUDIT_KEYS_RETIRED: optionalString.pipe(
      z
        .string()
        .refine(
          (s) => s.split(',').every((k) => Buffer.from(k.trim(), 'base64').length === 32),
          'must be a comma-separated list of 32-byte keys, base64-encoded',
        )
        .optional(),
    ),
    /** GET /metrics answers only with `Authorization: Bearer <METRICS_TOKEN>`. */
    METRICS_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
    /** /metrics on its own port (e.g. reachable only from the monitoring network) instead of PORT. */
    METRICS_PORT: z.coerce
      .number({ message: 'must be a number' })
      .int('must be a whole number')
      .min(0, 'must be between 0 and 65535')
      .max(65535, 'must be between 0 and 65535')
      .optional(),
  })
  .superRefine((env, ctx) => {
    const slackAny = env.SLACK_SIGNING_SECRET || env.SLACK_BOT_TOKEN || env.SLACK_APP_TOKEN;
    if (slackAny) {
      if (!env.SLACK_BOT_TOKEN)
        ctx.addIssue({ code: 'custom', path: ['SLACK_BOT_TOKEN'], message: 'is required when Slack is configured' });
      if (!env.SLACK_APP_TOKEN && !env.SLACK_SIGNING_SECRET)
        ctx.addIssue({
          code: 'custom',
          path: ['SLACK_SIGNING_SECRET'],
          message: 'is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)',
        });
    }
    const duo = [env.DUO_IKEY, env.DUO_SKEY, env.DUO_HOST];
    if (duo.some(Boolean) && !duo.every(Boolean)) {
      for (const name of ['DUO_IKEY', 'DUO_SKEY', 'DUO_HOST'] as const)
        if (!env[name])
          ctx.addIssue({
            code: 'custom',
            path: [name],
            message: 'is required when any of DUO_IKEY, DUO_SKEY, DUO_HOST is set',
          });
    }
    if (env.MIGRATION_DATABASE_URL && !env.DATABASE_URL)
      ctx.addIssue({
        code: 'custom',
        path: ['DATABASE_URL'],
        message: "is required with MIGRATION_DATABASE_URL (the app's own, non-owner role)",
      });
    if (slackAny && !env.DUO_DESK_AUDIT_CHANNEL && env.NODE_ENV === 'production')
      ctx.addIssue({
        code: 'custom',
        path: ['DUO_DESK_AUDIT_CHANNEL'],
        message: 'is required in production: every audit event is mirrored there',
      });
    if (slackAny && !env.DUO_IKEY && env.NODE_ENV === 'production')
      ctx.addIssue({
        code: 'custom',
        path: ['DUO_HOST'],
        message: 'is required in production (with DUO_IKEY and DUO_SKEY)',
      });
  });

export type Env = z.infer<typeof envSchema>;

/**
 * What only starting the server refuses (the command line, run beside a production instance with only
 * DATABASE_URL, starts no local mode): local mode in production, and local mode against a real tenant.
 */
function servingProblems(env: Env): Array<{ variable: string; message: string }> {
  const slackAny = env.SLACK_SIGNING_SECRET || env.SLACK_BOT_TOKEN || env.SLACK_APP_TOKEN;
  const out: Array<{ variable: string; message: string }> = [];
  // Local mode seeds a demo owner and answers a console anyone on this machine can reach: never in production.
  if (env.NODE_ENV === 'production' && !slackAny)
    out.push({
      variable: 'SLACK_BOT_TOKEN',
      message:
        'is required with NODE_ENV=production (with SLACK_SIGNING_SECRET, or SLACK_APP_TOKEN for Socket Mode): without Slack variables duo-desk would start local mode, which is for trying it out',
    });
  else if (!slackAny && env.DUO_HOST && !pointsAtLoopback(env.DUO_HOST) && !env.DUO_DESK_LOCAL_REAL_DUO)
    out.push({
      variable: 'DUO_DESK_LOCAL_REAL_DUO',
      message:
        'must be yes to run local mode against a real Duo tenant: DUO_IKEY, DUO_SKEY and DUO_HOST are set but no Slack variables are, so local mode (with a demo owner and its local console) would change real Duo users. Set the SLACK_* variables for a real workspace, unset DUO_* to use the simulator, or set DUO_DESK_LOCAL_REAL_DUO=yes',
    });
  return out;
}

export interface Config {
  port: number;
  host: string | undefined;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  logFormat: 'json' | 'pretty';
  /** 'local' runs against the local Slack stand-in; 'http' and 'socket' against real Slack. */
  slackMode: 'local' | 'http' | 'socket';
  slack: {
    signingSecret: string | undefined;
    botToken: string | undefined;
    appToken: string | undefined;
    apiUrl: string | undefined;
  };
  /** undefined: local mode starts the Duo simulator. */
  duo: { ikey: string; skey: string; host: string } | undefined;
  databaseUrl: string | undefined;
  /** An owner role for migrations; the DATABASE_URL role then gets only what the app needs. */
  migrationDatabaseUrl: string | undefined;
  dataDir: string;
  auditChannel: string | undefined;
  approvalChannel: string | undefined;
  encryptionKey: string | undefined;
  /** Links the audit chain and signs checkpoints; required outside local mode. */
  auditKey: string | undefined;
  /** Earlier audit keys, needed only to verify the events they linked. */
  auditKeysRetired: string[];
  /** /metrics: with a token on PORT, or on its own port; neither: not served. */
  metricsToken: string | undefined;
  metricsPort: number | undefined;
  /** Duo's synced directories (DUO_DESK_DIRECTORIES), for one-user syncs. */
  directories?: DirectoryConfig[];
}

export interface DirectoryConfig {
  key: string;
  name: string;
}

/**
 * Parses the environment; throws CONFIG_INVALID listing every problem, naming each variable. `serving: false`
 * (the command line) leaves out the checks that only concern starting the server.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, opts: { serving?: boolean } = {}): Config {
  const parsed = envSchema.safeParse(env);
  const issues = parsed.success
    ? opts.serving === false
      ? []
      : servingProblems(parsed.data)
    : parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? 'environment'), message: i.message }));
  if (!parsed.success || issues.length) {
    const unique = [...new Set(issues.map((i) => `  - ${i.variable} ${i.message}`))];
    throw new AppError('CONFIG_INVALID', `Configuration problems:\n${unique.join('\n')}`, {
      details: { variables: [...new Set(issues.map((i) => i.variable))] },
    });
  }
  const e = parsed.data;
  const slackMode = e.SLACK_APP_TOKEN ? 'socket' : e.SLACK_BOT_TOKEN ? 'http' : 'local';
  const production = e.NODE_ENV === 'production';
  return {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL ?? 'info',
    logFormat: e.LOG_FORMAT ?? (production ? 'json' : 'pretty'),
    slackMode,
    slack: {
      signingSecret: e.SLACK_SIGNING_SECRET,
      botToken: e.SLACK_BOT_TOKEN,
      appToken: e.SLACK_APP_TOKEN,
      apiUrl: e.SLACK_API_URL,
    },
    duo: e.DUO_IKEY && e.DUO_SKEY && e.DUO_HOST ? { ikey: e.DUO_IKEY, skey: e.DUO_SKEY, host: e.DUO_HOST } : undefined,
    databaseUrl: e.DATABASE_URL,
    migrationDatabaseUrl: e.MIGRATION_DATABASE_URL,
    dataDir: e.DUO_DESK_DATA_DIR ?? '.data',
    auditChannel: e.DUO_DESK_AUDIT_CHANNEL,
    approvalChannel: e.DUO_DESK_APPROVAL_CHANNEL,
    encryptionKey: e.DUO_DESK_ENCRYPTION_KEY,
    auditKey: e.DUO_DESK_AUDIT_KEY,
    auditKeysRetired: (e.DUO_DESK_AUDIT_KEYS_RETIRED ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean),
    directories: (e.DUO_DESK_DIRECTORIES ?? '')
      .split(',')
      .filter((p) => p.trim())
      .map((p) => {
        const [key = '', ...name] = p.split('=');
        return { key: key.trim(), name: name.join('=').trim() };
      }),
    metricsToken: e.METRICS_TOKEN,
    metricsPort: e.METRICS_PORT,
  };
}
