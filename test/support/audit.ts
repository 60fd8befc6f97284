import type { Harness } from './harness.js';

/** Every audit row as text (for assertions and secret scans). */
export async function auditRowsText(h: Harness): Promise<string> {
  const rows = await h.runtime.db.em.fork().getConnection().execute('select * from audit_event order by id');
  return rows.map((r: unknown) => JSON.stringify(r)).join('\n');
}

export async function auditRows(h: Harness, where = 'true', params: unknown[] = []) {
  return h.runtime.db.em
    .fork()
    .getConnection()
    .execute<Array<Record<string, unknown>>>(`select * from audit_event where ${where} order by id`, params);
}
