import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditRelay } from '../../src/audit/relay.js';
import { AuditTrail } from '../../src/audit/trail.js';
import { verifyAuditChain } from '../../src/audit/verify.js';
import { systemClock } from '../../src/clock.js';
import { type Database, openDatabase } from '../../src/db/database.js';
import { checkAuditPrivileges } from '../../src/db/privileges.js';
import { adminExecute } from '../../src/db/scratch.js';
import { createMemoryLogger } from '../../src/log.js';
import { auditCheckpointMessage, auditEventMessage } from '../../views/audit-event.js';
import { testKeyring } from '../support/audit-key.js';

/**
 * The two-role set-up on a real PostgreSQL: migrations run as the owner (MIGRATION_DATABASE_URL), the
 * app runs as a role that owns nothing. That role, in an insider's hands, cannot switch off the
 * append-only trigger, rewrite audit rows or erase the change log, and the app still works with it.
 * .ci/run creates the role (TEST_APP_DATABASE_USER, default duodesk_app); a superuser here creates it too.
 */
const serverUrl = process.env.TEST_DATABASE_URL;
const APP_ROLE = process.env.TEST_APP_DATABASE_USER ?? 'duodesk_app';
const APP_PASSWORD = process.env.TEST_APP_DATABASE_PASSWORD;
if (!serverUrl)
  console.warn(
    'least-privilege tests skipped: they need a real PostgreSQL server with a second, non-owner role (set TEST_DATABASE_URL; .ci/run does), and the embedded database has one role only',
  );

const TEAM = 'T0LEASTPRV';
let name: string;
let ownerUrl: string;
let appUrl: string;
let app: Database;

const asApp = (sql: string, params: unknown[] = []) => app.em.fork().getConnection().execute(sql, params);

describe.skipIf(!serverUrl)('least privilege for the app role', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    const exists = await new Promise<boolean>((resolve) => {
      adminExecute(
        serverUrl!,
        `do $$ begin if not exists (select 1 from pg_roles where rolname = '${APP_ROLE}') then
          create role "${APP_ROLE}" login${APP_PASSWORD ? ` password '${APP_PASSWORD.replace(/'/g, "''")}'` : ''}; end if; end $$`,
      )
        .then(() => resolve(true))
        .catch(() => resolve(false));
    });
    expect(exists).toBe(true);
    name = `duodesk_lp_${process.pid}`;
    await adminExecute(serverUrl!, `create database "${name}"`);
    const owner = new URL(serverUrl!);
    owner.pathname = `/${name}`;
    ownerUrl = owner.toString();
    const appU = new URL(ownerUrl);
    appU.username = APP_ROLE;
    appU.password = APP_PASSWORD ?? '';
    appUrl = appU.toString();
    app = await openDatabase({ url: appUrl, migrationUrl: ownerUrl });
  });
  afterAll(async () => {
    await app?.close();
    if (name) await adminExecute(serverUrl!, `drop database if exists "${name}" with (force)`);
  });

  it("with the app's role, ALTER TABLE audit_event DISABLE TRIGGER fails", async () => {
    await expect(asApp('alter table audit_event disable trigger audit_event_no_update_delete')).rejects.toThrow(
      /must be owner of table audit_event/,
    );
    await expect(asApp('alter table audit_event disable trigger all')).rejects.toThrow(/must be owner/);
  });

  it("with the app's role, dropping the append-only trigger or adding a trigger of its own fails", async () => {
    await expect(asApp('drop trigger audit_event_no_update_delete on audit_event')).rejects.toThrow(/must be owner/);
    await expect(
      asApp(
        `create trigger sneaky before insert on audit_event for each row execute function audit_event_stamp_txid()`,
      ),
    ).rejects.toThrow(/permission denied|must be owner/);
    await expect(asApp('alter table audit_event owner to current_user')).rejects.toThrow(/must be owner/);
  });

  it("with the app's role, updating, deleting or truncating audit rows is refused by the grants themselves", async () => {
    const trail = new AuditTrail(systemClock, testKeyring());
    await trail.record(app.em.fork(), {
      teamId: TEAM,
      actor: { system: 'cli' },
      action: 'user.lookup',
      outcome: 'success',
    });
    await expect(asApp(`update audit_event set outcome = 'denied'`)).rejects.toThrow(
      /permission denied for table audit_event/,
    );
    await expect(asApp('delete from audit_event')).rejects.toThrow(/permission denied/);
    await expect(asApp('truncate audit_event')).rejects.toThrow(/permission denied/);
    await expect(asApp('delete from audit_outbox')).rejects.toThrow(/permission denied/);
  });

  it("with the app's role, the change log cannot be written or erased, and the role's own direct changes to responders are recorded", async () => {
    await expect(
      asApp(
        `insert into audit_db_change (at, txid, db_user, table_name, operation, columns) values (now(), 1, 'x', 'responder', 'update', '[]')`,
      ),
    ).rejects.toThrow(/permission denied/);
    await asApp(`insert into responder (team_id, user_id, role, approver, created_at, updated_at, version)
                 values ('${TEAM}', 'U0INSIDER', 'owner', true, now(), now(), 1)`);
    const [row] = await asApp(`select db_user, operation, row_ref from audit_db_change where row_ref = 'U0INSIDER'`);
    expect(row).toEqual({ db_user: APP_ROLE, operation: 'insert', row_ref: 'U0INSIDER' });
    await expect(asApp('delete from audit_db_change')).rejects.toThrow(/permission denied/);
    await expect(asApp('alter table responder disable trigger responder_record_db_change')).rejects.toThrow(
      /must be owner/,
    );
  });

  it("with the app's role, duo-desk still appends, relays and checkpoints, and the chain verifies", async () => {
    const trail = new AuditTrail(systemClock, testKeyring());
    const em = app.em.fork();
    for (let i = 0; i < 3; i++)
      await trail.record(em, { teamId: TEAM, actor: { system: 'cli' }, action: 'user.lookup', outcome: 'success' });
    const posts: string[] = [];
    const relay = createAuditRelay({
      channel: 'C0AUDIT01',
      poster: {
        post: async (_c, m) => {
          posts.push(String(m.metadata.event_payload.seq));
          return { ts: `1700000000.${String(posts.length).padStart(6, '0')}` };
        },
        findPosted: async () => undefined,
      },
      render: auditEventMessage,
      renderCheckpoint: auditCheckpointMessage,
      audit: trail,
      clock: systemClock,
      paceMs: 0,
    });
    const ctx = {
      jobId: 1,
      attempt: 1,
      em,
      logger: createMemoryLogger('warn'),
      signal: new AbortController().signal,
      extendLease: async () => {},
    };
    for (let i = 0; i < 5; i++) await relay({ teamId: TEAM }, ctx);
    expect(posts).toEqual(['1', '2', '3', '4']);
    expect(await verifyAuditChain(em, testKeyring())).toMatchObject({ ok: true, checked: 4 });
  });

  it("when the app's role is checked, then it has no problems; the owner role is told it owns the audit table", async () => {
    expect(await checkAuditPrivileges(app.em.fork())).toEqual({ role: APP_ROLE, problems: [] });
    const owner = await openDatabase({ url: ownerUrl, migrate: false, poolMax: 1 });
    try {
      const { problems } = await checkAuditPrivileges(owner.em.fork());
      expect(problems.join('\n')).toMatch(/owns the audit_event table|is a superuser/);
      expect(problems.join('\n')).toContain('MIGRATION_DATABASE_URL');
    } finally {
      await owner.close();
    }
  });
});
