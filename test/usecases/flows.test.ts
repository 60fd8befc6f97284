import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iterateAuditRows } from '../../src/audit/store.js';
import type { Database } from '../../src/db/database.js';
import { problemOf } from '../../src/errors.js';
import { availableFlows, startFlow } from '../../src/usecases/flows.js';
import { freshDatabase } from '../support/db.js';
import { type UseCaseKit, useCaseKit } from '../support/deps.js';

/** "May this caller start this flow?" against real PostgreSQL, without Slack. */
const TEAM = 'T0FLOWS';
let db: Database & { drop(): Promise<void> };
let kit: UseCaseKit;

beforeAll(async () => {
  db = await freshDatabase();
  kit = useCaseKit(db, TEAM);
});
afterAll(async () => {
  await db?.drop();
});

async function auditOf(userId: string) {
  const rows = [];
  for await (const r of iterateAuditRows(db.em.fork(), { teamId: TEAM })) if (r.actorUserId === userId) rows.push(r);
  return rows;
}

describe('starting a flow', () => {
  it('when a read-only responder starts unlock, then it is refused naming the roles that may, and audited', async () => {
    const caller = await kit.responder('U0READER', 'read_only');
    const err = await startFlow(kit.deps, db.em.fork(), caller, 'unlock').catch((e: unknown) => e);
    expect(problemOf(err, 'access.denied')).toMatchObject({
      action: 'user.unlock',
      role: 'read_only',
      rule: 'role',
      roles: ['owner', 'administrator', 'user_manager', 'help_desk'],
    });
    const rows = await auditOf('U0READER');
    expect(rows.map((r) => [r.action, r.outcome, r.params.attempted])).toEqual([
      ['permission.denied', 'denied', 'user.unlock'],
    ]);
  });

  it('when a help-desk responder starts unlock, then it is allowed and nothing is audited yet', async () => {
    const caller = await kit.responder('U0AGENT', 'help_desk');
    await expect(startFlow(kit.deps, db.em.fork(), caller, 'unlock')).resolves.toMatchObject({
      actor: { role: 'help_desk' },
    });
    expect(await auditOf('U0AGENT')).toEqual([]);
  });

  it('when someone who is not a responder starts any flow, then it is refused as NOT_A_RESPONDER and audited', async () => {
    const caller = { teamId: TEAM, userId: 'U0NOBODY', correlationId: 'c-nobody' };
    await expect(startFlow(kit.deps, db.em.fork(), caller, 'help')).rejects.toMatchObject({ code: 'NOT_A_RESPONDER' });
    expect((await auditOf('U0NOBODY')).map((r) => r.action)).toEqual(['permission.denied']);
  });

  it('when a user manager asks for their flows, then roles and audit are not among them', async () => {
    const caller = await kit.responder('U0MANAGER', 'user_manager');
    const { flows } = await availableFlows(kit.deps, db.em.fork(), caller);
    expect(flows).toEqual([
      'help',
      'lookup',
      'verify',
      'unlock',
      'status',
      'bypass',
      'enroll',
      'codes',
      'mfa',
      'users',
      'sync',
      'create',
      'edit',
      'restore',
      'trash',
      'delete',
    ]);
  });
});
