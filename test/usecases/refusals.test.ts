import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iterateAuditRows } from '../../src/audit/store.js';
import type { ScratchDatabase } from '../../src/db/scratch.js';
import { createMemoryLogger } from '../../src/log.js';
import { createRefusalSummarizer, recordOutsiderRefusal } from '../../src/usecases/refusals.js';
import { freshDatabase } from '../support/db.js';
import { type UseCaseKit, useCaseKit } from '../support/deps.js';

/** Outsiders flooding duo-desk with commands must not flood the audit trail. */
const TEAM = 'T0FLOOD';
let db: ScratchDatabase;
let kit: UseCaseKit;
beforeAll(async () => {
  db = await freshDatabase();
  kit = useCaseKit(db, TEAM);
});
afterAll(async () => {
  await db?.drop();
});

async function rowsOf(userId: string) {
  const rows = [];
  for await (const r of iterateAuditRows(db.em.fork(), { teamId: TEAM })) if (r.actorUserId === userId) rows.push(r);
  return rows;
}

describe('refusals at the door', () => {
  it('when a non-responder sends 200 commands in a minute, then the minute has one audit row at once and one summary after it', async () => {
    const caller = { teamId: TEAM, userId: 'U0FLOODER', correlationId: 'c' };
    await Promise.all(
      Array.from({ length: 200 }, () => recordOutsiderRefusal(kit.deps, db.em.fork(), caller, 'not a responder')),
    );
    expect((await rowsOf('U0FLOODER')).map((r) => r.action)).toEqual(['permission.denied']);

    const summarize = createRefusalSummarizer(kit.deps);
    const ctx = () => ({
      jobId: 1,
      attempt: 1,
      em: db.em.fork(),
      logger: createMemoryLogger('warn'),
      signal: new AbortController().signal,
      extendLease: async () => {},
    });
    // Still within the minute: nothing to summarize yet.
    await summarize({}, ctx());
    expect(await rowsOf('U0FLOODER')).toHaveLength(1);
    kit.clock.advance(61_000);
    await summarize({}, ctx());
    await summarize({}, ctx());
    const rows = await rowsOf('U0FLOODER');
    expect(rows.map((r) => [r.action, r.params.more])).toEqual([
      ['permission.denied', undefined],
      ['permission.denied_repeated', 199],
    ]);
  });
});
