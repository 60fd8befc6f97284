import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { webApi } from '@slack/bolt';
import { loadAuditKeyring } from '../audit/keys.js';
import { type Config, loadConfig } from '../config.js';
import { type Database, openDatabase } from '../db/database.js';
import { AuditEvent, Responder } from '../db/entities.js';
import { checkAuditPrivileges } from '../db/privileges.js';
import { DuoAdminClient } from '../duo/client.js';
import { isDuoError } from '../duo/errors.js';
import type { DuoAttempt } from '../duo/transport.js';
import { isAppError } from '../errors.js';
import { loadKey } from '../key-material.js';
import { createLogger, type Logger } from '../log.js';
import { SecretBox } from '../secret-box.js';
import { packageRoot } from './package-root.js';

/**
 * `duo-desk doctor`: what an installer gets wrong, found before a help-desk agent does. Each check says what it
 * found and, when it fails, what to do. Reads only: it posts nothing, changes nothing in Duo, migrates nothing.
 */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

export interface DoctorOptions {
  config: Config;
  logger?: Logger;
  /** The manifest whose scopes the bot token should have (default: manifest.yml of this installation). */
  manifest?: string;
  /** Largest tolerated difference between this machine's clock and Duo's. */
  maxClockSkewMs?: number;
  now?: () => number;
}

/** The bot scopes manifest.yml asks for (oauth_config.scopes.bot), read without a YAML library (production has none). */
export function manifestBotScopes(manifest: string): string[] {
  const lines = manifest.split('\n');
  const start = lines.findIndex(
    (l, i) => /^\s+bot:\s*$/.test(l) && lines.slice(0, i).some((x) => /^\s+scopes:/.test(x)),
  );
  if (start < 0) return [];
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    const m = /^\s+-\s+([A-Za-z0-9:._-]+)/.exec(line);
    if (!m) break;
    out.push(m[1]!);
  }
  return out;
}

const pass = (name: string, detail: string): DoctorCheck => ({ name, ok: true, detail });
const problem = (name: string, detail: string, fix: string): DoctorCheck => ({ name, ok: false, detail, fix });

export async function runDoctor(opts: DoctorOptions): Promise<DoctorCheck[]> {
  const { config } = opts;
  const logger = opts.logger ?? createLogger({ level: 'error', format: 'pretty' });
  const checks: DoctorCheck[] = [];
  checks.push(...(await slackChecks(opts)));
  checks.push(...(await duoChecks(opts, logger)));
  let db: Database | undefined;
  if (!config.databaseUrl && !existsSync(config.dataDir)) {
    checks.push(
      problem(
        'database',
        `DATABASE_URL is not set and there is no embedded database in ${config.dataDir}`,
        'set DATABASE_URL to the app role’s postgres:// URL (and MIGRATION_DATABASE_URL to the owner’s)',
      ),
    );
    return checks;
  }
  try {
    db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, logger, migrate: false });
  } catch (e) {
    checks.push(
      problem(
        'database',
        `cannot connect: ${(e as Error).message}`,
        'check DATABASE_URL (host, port, database, role and password) and that PostgreSQL is running',
      ),
    );
  }
  if (db)
    try {
      checks.push(...(await databaseChecks(db, config)));
    } finally {
      await db.close();
    }
  return checks;
}

async function slackChecks(opts: DoctorOptions): Promise<DoctorCheck[]> {
  const { config } = opts;
  if (!config.slack.botToken)
    return [
      problem(
        'slack.token',
        'SLACK_BOT_TOKEN is not set',
        'set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) from the app’s OAuth & Permissions page',
      ),
    ];
  const client = new webApi.WebClient(config.slack.botToken, {
    ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}),
    retryConfig: { retries: 0 },
    logLevel: webApi.LogLevel.ERROR,
  });
  const out: DoctorCheck[] = [];
  let granted: string[];
  try {
    const auth = await client.auth.test();
    granted = auth.response_metadata?.scopes ?? [];
    out.push(pass('slack.token', `bot token works (team ${auth.team_id}, bot user ${auth.user_id})`));
  } catch (e) {
    return [
      problem(
        'slack.token',
        `auth.test failed: ${slackError(e)}`,
        'set SLACK_BOT_TOKEN to the current Bot User OAuth Token (reinstalling the app issues a new one)',
      ),
    ];
  }
  const manifest = opts.manifest ?? readFileSync(new URL('manifest.yml', packageRoot()), 'utf8');
  const wanted = manifestBotScopes(manifest);
  const missing = wanted.filter((s) => !granted.includes(s));
  out.push(
    missing.length
      ? problem(
          'slack.scopes',
          `the bot token lacks ${missing.join(', ')} (manifest.yml asks for ${wanted.length} scopes)`,
          `add ${missing.join(', ')} under OAuth & Permissions → Bot Token Scopes (or update the app from manifest.yml), then reinstall the app`,
        )
      : pass('slack.scopes', `the bot token has all ${wanted.length} scopes of manifest.yml`),
  );
  const channels: Array<[string, string, string | undefined]> = [
    ['slack.audit_channel', 'DUO_DESK_AUDIT_CHANNEL', config.auditChannel],
    ['slack.approval_channel', 'DUO_DESK_APPROVAL_CHANNEL', config.approvalChannel],
  ];
  for (const [name, variable, channel] of channels) {
    if (!channel) {
      out.push(
        problem(name, `${variable} is not set`, `set ${variable} to the channel's id (C…; channel details → bottom)`),
      );
      continue;
    }
    try {
      // Reading the history needs membership for a bot: a member with chat:write can post there.
      await client.conversations.history({ channel, limit: 1 });
      out.push(
        missing.includes('chat:write')
          ? problem(name, `the bot is in ${channel} but cannot post (no chat:write)`, 'add the chat:write scope')
          : pass(name, `the bot is a member of ${channel} and can post there`),
      );
    } catch (e) {
      const error = slackError(e);
      out.push(
        problem(
          name,
          error === 'not_in_channel'
            ? `the bot is not a member of ${channel} (${variable}): it cannot post there`
            : `cannot read ${channel} (${variable}): ${error}`,
          error === 'channel_not_found'
            ? `check ${variable}: no channel with that id is visible to the bot (for a private channel, invite the bot first)`
            : `invite the bot: in ${channel} type /invite @duo-desk`,
        ),
      );
    }
  }
  return out;
}

function slackError(e: unknown): string {
  const data = (e as { data?: { error?: string } }).data;
  return data?.error ?? (e as Error).message;
}

async function duoChecks(opts: DoctorOptions, logger: Logger): Promise<DoctorCheck[]> {
  const { config } = opts;
  if (!config.duo)
    return [
      problem(
        'duo.credentials',
        'DUO_IKEY, DUO_SKEY and DUO_HOST are not set',
        'create an Admin API application in the Duo Admin Panel and set its integration key, secret key and API hostname',
      ),
    ];
  let lastDate: string | undefined;
  let lastAt = 0;
  const now = opts.now ?? Date.now;
  const client = new DuoAdminClient({
    ...config.duo,
    logger,
    timeoutMs: 10_000,
    maxRateLimitRetries: 1,
    readRetries: 0,
    observe: (a: DuoAttempt) => {
      if (a.serverDate) {
        lastDate = a.serverDate;
        lastAt = now();
      }
    },
  });
  const out: DoctorCheck[] = [];
  let credentialsOk = false;
  try {
    await client.getInfoSummary();
    credentialsOk = true;
    out.push(pass('duo.credentials', `a signed read of /admin/v1/info/summary on ${config.duo.host} succeeded`));
  } catch (e) {
    out.push(duoProblem('duo.credentials', e, 'Grant read information'));
  }
  // Duo's Date header, also on a refused request: a wrong clock makes every signature fail.
  const maxSkew = opts.maxClockSkewMs ?? 60_000;
  if (lastDate) {
    const skewMs = lastAt - Date.parse(lastDate);
    const seconds = Math.round(skewMs / 1000);
    out.push(
      Math.abs(skewMs) > maxSkew
        ? problem(
            'duo.clock',
            `this machine's clock is ${Math.abs(seconds)} s ${seconds > 0 ? 'ahead of' : 'behind'} Duo's (Date header)${
              credentialsOk ? '' : ': Duo refuses requests dated more than a few minutes off, whatever the keys'
            }`,
            'synchronise the clock (NTP: timedatectl set-ntp true, or chrony), then run doctor again',
          )
        : pass('duo.clock', `clock within ${Math.max(1, Math.abs(seconds))} s of Duo's`),
    );
  } else
    out.push(
      problem(
        'duo.clock',
        'Duo sent no Date header (no answer)',
        'check DUO_HOST and that this machine can reach it over HTTPS',
      ),
    );
  if (credentialsOk)
    try {
      await client.getUsersByUsername('duo-desk-doctor-probe');
      out.push(pass('duo.read_users', 'the application may read users (Grant read resource)'));
    } catch (e) {
      out.push(duoProblem('duo.read_users', e, 'Grant read resource'));
    }
  // Duo's own settings are the ceiling over duo-desk's (src/usecases/duo-settings.ts): unread, duo-desk allows
  // nothing they could forbid (Help Desk bypass codes and enrollment emails, user managers' bypass status).
  if (credentialsOk)
    try {
      await client.getSettings();
      out.push(pass('duo.settings', "the tenant's settings are readable (Grant settings)"));
    } catch (e) {
      out.push(
        isDuoError(e) && e.code === 'DUO_FORBIDDEN'
          ? problem(
              'duo.settings',
              "the tenant's settings are not readable, so duo-desk refuses what they could forbid (Help Desk bypass codes and enrollment emails, user managers' bypass status)",
              'tick Grant settings for the Admin API application in the Duo Admin Panel',
            )
          : duoProblem('duo.settings', e, 'Grant settings'),
      );
    }
  return out;
}

function duoProblem(name: string, e: unknown, grant: string): DoctorCheck {
  if (!isDuoError(e)) return problem(name, (e as Error).message, 'check DUO_HOST and the network');
  switch (e.code) {
    case 'DUO_INVALID_SIGNATURE':
      return problem(
        name,
        'Duo refused the signature (401, code 40103)',
        'check DUO_IKEY and DUO_SKEY against the Admin API application (copy the secret key again) and the clock',
      );
    case 'DUO_FORBIDDEN':
      return problem(
        name,
        'Duo answered 403: the Admin API application lacks a permission',
        `tick "${grant}" on the Admin API application in the Duo Admin Panel`,
      );
    case 'DUO_UNAVAILABLE':
    case 'DUO_TIMEOUT':
      return problem(name, `Duo did not answer: ${e.message}`, 'check DUO_HOST and that this machine reaches it');
    default:
      return problem(name, e.message, 'check the Duo Admin API application and DUO_HOST');
  }
}

async function databaseChecks(db: Database, config: Config): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [];
  const pending = await db.orm.getMigrator().getPendingMigrations();
  out.push(
    pending.length
      ? problem(
          'db.migrations',
          `${pending.length} migration(s) not applied: ${pending.map((m) => m.name).join(', ')}`,
          'run `duo-desk migrate` (with MIGRATION_DATABASE_URL set to the owner role), or start duo-desk once',
        )
      : pass('db.migrations', 'all migrations applied'),
  );
  if (pending.length) return out;
  const em = db.em.fork();
  const privileges = await checkAuditPrivileges(em);
  if (db.kind === 'embedded')
    out.push(pass('db.privileges', 'embedded database (one role): use PostgreSQL with two roles in production'));
  else if (privileges.problems.length)
    for (const p of privileges.problems)
      out.push(
        problem(
          'db.privileges',
          p.split(';')[0]!,
          'run migrations as an owner role (MIGRATION_DATABASE_URL) and give DATABASE_URL a role that owns nothing (README: Database roles)',
        ),
      );
  else
    out.push(pass('db.privileges', `the app's role ${privileges.role} can append to the audit trail, not rewrite it`));
  out.push(...(await keyChecks(em, config)));
  return out;
}

async function keyChecks(em: ReturnType<Database['em']['fork']>, config: Config): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [];
  const local = config.slackMode === 'local';
  let box: SecretBox | undefined;
  try {
    box = new SecretBox(
      loadKey({
        variable: 'DUO_DESK_ENCRYPTION_KEY',
        fileName: 'encryption.key',
        configured: config.encryptionKey,
        local,
        dataDir: config.dataDir,
        logger: createLogger({ level: 'error', format: 'pretty' }),
      }),
    );
  } catch (e) {
    out.push(
      problem(
        'keys.encryption',
        isAppError(e) ? e.message : String(e),
        'set DUO_DESK_ENCRYPTION_KEY to the key this installation has used (openssl rand -base64 32 only for a new one)',
      ),
    );
  }
  if (box) {
    const sealed = await em.findOne(Responder, { totpSecret: { $ne: null } }, { orderBy: { userId: 'asc' } });
    if (!sealed?.totpSecret)
      out.push(pass('keys.encryption', 'DUO_DESK_ENCRYPTION_KEY present (no sealed secret yet)'));
    else
      try {
        box.open(sealed.totpSecret, { teamId: sealed.teamId, userId: sealed.userId });
        out.push(pass('keys.encryption', 'DUO_DESK_ENCRYPTION_KEY opens the stored step-up secrets'));
      } catch {
        out.push(
          problem(
            'keys.encryption',
            'DUO_DESK_ENCRYPTION_KEY does not open the stored step-up secrets',
            'restore the encryption key this installation used (responders would otherwise have to enroll again)',
          ),
        );
      }
  }
  let ring: ReturnType<typeof loadAuditKeyring> | undefined;
  try {
    ring = loadAuditKeyring({
      configured: config.auditKey,
      retired: config.auditKeysRetired,
      local,
      dataDir: config.dataDir,
      logger: createLogger({ level: 'error', format: 'pretty' }),
    });
  } catch (e) {
    out.push(
      problem(
        'keys.audit',
        isAppError(e) ? e.message : String(e),
        'set DUO_DESK_AUDIT_KEY (32 random bytes, base64) and keep a copy',
      ),
    );
  }
  if (ring) {
    const last = await em.findOne(AuditEvent, { keyId: { $ne: null } }, { orderBy: { id: 'desc' } });
    const keyId = last?.keyId;
    out.push(
      keyId && !ring.get(keyId)
        ? problem(
            'keys.audit',
            'DUO_DESK_AUDIT_KEY is not the key that linked the latest audit events (nor a retired one)',
            'restore DUO_DESK_AUDIT_KEY, or list the earlier key in DUO_DESK_AUDIT_KEYS_RETIRED after a rotation',
          )
        : pass('keys.audit', 'DUO_DESK_AUDIT_KEY present and matches the audit chain'),
    );
  }
  return out;
}

export function formatDoctor(checks: DoctorCheck[]): string {
  const lines = checks.map(
    (c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}${c.fix ? `\n       fix: ${c.fix}` : ''}`,
  );
  const failed = checks.filter((c) => !c.ok).length;
  lines.push(failed ? `${failed} problem(s) found.` : 'All checks passed.');
  return lines.join('\n');
}

export async function doctorCli(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' } } });
  let checks: DoctorCheck[];
  try {
    checks = await runDoctor({ config: loadConfig(process.env, { serving: false }) });
  } catch (e) {
    if (!isAppError(e) || e.code !== 'CONFIG_INVALID') throw e;
    checks = [problem('config', e.message.replace(/\n\s*/g, ' '), 'fix the variables named above')];
  }
  process.stdout.write(
    `${values.json ? JSON.stringify({ ok: checks.every((c) => c.ok), checks }, null, 2) : formatDoctor(checks)}\n`,
  );
  return checks.every((c) => c.ok) ? 0 : 1;
}
