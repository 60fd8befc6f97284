import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { freshDatabase } from '../support/db.js';

let db: Database & { drop(): Promise<void> };
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('database', () => {
  it('when migrations have run, then the entities and the schema agree', async () => {
    const diff = await db.orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false, dropTables: false });
    // Indexes the migrations add for query plans (partial, text_pattern_ops) are not modelled on entities.
    const relevant = diff
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !/^drop index "[a-z_]+_idx";$/.test(l));
    expect(relevant).toEqual([]);
  });

  it('when someone updates or deletes an audit row, then the database refuses', async () => {
    const conn = db.em.getConnection();
    await conn.execute(
      `insert into audit_event (team_id, seq, occurred_at, action, phase, outcome, params, prev_hash, hash) values ('T1', 1, now(), 'test', 'event', 'success', '{}', '0', 'h')`,
    );
    await expect(conn.execute(`update audit_event set action = 'edited'`)).rejects.toThrow(/append-only/);
    await expect(conn.execute(`delete from audit_event`)).rejects.toThrow(/append-only/);
    await expect(conn.execute(`truncate audit_event`)).rejects.toThrow(/append-only/);
  });
});
