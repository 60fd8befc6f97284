import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Least privilege for the app's database role. With MIGRATION_DATABASE_URL, an owner role creates
 * the schema and then grants the app's DATABASE_URL role only what it needs: the audit trail it may
 * read and append to, never change; the trigger-written change log it may only read. Without owning
 * the tables, the app's role cannot ALTER them, DISABLE their triggers or create triggers of its own.
 */
const APPEND_ONLY = ['audit_event'];
const NO_DELETE = ['audit_chain_head', 'audit_outbox', 'audit_checkpoint'];
const READ_ONLY = ['audit_db_change', 'mikro_orm_migrations'];

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Run by the owner role after migrating; idempotent, so every start-up brings new tables in line. */
export async function grantAppRole(owner: EntityManager, appRole: string): Promise<void> {
  const conn = owner.getConnection();
  const [{ schema } = { schema: 'public' }] = await conn.execute<Array<{ schema: string }>>(
    'select current_schema() as schema',
  );
  const role = ident(appRole);
  const s = ident(schema);
  const statements = [
    `grant usage on schema ${s} to ${role}`,
    `grant select, insert, update, delete on all tables in schema ${s} to ${role}`,
    `grant usage, select on all sequences in schema ${s} to ${role}`,
    ...APPEND_ONLY.map((t) => `revoke update, delete, truncate on ${s}.${ident(t)} from ${role}`),
    ...NO_DELETE.map((t) => `revoke delete, truncate on ${s}.${ident(t)} from ${role}`),
    ...READ_ONLY.map((t) => `revoke insert, update, delete, truncate on ${s}.${ident(t)} from ${role}`),
  ];
  for (const sql of statements) await conn.execute(sql);
}

export interface PrivilegeCheck {
  role: string;
  /** Plain-words problems; empty when the role is as restricted as intended. */
  problems: string[];
}

/**
 * What the app's own role could do to the audit trail that it should not. Start-up logs each problem
 * as a warning; `duo-desk doctor` can show the same list.
 */
export async function checkAuditPrivileges(em: EntityManager): Promise<PrivilegeCheck> {
  const [r] = await em.getConnection().execute<
    Array<{
      role: string;
      superuser: boolean;
      owns: boolean;
      can_change: boolean;
      can_write_changes: boolean;
    }>
  >(
    `select current_user as role,
       coalesce((select rolsuper from pg_roles where rolname = current_user), false) as superuser,
       pg_has_role(current_user, c.relowner, 'USAGE') as owns,
       has_table_privilege(current_user, c.oid, 'UPDATE, DELETE, TRUNCATE') as can_change,
       has_table_privilege(current_user, 'audit_db_change', 'INSERT, UPDATE, DELETE, TRUNCATE') as can_write_changes
     from pg_class c where c.oid = 'audit_event'::regclass`,
  );
  const problems: string[] = [];
  if (!r) return { role: 'unknown', problems: ['the audit_event table does not exist: run the migrations'] };
  const fix =
    'run migrations as an owner role with MIGRATION_DATABASE_URL and give DATABASE_URL a role that owns nothing';
  if (r.superuser)
    problems.push(`the app's database role ${r.role} is a superuser: it can rewrite the audit trail; ${fix}`);
  if (r.owns)
    problems.push(
      `the app's database role ${r.role} owns the audit_event table: it can disable the append-only trigger; ${fix}`,
    );
  else if (r.can_change)
    problems.push(`the app's database role ${r.role} may update or delete audit_event rows; ${fix}`);
  if (r.can_write_changes && !r.owns && !r.superuser)
    problems.push(`the app's database role ${r.role} may write the audit_db_change log; ${fix}`);
  return { role: r.role, problems };
}
