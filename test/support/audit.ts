import type { StoredMessage } from '@duo-desk/slack-testbed';
import { AUDIT_METADATA_EVENT } from '../../src/audit/relay.js';
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

/** Polls an async condition (the relay and the jobs work in the background); fails with `what` after `timeoutMs`. */
export async function until<T>(fn: () => Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The audit event id an audit-channel message was posted for; undefined for any other message. */
export const auditEventIdOf = (m: StoredMessage): number | undefined => {
  const md = m.metadata as { event_type?: string; event_payload?: { event_id?: unknown } } | undefined;
  return md?.event_type === AUDIT_METADATA_EVENT ? Number(md.event_payload?.event_id) : undefined;
};
