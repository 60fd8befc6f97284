import type { DuoSimulator } from '@duo-desk/duo-sim';
import type { FakeSlack } from '@duo-desk/slack-testbed';
import type { Runtime } from '../../src/app/runtime.js';

/** What the scans read: a harness (declared here, not imported, so harness.ts can call the scan). */
export interface Traces {
  runtime: Runtime;
  slack: FakeSlack;
  duo: DuoSimulator;
  logger: { lines: string[] };
}

/**
 * Looks for secrets everywhere the app leaves traces: every audit row, every row of every table
 * (as text), everything the fake Slack received and every log line. Returns where each secret was
 * found, e.g. `{ secret: 0, where: 'audit_event seq 12' }`; `allow(where)` drops expected places
 * (say, `table step_up_enrollment` holding an encrypted seed). Digit-only secrets (bypass and TOTP
 * codes) only match as a whole number, not inside a longer one (a Slack ts, an id).
 *
 *   expect(await scanForSecrets(h, [code], () => false)).toEqual([]);
 */
export interface SecretFinding {
  /** Index of the secret in the list given (the value itself is not repeated in test output). */
  secret: number;
  where: string;
}

export async function scanForSecrets(
  h: Traces,
  secrets: string[],
  allow: (where: string) => boolean = () => false,
): Promise<SecretFinding[]> {
  const matchers = secrets.map((s, i) => {
    if (s.length < 6) throw new Error(`secret #${i} is too short to scan for (${s.length} characters)`);
    return secretPattern(s);
  });
  const found: SecretFinding[] = [];
  const seen = new Set<string>();
  const check = (where: string, text: string) => {
    for (const [i, re] of matchers.entries()) {
      const key = `${i}\u0000${where}`;
      if (!seen.has(key) && re.test(text) && !allow(where)) {
        seen.add(key);
        found.push({ secret: i, where });
      }
    }
  };

  const conn = h.runtime.db.em.fork().getConnection();
  const audit = await conn.execute<Array<{ seq: string; row: string }>>(
    'select e.seq, row_to_json(e)::text as row from audit_event e order by e.id',
  );
  for (const r of audit) check(`audit_event seq ${r.seq}`, r.row);

  const tables = await conn.execute<Array<{ table_name: string }>>(
    `select table_name from information_schema.tables
     where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`,
  );
  for (const { table_name } of tables) {
    if (table_name === 'audit_event') continue; // scanned above, by seq
    const rows = await conn.execute<Array<{ row: string }>>(`select t::text as row from "${table_name}" t`);
    for (const [n, r] of rows.entries()) check(`table ${table_name} row ${n + 1}`, r.row);
  }

  const received = JSON.parse(h.slack.everythingReceived()) as {
    requests: Array<{ method: string; args: unknown }>;
    socketAcks: unknown[];
  };
  for (const [n, r] of received.requests.entries()) check(`slack ${r.method} #${n + 1}`, JSON.stringify(r.args));
  for (const [n, a] of received.socketAcks.entries()) check(`slack socket ack #${n + 1}`, JSON.stringify(a));

  for (const [n, line] of h.logger.lines.entries()) check(`log line ${n + 1}`, line);
  return found;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * What a secret looks like wherever it may have gone: in any case, split into groups by any spacing
 * (spaces, dashes, line breaks, also as JSON escapes), base32 with or without its `=` padding, and
 * JSON- or URL-encoded. Digit-only secrets (bypass and TOTP codes) match only as a whole number, split at
 * most by single spaces or dashes ("123 456"), so a timestamp or an id does not count.
 */
export function secretPattern(secret: string): RegExp {
  const digits = /^\d+$/.test(secret);
  const core = secret.replace(/=+$/, '');
  const variants = [...new Set([core, JSON.stringify(core).slice(1, -1), encodeURIComponent(core)])];
  const gap = digits ? '[ \\u00a0-]?' : '(?:[\\s\\-_.]|\\\\[nrt])*';
  const loose = (v: string) => [...v].map(escapeRegExp).join(gap);
  const body = variants.map(loose).join('|');
  return new RegExp(digits ? `(?<![\\d.-])(?:${body})(?![\\d])` : `(?:${body})(?:=|%3D)*`, digits ? '' : 'i');
}

/**
 * Strings that could be a TOTP key: base32 runs of 16 to 64 characters, grouped by single spaces or dashes
 * or not at all, with or without padding, normalised (upper case, no gaps). Words of prose are left out:
 * a candidate is all upper case or holds one of base32's digits.
 */
export function base32Candidates(text: string): string[] {
  const runs = text.match(/[A-Za-z2-7]+(?:[ -][A-Za-z2-7]+)*/g) ?? [];
  const out = new Set<string>();
  for (const run of runs) {
    const key = run.replace(/[ -]/g, '');
    if (key.length < 16 || key.length > 64) continue;
    if (run === run.toUpperCase() || /[2-7]/.test(run)) out.add(key.toUpperCase());
  }
  return [...out];
}

/**
 * The suite-wide leak check every harness runs when it closes (so it covers every end-to-end test):
 * the Duo skey, the Slack bot token and signing secret, the encryption and audit keys, every TOTP key any
 * responder holds or was ever shown, and every bypass code the Duo simulator ever issued, looked for (in any
 * grouping, see secretPattern) in every audit row, every table, everything Slack received and every log
 * line. Bypass codes may appear only in their one delivery (an ephemeral, a DM, or the requester's own open
 * modal, headed "Bypass codes for …"), a TOTP key only once, in its enrollment modal; nothing else may appear.
 */
export async function assertNoSecretLeaks(h: Traces): Promise<void> {
  const config = h.runtime.deps.config;
  const fixed = [
    config.duo?.skey,
    config.slack.botToken,
    config.slack.signingSecret,
    config.slack.appToken,
    config.encryptionKey,
    config.auditKey,
  ].filter((s): s is string => typeof s === 'string' && s.length >= 6);
  const sealed = await h.runtime.db.em
    .fork()
    .getConnection()
    .execute<Array<{ team_id: string; user_id: string; totp_secret: string }>>(
      'select team_id, user_id, totp_secret from responder where totp_secret is not null',
    );
  const held = sealed.flatMap((r) => {
    const plain = h.runtime.deps.secretBox.open(r.totp_secret, { teamId: r.team_id, userId: r.user_id });
    const doc = JSON.parse(plain) as Record<string, unknown>;
    return Object.values(doc).filter((v): v is string => typeof v === 'string' && v.length >= 6);
  });
  const received = JSON.parse(h.slack.everythingReceived()) as { requests: Array<{ method: string; args: unknown }> };
  // A TOTP key may be shown only in its enrollment modal: every key shown there is looked for everywhere
  // (ended enrollments leave no secret in the database to find them by).
  const keyShows = new Set<string>();
  const shown: string[] = [];
  for (const [n, r] of received.requests.entries()) {
    const view = (r.args as { view?: { callback_id?: string } }).view;
    if (!r.method.startsWith('views.') || view?.callback_id !== ENROLLMENT_MODAL) continue;
    keyShows.add(`slack ${r.method} #${n + 1}`);
    for (const m of JSON.stringify(view).matchAll(/enter this key manually: `([A-Z2-7 ]+)`/g))
      shown.push(m[1]!.replace(/ /g, ''));
  }
  const totp = [...new Set([...held, ...shown])];
  const codes = [...new Set(h.duo.issuedBypassCodes().map((c) => c.code))];
  // Duo Mobile activation links and barcodes (device help) may appear nowhere at all.
  const activations = h.duo.issuedActivations().flatMap((a) => [a.activationUrl, a.activationBarcode]);

  const deliveries = new Set<string>();
  for (const [n, r] of received.requests.entries()) {
    const args = r.args as { channel?: string; blocks?: unknown; view?: unknown };
    const privateTarget =
      r.method === 'chat.postEphemeral' ||
      r.method === 'views.update' ||
      (r.method === 'chat.postMessage' && args.channel?.startsWith('D'));
    if (privateTarget && JSON.stringify(args.blocks ?? args.view ?? '').includes('Bypass codes for'))
      deliveries.add(`slack ${r.method} #${n + 1}`);
  }
  const secrets = [...fixed, ...totp, ...codes, ...activations];
  const firstKey = fixed.length;
  const firstCode = fixed.length + totp.length;
  const firstActivation = firstCode + codes.length;
  const isKey = (i: number) => i >= firstKey && i < firstCode;
  const findings = await scanForSecrets(h, secrets);
  const expected = (f: SecretFinding) =>
    (f.secret >= firstCode && f.secret < firstActivation && deliveries.has(f.where)) ||
    (isKey(f.secret) && keyShows.has(f.where));
  const leaks = findings.filter((f) => !expected(f));
  const perSecret = new Map<number, number>();
  for (const f of findings.filter(expected)) perSecret.set(f.secret, (perSecret.get(f.secret) ?? 0) + 1);
  const repeated = [...perSecret]
    .filter(([, n]) => n > 1)
    .map(([secret]) => ({ secret, where: 'delivered more than once' }));
  const kind = (i: number) =>
    i < firstKey
      ? 'configuration secret'
      : isKey(i)
        ? 'TOTP secret'
        : i < firstActivation
          ? 'bypass code'
          : 'Duo Mobile activation link or barcode';
  const problems = [...leaks, ...repeated].map((f) => `${kind(f.secret)} #${f.secret} found in ${f.where}`);
  if (problems.length) throw new Error(`secrets leaked:\n${problems.join('\n')}`);
}

/** The callback_id of the one modal that shows a TOTP key (views/ids.ts VIEWS.mfaEnroll). */
const ENROLLMENT_MODAL = 'mfa_enroll_modal';
