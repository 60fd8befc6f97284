import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { webApi } from '@slack/bolt';
import { plainWords } from '../../views/format.js';
import { explain } from '../../views/problems.js';
import { checkCheckpoint } from '../audit/checkpoint.js';
import { acknowledgeDbChange, describeOutsideChange, unauditedDbChanges } from '../audit/db-changes.js';
import { exportAudit } from '../audit/export.js';
import { type AuditKeyring, loadAuditKeyring } from '../audit/keys.js';
import { AuditTrail } from '../audit/trail.js';
import { verifyAuditChain } from '../audit/verify.js';
import { type ChannelMessage, readChannel, verifyWitness } from '../audit/witness.js';
import { systemClock } from '../clock.js';
import { type Config, loadConfig } from '../config.js';
import { type Database, openDatabase } from '../db/database.js';
import { formatSettingValue, SETTING_NAMES, settingDefinitions } from '../domain/settings.js';
import { isAppError } from '../errors.js';
import { JobQueue } from '../jobs/queue.js';
import { createLogger } from '../log.js';
import { createRelayClient, SlackChannelPoster } from '../slack/channel-poster.js';
import { newCorrelationId } from '../slack/request-context.js';
import { BUILT_IN_KINDS } from '../usecases/approval-kinds.js';
import { ApprovalKinds } from '../usecases/approval-registry.js';
import { DEFAULT_TUNING } from '../usecases/deps.js';
import { applyGrant, applyRevoke, listResponders, parseRole, parseSlackUserId } from '../usecases/responders.js';
import { changeSetting, loadSettings } from '../usecases/settings.js';
import { applyTotpReset } from '../usecases/step-up.js';
import { LOCAL_CHANNELS, LOCAL_TEAM_ID, localStatePath } from './local-directory.js';
import { packageVersion } from './package-root.js';

const USAGE = `duo-desk <command>

  migrate                                   apply database migrations
  doctor [--json]                           check the installation (Slack scopes and channels, Duo credentials,
                                            grants and clock, database role, migrations, keys); exit 1 on a problem
  --version                                 print the version
  slack --as <U…> ["/duo …"] [--click …]   act in the running local workspace as a person (duo-desk slack --help)
  sim [--port N] [--users N]                run the Duo simulator on its own
  roles grant <slack-user-id> <role> [--team <T…>] [--approver]
  roles revoke <slack-user-id> [--team <T…>]
  roles list [--team <T…>]
  settings list [--team <T…>]
  settings set <name> <value> [--team <T…>]
  mfa reset <slack-user-id> [--team <T…>]   clear a responder's TOTP enrollment (they enroll again with /duo mfa)
  audit verify [--witness] [--since <iso>] [--team <T…>]
                                            check the audit chain (exit 1 naming the first bad event); with
                                            --witness also against the audit channel's posts and checkpoints
  audit checkpoints [--since <iso>] [--team <T…>]
                                            print the audit channel's signed checkpoints as JSON lines (to archive)
  audit acknowledge <change-id> --reason "<text>"
                                            record that a change made outside duo-desk was looked into
  audit export --format csv|json [--since <iso>] [--until <iso>] [--team <T…>]

Roles: owner, administrator, application_manager, user_manager, help_desk, read_only.`;

const out = (s: string) => process.stdout.write(`${s}\n`);
const fail = (s: string, code = 2): never => {
  process.stderr.write(`${s}\n`);
  process.exit(code);
};

export async function cli(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'migrate':
      return withDb(async (db) => {
        out(`migrations up to date (${db.kind === 'embedded' ? 'embedded database' : 'database server'})`);
        return 0;
      });
    case 'slack':
      return slackCommand(rest);
    case 'sim':
      // Dynamically: the simulator belongs to the local-mode sandbox, not to the installed product.
      return (await import('./sandbox.js')).runSimulatorCli(rest);
    case 'roles':
      return rolesCommand(rest);
    case 'settings':
      return settingsCommand(rest);
    case 'audit':
      return auditCommand(rest);
    case 'mfa':
      return mfaCommand(rest);
    case 'version':
    case '--version':
      out(`duo-desk ${packageVersion()}`);
      return 0;
    case 'doctor':
      return (await import('./doctor.js')).doctorCli(rest);
    case undefined:
    case 'help':
    case '--help':
      out(USAGE);
      return 0;
    default:
      out(USAGE);
      return 2;
  }
}

function config(): Config {
  return loadConfig(process.env, { serving: false });
}

async function withDb<T>(fn: (db: Database, cfg: Config) => Promise<T>): Promise<T> {
  const cfg = config();
  const logger = createLogger({ level: 'warn', format: 'pretty' });
  const db = await openDatabase({
    url: cfg.databaseUrl,
    migrationUrl: cfg.migrationDatabaseUrl,
    dataDir: cfg.dataDir,
    logger,
  });
  try {
    return await fn(db, cfg);
  } finally {
    await db.close();
  }
}

function keyring(cfg: Config): AuditKeyring {
  return loadAuditKeyring({
    configured: cfg.auditKey,
    retired: cfg.auditKeysRetired,
    local: cfg.slackMode === 'local',
    dataDir: cfg.dataDir,
    logger: createLogger({ level: 'warn', format: 'pretty' }),
  });
}

/**
 * The CLI acts as the installer: its changes are audited as made by "cli", and mirrored like any
 * other event (the running instance's relay posts them).
 */
function cliDeps(db: Database, cfg: Config) {
  const logger = createLogger({ level: 'warn', format: 'pretty' });
  const jobs = new JobQueue(db, systemClock, logger);
  const audit = new AuditTrail(systemClock, keyring(cfg));
  return {
    config: cfg,
    logger,
    clock: systemClock,
    db,
    duo: undefined as never,
    audit,
    jobs,
    secretBox: undefined as never,
    people: undefined as never,
    tuning: DEFAULT_TUNING,
    approvals: new ApprovalKinds(BUILT_IN_KINDS),
  };
}

async function resolveTeam(flag: string | undefined, cfg: Config): Promise<string> {
  if (flag) return flag;
  if (cfg.slack.botToken) {
    const client = new webApi.WebClient(cfg.slack.botToken, cfg.slack.apiUrl ? { slackApiUrl: cfg.slack.apiUrl } : {});
    const auth = await client.auth.test();
    return String(auth.team_id);
  }
  return LOCAL_TEAM_ID;
}

async function rolesCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { team: { type: 'string' }, approver: { type: 'boolean', default: false } },
  });
  const [verb, user, role] = positionals;
  return withDb(async (db, cfg) => {
    const teamId = await resolveTeam(values.team, cfg);
    const deps = cliDeps(db, cfg);
    const em = db.em.fork();
    if (verb === 'grant') {
      if (!user || !role) fail('usage: duo-desk roles grant <slack-user-id> <role> [--team <T…>] [--approver]');
      const input = {
        teamId,
        userId: parseSlackUserId(user!),
        role: parseRole(role!),
        approver: values.approver ?? false,
      };
      const r = await applyGrant(deps, em, { system: 'cli' }, input, newCorrelationId());
      out(
        `${r.created ? 'granted' : `changed ${r.before} to`} ${input.role}${input.approver ? ' (approver)' : ''} for ${input.userId} in ${teamId}`,
      );
      return 0;
    }
    if (verb === 'revoke') {
      if (!user) fail('usage: duo-desk roles revoke <slack-user-id> [--team <T…>]');
      const r = await applyRevoke(deps, em, { system: 'cli' }, teamId, parseSlackUserId(user!), newCorrelationId());
      out(`revoked ${r.role} from ${user} in ${teamId}`);
      return 0;
    }
    if (verb === 'list') {
      const rows = await listResponders(em, teamId);
      if (!rows.length) out(`no responders in ${teamId} yet: duo-desk roles grant <slack-user-id> owner`);
      for (const r of rows)
        out(
          `${r.userId.padEnd(12)} ${r.role.padEnd(20)} ${r.approver ? 'approver' : '        '} ${r.totpActive ? 'totp' : ''}`,
        );
      return 0;
    }
    return fail('usage: duo-desk roles grant|revoke|list …');
  });
}

async function settingsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { team: { type: 'string' } } });
  const [verb, name, value] = positionals;
  return withDb(async (db, cfg) => {
    const teamId = await resolveTeam(values.team, cfg);
    const em = db.em.fork();
    if (verb === 'list') {
      const s = await loadSettings(em, teamId);
      for (const n of SETTING_NAMES)
        out(`${n.padEnd(44)} ${formatSettingValue(s[n]).padEnd(32)} ${settingDefinitions[n].describe}`);
      return 0;
    }
    if (verb === 'set') {
      if (!name || value === undefined) fail('usage: duo-desk settings set <name> <value>');
      const r = await changeSetting(cliDeps(db, cfg), em, { system: 'cli' }, teamId, name!, value, newCorrelationId());
      out(`${r.name}: ${r.before} -> ${r.after}`);
      return 0;
    }
    return fail('usage: duo-desk settings list|set …');
  });
}

async function mfaCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { team: { type: 'string' } } });
  const [verb, user] = positionals;
  if (verb !== 'reset' || !user) return fail('usage: duo-desk mfa reset <slack-user-id> [--team <T…>]');
  return withDb(async (db, cfg) => {
    const teamId = await resolveTeam(values.team, cfg);
    const userId = parseSlackUserId(user);
    await applyTotpReset(cliDeps(db, cfg), db.em.fork(), { system: 'cli' }, teamId, userId, newCorrelationId());
    out(`cleared the TOTP enrollment of ${userId} in ${teamId}: they enroll again with /duo mfa`);
    return 0;
  });
}

async function auditCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      format: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      team: { type: 'string' },
      witness: { type: 'boolean', default: false },
      reason: { type: 'string' },
    },
  });
  const parseDate = (s: string | undefined, flag: string) => {
    if (s === undefined) return undefined;
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) fail(`${flag} must be an ISO date such as 2026-11-01 or 2026-11-01T08:00:00Z`);
    return d;
  };
  if (positionals[0] === 'verify') {
    const since = parseDate(values.since, '--since');
    return withDb(async (db, cfg) => {
      const keys = keyring(cfg);
      let failed = false;
      const r = await verifyAuditChain(db.em.fork(), keys, { teamId: values.team });
      if (r.ok)
        out(`audit chain intact: ${r.checked} events checked across ${r.teams} installation(s) (${r.keyed} keyed)`);
      else {
        failed = true;
        out(
          `audit chain BROKEN in ${r.teamId} at event #${r.seq}${r.eventId ? ` (row id ${r.eventId})` : ''}: ${r.problem}`,
        );
        out(`${r.checked} events before it checked out`);
      }
      if (values.witness) failed = (await witnessCheck(db, cfg, keys, values.team, since)) || failed;
      const outside = await unauditedDbChanges(db.em.fork());
      if (outside.length) {
        failed = true;
        out(
          `${outside.length} change(s) to responders or settings were made outside duo-desk (no audit event in their transaction):`,
        );
        for (const c of outside) out(`  ${describeOutsideChange(c)}`);
        out('Look into each; then record it with: duo-desk audit acknowledge <change-id> --reason "<what it was>"');
      }
      return failed ? 1 : 0;
    });
  }
  if (positionals[0] === 'checkpoints') {
    const since = parseDate(values.since, '--since');
    const cfg = config();
    const keys = keyring(cfg);
    const { reader, channel, teamId, isOurs } = await witnessReader(cfg, values.team);
    const { checkpoints } = await readChannel(reader.history(channel, since), isOurs, teamId);
    for (const cp of checkpoints.reverse())
      out(
        JSON.stringify({
          team_id: cp.teamId,
          seq: cp.seq,
          link: cp.link,
          signed_at: cp.signedAt.toISOString(),
          key_id: cp.keyId,
          signature: cp.signature,
          channel,
          ts: cp.ts,
          signature_check: checkCheckpoint(keys, cp),
        }),
      );
    return 0;
  }
  if (positionals[0] === 'acknowledge') {
    const id = Number(positionals[1]);
    if (!Number.isInteger(id) || id <= 0 || !values.reason?.trim())
      return fail('usage: duo-desk audit acknowledge <change-id> --reason "<what it was>"');
    return withDb(async (db, cfg) => {
      const teamId = await resolveTeam(values.team, cfg);
      const change = await acknowledgeDbChange(cliDeps(db, cfg).audit, db.em.fork(), {
        changeId: id,
        reason: values.reason!.trim(),
        teamId,
        correlationId: newCorrelationId(),
      });
      out(`acknowledged ${describeOutsideChange(change)}`);
      return 0;
    });
  }
  if (positionals[0] === 'export') {
    const format = values.format;
    if (format !== 'csv' && format !== 'json') return fail('--format must be csv or json');
    const filter = {
      teamId: values.team,
      since: parseDate(values.since, '--since'),
      until: parseDate(values.until, '--until'),
    };
    return withDb(async (db) => {
      for await (const chunk of exportAudit(db.em.fork(), format, filter)) process.stdout.write(chunk);
      return 0;
    });
  }
  return fail(
    'usage: duo-desk audit verify [--witness] | audit acknowledge <change-id> --reason "…" | audit export --format csv|json [--since <iso>] [--until <iso>]',
  );
}

/** Reads the audit channel back and compares it with the database; true when they differ. */
async function witnessCheck(
  db: Database,
  cfg: Config,
  keys: AuditKeyring,
  teamFlag: string | undefined,
  since: Date | undefined,
): Promise<boolean> {
  const { reader, channel, teamId, isOurs } = await witnessReader(cfg, teamFlag);
  const r = await verifyWitness(db.em.fork(), keys, {
    teamId,
    channel,
    messages: reader.history(channel, since),
    isOurs,
    since,
  });
  const counts = `${r.eventsMatched} events and ${r.checkpointsMatched} checkpoints in ${channel} checked against the database`;
  if (r.ok) {
    const waiting = r.notPostedYet ? `; ${r.notPostedYet} newer events not posted yet` : '';
    const unchecked = r.checkpointsUnchecked
      ? `; ${r.checkpointsUnchecked} checkpoints signed with a key not configured`
      : '';
    out(`witness intact: ${counts}${waiting}${unchecked}`);
    return false;
  }
  out(`witness MISMATCH in ${teamId} at event #${r.problems[0]!.seq}: ${r.problems[0]!.problem}`);
  for (const p of r.problems.slice(1, 20)) out(`  also #${p.seq}: ${p.problem}`);
  if (r.problems.length > 20) out(`  … and ${r.problems.length - 20} more`);
  const checkpoints = r.problems.filter((p) => p.kind === 'checkpoint').length;
  out(`${r.problems.length - checkpoints} posted events and ${checkpoints} checkpoint(s) differ from the database`);
  out(counts);
  return true;
}

/** The audit channel read back as duo-desk's bot: only its own posts count. */
async function witnessReader(cfg: Config, teamFlag: string | undefined) {
  const slack = slackForWitness(cfg);
  if (!slack) return fail('reading the audit channel needs SLACK_BOT_TOKEN and DUO_DESK_AUDIT_CHANNEL');
  const client = createRelayClient(webApi.WebClient, slack.botToken, slack.apiUrl);
  const auth = await client.auth.test();
  return {
    reader: new SlackChannelPoster(client),
    channel: slack.channel,
    teamId: teamFlag ?? String(auth.team_id),
    isOurs: (m: ChannelMessage) =>
      (auth.user_id !== undefined && m.user === auth.user_id) || (auth.bot_id !== undefined && m.botId === auth.bot_id),
  };
}

/** The Slack the witness reads: the configured workspace, or the running local mode's stand-in. */
function slackForWitness(cfg: Config): { botToken: string; apiUrl: string | undefined; channel: string } | undefined {
  if (cfg.slack.botToken && cfg.auditChannel)
    return { botToken: cfg.slack.botToken, apiUrl: cfg.slack.apiUrl, channel: cfg.auditChannel };
  if (cfg.slackMode !== 'local') return undefined;
  try {
    const state = JSON.parse(readFileSync(localStatePath(cfg.dataDir), 'utf8')) as {
      slackApiUrl?: string;
      botToken?: string;
    };
    if (!state.botToken || !state.slackApiUrl) return undefined;
    return { botToken: state.botToken, apiUrl: state.slackApiUrl, channel: cfg.auditChannel ?? LOCAL_CHANNELS.audit };
  } catch {
    return undefined;
  }
}

const SLACK_USAGE = `duo-desk slack --as <U…> ["/duo …"] [options]

Acts in the running local workspace (npm start) as one person, as Slack would send it (signed, through the bot's
real endpoint), and prints what changed on that person's screen. Steps run in this order: the command, the clicks,
the picks, the submit.

  --as <U…>                 who acts (U123 owner, U234 help desk, U345 user manager, U456 read-only, U567 no role)
  --channel <name|C…|dm>    where the command is typed (default #help-desk; dm: the DM with duo-desk)
  --click "<button text>"   press the button with this text on the newest message or open form (repeatable)
  --select "<menu>=<option>" pick an option in a menu, by its label (repeatable)
  --submit "<label>=<value>" fill the open form and submit it (repeat for each input; --submit "" submits as is)
  --wait-for-update         then wait for the next change on the screen (a DM that updates itself) and print it
  --timeout <seconds>       how long --wait-for-update waits (default 120)
  --wait <ms>               how long each step may take to settle (default 3000)
  --help                    this text

Examples:
  duo-desk slack --as U234 "/duo lookup bob"
  duo-desk slack --as U234 --click Unlock
  duo-desk slack --as U234 --click "Send verification push" --wait-for-update
  duo-desk slack --as U234 --submit "Reason=Caller verified by push" --submit "Ticket reference=INC-1"`;

/** "Label=value" → ["Label", "value"]; the first = splits (values may hold more). */
function pair(flag: string, raw: string): [string, string] {
  const at = raw.indexOf('=');
  if (at < 1) return fail(`${flag} takes "<label>=<value>", got "${raw}" (see duo-desk slack --help)`);
  return [raw.slice(0, at), raw.slice(at + 1)];
}

async function slackCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      as: { type: 'string' },
      channel: { type: 'string' },
      click: { type: 'string', multiple: true },
      select: { type: 'string', multiple: true },
      submit: { type: 'string', multiple: true },
      'wait-for-update': { type: 'boolean' },
      timeout: { type: 'string' },
      wait: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    out(SLACK_USAGE);
    return 0;
  }
  const text = positionals.join(' ').trim();
  if (!values.as) return fail('duo-desk slack needs --as <slack-user-id>, e.g. --as U234 (see duo-desk slack --help)');
  const submit = values.submit?.filter((s) => s !== '').map((s) => pair('--submit', s));
  if (!text && !values.click && !values.select && !values.submit && !values['wait-for-update'])
    return fail('nothing to do: give a command ("/duo help"), --click, --select, --submit or --wait-for-update');
  const number = (flag: string, raw: string | undefined, max: number) => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > max) fail(`${flag} takes a whole number from 0 to ${max}`);
    return n;
  };
  const waitMs = number('--wait', values.wait, 30_000);
  const timeoutS = number('--timeout', values.timeout, 600) ?? 120;
  const cfg = config();
  let state: { consoleUrl: string; token: string };
  try {
    state = JSON.parse(readFileSync(localStatePath(cfg.dataDir), 'utf8'));
  } catch {
    return fail('no local duo-desk is running here: start it with `npm start` (local mode) first');
  }
  const res = await fetch(`${state.consoleUrl}/act`, {
    method: 'POST',
    headers: { authorization: `Bearer ${state.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      userId: values.as,
      ...(text ? { text } : {}),
      ...(values.channel ? { channel: values.channel } : {}),
      click: values.click ?? [],
      select: (values.select ?? []).map((s) => pair('--select', s)),
      ...(values.submit ? { submit: submit ?? [] } : {}),
      ...(waitMs !== undefined ? { waitMs } : {}),
      ...(values['wait-for-update'] ? { waitForUpdateMs: timeoutS * 1000 } : {}),
    }),
  }).catch(() => undefined);
  if (!res) return fail('the local duo-desk did not answer: is `npm start` still running?');
  const body = (await res.json()) as { statuses?: number[]; outputs?: string[]; noUpdate?: boolean; error?: string };
  if (!res.ok) return fail(body.error ?? `local console answered ${res.status}`);
  if (body.statuses?.length) out(`(Slack got HTTP ${body.statuses.join(', ')} from the bot)`);
  for (const o of body.outputs ?? []) out(o);
  if (!body.outputs?.length) out('(nothing changed on the screen)');
  if (body.noUpdate) return fail(`no update within ${timeoutS} s`, 1);
  return 0;
}

try {
  process.exitCode = await cli(process.argv.slice(2));
} catch (e) {
  if (isAppError(e)) fail(e.problem ? explain(e, plainWords) : e.message);
  // node:util parseArgs: an unknown option or a missing value, said in one line.
  const code = (e as NodeJS.ErrnoException).code;
  if (code?.startsWith('ERR_PARSE_ARGS'))
    fail(`duo-desk: ${(e as Error).message.split('. ')[0]} (see duo-desk --help)`);
  throw e;
}
