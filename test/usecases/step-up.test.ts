import { createCipheriv, randomBytes } from 'node:crypto';
import { type DuoSimulator, makePhone, startDuoSimulator } from '@duo-desk/duo-sim';
import { generate } from 'otplib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isAlertEvent } from '../../src/audit/alerts.js';
import { AuditTrail } from '../../src/audit/trail.js';
import { ManualClock } from '../../src/clock.js';
import type { Database, EntityManager } from '../../src/db/database.js';
import { Responder, StepUpFailure, TotpEnrollment, Verification } from '../../src/db/entities.js';
import type { Role } from '../../src/domain/roles.js';
import { AppError } from '../../src/errors.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { createMemoryLogger } from '../../src/log.js';
import { SecretBindingError, SecretBox } from '../../src/secret-box.js';
import { BUILT_IN_KINDS } from '../../src/usecases/approval-kinds.js';
import type { ApprovalNotices } from '../../src/usecases/approval-model.js';
import { ApprovalKinds } from '../../src/usecases/approval-registry.js';
import { type Caller, DEFAULT_TUNING, type Deps } from '../../src/usecases/deps.js';
import {
  applyTotpReset,
  bindUnboundSecrets,
  checkStepUp,
  confirmTotpEnrollment,
  startTotpEnrollment,
  totpStatus,
} from '../../src/usecases/step-up.js';
import { requestStepUpReset } from '../../src/usecases/stepup-reset.js';
import { followVerification } from '../../src/usecases/verify.js';
import { plainWords } from '../../views/format.js';
import { explain } from '../../views/problems.js';
import { clientFor } from '../duo/helpers.js';
import { testKeyring } from '../support/audit-key.js';
import { attachDatabase, freshDatabase } from '../support/db.js';
import { peopleDirectory } from '../support/deps.js';

/** The refusals tested here never reach Slack. */
const noNotices: ApprovalNotices = {
  publishCard: () => Promise.reject(new Error('no Slack in this test')),
  tellRequester: () => Promise.reject(new Error('no Slack in this test')),
  deliverPrivately: () => Promise.reject(new Error('no Slack in this test')),
};

const TEAM = 'T0STEPUP';

let db: Database & { drop(): Promise<void> };
let deps: Deps;
let clock: ManualClock;
let logger: ReturnType<typeof createMemoryLogger>;
let sim: DuoSimulator;
/** The emails Slack shows for each responder (their own Duo account has the same one). */
const emails: Record<string, string> = {};
/** Every secret and code this file handles: none may show up in an audit row or a log line. */
const secrets = new Set<string>();
const codes = new Set<string>();
let userSeq = 0;

function depsOn(database: Database): Deps {
  const jobs = new JobQueue(database, clock, logger);
  return {
    config: {} as never,
    logger,
    clock,
    db: database,
    duo: clientFor(sim).client,
    audit: new AuditTrail(clock, testKeyring()),
    jobs,
    secretBox,
    people: peopleDirectory(emails),
    tuning: DEFAULT_TUNING,
    approvals: new ApprovalKinds(BUILT_IN_KINDS),
  };
}
const secretBox = new SecretBox(randomBytes(32));

beforeAll(async () => {
  db = await freshDatabase();
  clock = new ManualClock();
  logger = createMemoryLogger('debug');
  sim = await startDuoSimulator({ directory: 'empty' });
  deps = depsOn(db);
});
afterAll(async () => {
  await sim?.close();
  await db?.drop();
});
beforeEach(() => {
  // Each test starts well away from the previous one's steps and failure window.
  clock.advance(60 * 60_000);
});

const em = (): EntityManager => db.em.fork();
const nowSeconds = () => Math.floor(clock.now().getTime() / 1000);

/** The code for the current time shifted by `steps` 30-second steps. */
async function codeAt(secret: string, steps = 0): Promise<string> {
  const code = await generate({ secret, epoch: nowSeconds() + steps * 30 });
  codes.add(code);
  return code;
}

/** A 6-digit code valid in none of the steps −2..+2. */
async function wrongCode(secret: string): Promise<string> {
  const near = new Set(await Promise.all([-2, -1, 0, 1, 2].map((s) => codeAt(secret, s))));
  let n = Number.parseInt([...near][0]!, 10);
  let code: string;
  do {
    n = (n + 7919) % 1_000_000;
    code = String(n).padStart(6, '0');
  } while (near.has(code));
  codes.add(code);
  return code;
}

/** A responder with their own Duo account (same email as in Slack, one phone), unless `duoAccount` is false. */
async function newResponder(role: Role = 'help_desk', opts: { duoAccount?: boolean } = {}): Promise<Caller> {
  userSeq += 1;
  const userId = `U0STEP${String(userSeq).padStart(3, '0')}`;
  const username = `step${userSeq}`;
  emails[userId] = `${username}@example.com`;
  if (opts.duoAccount !== false)
    sim.addUser({
      username,
      email: emails[userId],
      phones: [makePhone(username, 1, 'iphone', '+15555550199', '2026-11-20T09:00:00')],
    });
  const e = em();
  e.create(Responder, { teamId: TEAM, userId, role, approver: true });
  await e.flush();
  return { teamId: TEAM, userId, correlationId: `corr-${userId}` };
}

/** The Verification row of the push that confirms an enrollment. */
async function enrollmentPush(enrollmentId: string) {
  const enrollment = await em().findOneOrFail(TotpEnrollment, { id: enrollmentId });
  return em().findOneOrFail(Verification, { id: enrollment.verificationId! });
}

/** The responder answers the enrollment push on their own phone, and duo-desk's follower sees the answer. */
async function answerPush(enrollmentId: string, result: 'approve' | 'deny' | 'fraud') {
  const v = await enrollmentPush(enrollmentId);
  sim.answerPush(v.pushId!, result);
  expect((await followVerification(deps, em(), v.id)).done).toBe(true);
}

/** Starts enrollment and (unless `answer` is null) approves its push on the responder's phone. */
async function start(caller: Caller, currentCode?: string, answer: 'approve' | 'deny' | 'fraud' | null = 'approve') {
  const r = await startTotpEnrollment(deps, em(), caller, currentCode === undefined ? {} : { currentCode });
  secrets.add(r.secretForManualEntry);
  if (answer) await answerPush(r.enrollmentId, answer);
  return r;
}

/** A responder with an active enrollment (its confirmation code used the current step). */
async function enrolled(role: Role = 'help_desk'): Promise<{ caller: Caller; secret: string }> {
  const caller = await newResponder(role);
  const { secretForManualEntry: secret } = await start(caller);
  await confirmTotpEnrollment(deps, em(), caller, await codeAt(secret));
  return { caller, secret };
}

async function appError(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
}

const responderRow = (caller: Caller) => em().findOneOrFail(Responder, { teamId: TEAM, userId: caller.userId });

async function auditActions(caller: Caller): Promise<Array<{ action: string; outcome: string; params: unknown }>> {
  return em()
    .getConnection()
    .execute(`select action, outcome, params from audit_event where team_id = ? and actor_user_id = ? order by seq`, [
      TEAM,
      caller.userId,
    ]);
}

describe('TOTP enrollment', () => {
  it('when enrollment starts, then it is pending until a valid first code activates it', async () => {
    const caller = await newResponder();
    const result = await start(caller);
    const { secretForManualEntry: secret } = result;

    expect(result.otpauthUri.startsWith(`otpauth://totp/duo-desk:${caller.userId}%40${TEAM}?`)).toBe(true);
    expect(result.otpauthUri).toContain('issuer=duo-desk');
    expect(result.otpauthUri).toContain(`secret=${secret}`);
    expect(result.qrPng.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

    expect((await totpStatus(em(), TEAM, caller.userId)).status).toBe('pending');
    const row = await responderRow(caller);
    expect(row.totpSecret).toMatch(/^v2:/);
    expect(row.totpSecret).not.toContain(secret);

    // Not usable for step-up yet.
    const notYet = await appError(checkStepUp(deps, em(), caller, await codeAt(secret), 'approve'));
    expect(notYet.code).toBe('STEP_UP_NOT_ENROLLED');

    const code = await codeAt(secret);
    await confirmTotpEnrollment(deps, em(), caller, code);
    expect(await totpStatus(em(), TEAM, caller.userId)).toEqual({ status: 'active', lockedUntil: null });
    expect((await responderRow(caller)).totpLastStep).toBe(Math.floor(nowSeconds() / 30));

    // The confirmation code is used up: it cannot pass step-up afterwards.
    const replay = await appError(checkStepUp(deps, em(), caller, code, 'approve'));
    expect(replay.code).toBe('STEP_UP_INVALID');

    const actions = (await auditActions(caller)).filter((a) => a.action === 'stepup.enrolled');
    expect(actions.slice(0, 2)).toEqual([
      { action: 'stepup.enrolled', outcome: 'pending', params: { phase: 'started', reenrollment: false } },
      { action: 'stepup.enrolled', outcome: 'success', params: { phase: 'confirmed', reenrollment: false } },
    ]);
  });

  it('when the first code is wrong, then enrollment stays pending and the error points at the code input', async () => {
    const caller = await newResponder();
    const { secretForManualEntry: secret } = await start(caller);
    const e = await appError(confirmTotpEnrollment(deps, em(), caller, await wrongCode(secret)));
    expect(e.code).toBe('STEP_UP_INVALID');
    expect(e.field).toBe('totp');
    expect((await totpStatus(em(), TEAM, caller.userId)).status).toBe('pending');
    expect(await em().count(StepUpFailure, { teamId: TEAM, userId: caller.userId })).toBe(1);
  });

  it('when there is nothing to confirm, then confirming is refused as invalid state', async () => {
    const caller = await newResponder();
    const e = await appError(confirmTotpEnrollment(deps, em(), caller, '000000'));
    expect(e.code).toBe('INVALID_STATE');
  });

  it('when an active responder re-enrolls, then the old authenticator works until the new one is confirmed', async () => {
    const { caller, secret: oldSecret } = await enrolled();
    clock.advance(30_000);

    const required = await appError(startTotpEnrollment(deps, em(), caller));
    expect(required.code).toBe('STEP_UP_REQUIRED');
    expect(required.field).toBe('totp');

    const { secretForManualEntry: newSecret } = await start(caller, await codeAt(oldSecret));
    expect(newSecret).not.toBe(oldSecret);
    expect((await totpStatus(em(), TEAM, caller.userId)).status).toBe('active');

    // Still the old one for step-up, and the new one is not usable yet.
    clock.advance(30_000);
    const notYet = await appError(checkStepUp(deps, em(), caller, await codeAt(newSecret, 1), 'approve'));
    expect(notYet.code).toBe('STEP_UP_INVALID');
    await checkStepUp(deps, em(), caller, await codeAt(oldSecret), 'approve');

    // Confirmation right after a step-up in the same step is fine: it is a different secret.
    await confirmTotpEnrollment(deps, em(), caller, await codeAt(newSecret));
    clock.advance(30_000);
    const old = await appError(checkStepUp(deps, em(), caller, await codeAt(oldSecret), 'approve'));
    expect(old.code).toBe('STEP_UP_INVALID');
    await checkStepUp(deps, em(), caller, await codeAt(newSecret), 'approve');

    const enrolledEvents = (await auditActions(caller)).filter((a) => a.action === 'stepup.enrolled');
    expect(enrolledEvents.map((a) => a.params)).toEqual([
      { phase: 'started', reenrollment: false },
      { phase: 'confirmed', reenrollment: false },
      { phase: 'started', reenrollment: true },
      { phase: 'confirmed', reenrollment: true },
    ]);
  });

  it('when re-enrollment is attempted with a wrong current code, then it is refused and nothing changes', async () => {
    const { caller, secret } = await enrolled();
    const before = (await responderRow(caller)).totpSecret;
    const e = await appError(startTotpEnrollment(deps, em(), caller, { currentCode: await wrongCode(secret) }));
    expect(e.code).toBe('STEP_UP_INVALID');
    expect((await responderRow(caller)).totpSecret).toBe(before);
  });
});

describe('enrollment bound to the person', () => {
  it('when the confirming push is still waiting, then the code is not evaluated and nothing is counted', async () => {
    const caller = await newResponder();
    const { secretForManualEntry: secret } = await start(caller, undefined, null);
    const e = await appError(confirmTotpEnrollment(deps, em(), caller, await codeAt(secret)));
    expect({ code: e.code, problem: e.problem?.name, field: e.field }).toEqual({
      code: 'INVALID_STATE',
      problem: 'stepup.push_waiting',
      field: 'totp',
    });
    expect(await em().count(StepUpFailure, { teamId: TEAM, userId: caller.userId })).toBe(0);
    expect((await totpStatus(em(), TEAM, caller.userId)).status).toBe('pending');
  });

  it('when the confirming Duo Push is denied on the responder phone, then a valid code does not activate the enrollment', async () => {
    const caller = await newResponder();
    const { secretForManualEntry: secret, enrollmentId } = await start(caller, undefined, 'deny');
    const e = await appError(confirmTotpEnrollment(deps, em(), caller, await codeAt(secret)));
    expect({ code: e.code, problem: e.problem?.name }).toEqual({
      code: 'PERMISSION_DENIED',
      problem: 'stepup.push_not_approved',
    });
    expect(await responderRow(caller)).toMatchObject({
      totpStatus: 'none',
      totpSecret: null,
      totpPendingEnrollment: null,
    });
    expect(await em().findOneOrFail(TotpEnrollment, { id: enrollmentId })).toMatchObject({ status: 'refused' });
    // Nothing is left to confirm: the same key cannot be tried again.
    const again = await appError(confirmTotpEnrollment(deps, em(), caller, await codeAt(secret)));
    expect(again.problem?.name).toBe('stepup.nothing_to_confirm');
    const ended = (await auditActions(caller)).filter((a) => a.action === 'stepup.enrolled').at(-1);
    expect(ended).toMatchObject({ outcome: 'failed', params: { phase: 'refused', push: 'denied' } });
  });

  it('when a re-enrollment push is reported as fraud, then the new key is dropped and the old one keeps working', async () => {
    const { caller, secret: old } = await enrolled();
    clock.advance(30_000);
    const { secretForManualEntry: fresh } = await start(caller, await codeAt(old), 'fraud');
    clock.advance(30_000);
    expect((await appError(confirmTotpEnrollment(deps, em(), caller, await codeAt(fresh)))).code).toBe(
      'PERMISSION_DENIED',
    );
    expect((await totpStatus(em(), TEAM, caller.userId)).status).toBe('active');
    await checkStepUp(deps, em(), caller, await codeAt(old), 'approve');
  });

  it('when the responder has no Duo user with their Slack email, then enrollment is refused, audited and nothing is pending', async () => {
    const caller = await newResponder('help_desk', { duoAccount: false });
    const pushesBefore = sim.requests().filter((r) => r.path.includes('verification_push')).length;
    const e = await appError(startTotpEnrollment(deps, em(), caller));
    expect({ code: e.code, problem: e.problem?.name }).toEqual({
      code: 'INVALID_STATE',
      problem: 'stepup.no_duo_account',
    });
    expect(explain(e, plainWords)).toMatch(/cannot approve requests/);
    expect(await responderRow(caller)).toMatchObject({ totpStatus: 'none', totpSecret: null });
    expect(sim.requests().filter((r) => r.path.includes('verification_push')).length).toBe(pushesBefore);
    const denied = (await auditActions(caller)).filter((a) => a.action === 'permission.denied');
    expect(denied.map((a) => a.params)).toEqual([
      { attempted: 'stepup.enroll', why: 'no Duo user with the Slack email' },
    ]);
  });

  it('when two Duo users carry the responder email, then enrollment is refused rather than guessing', async () => {
    const caller = await newResponder();
    sim.addUser({ username: `${emails[caller.userId]!.split('@')[0]}-dup`, email: emails[caller.userId]! });
    const e = await appError(startTotpEnrollment(deps, em(), caller));
    expect(e.problem?.name).toBe('stepup.several_duo_accounts');
  });

  it('when Slack shows no email for the responder, then enrollment is refused', async () => {
    const caller = await newResponder();
    delete emails[caller.userId];
    expect((await appError(startTotpEnrollment(deps, em(), caller))).problem?.name).toBe('stepup.no_slack_email');
  });

  it('when an enrollment is not confirmed within 10 minutes, then it expires and its key no longer confirms', async () => {
    const caller = await newResponder();
    const { secretForManualEntry: secret } = await start(caller);
    clock.advance(10 * 60_000);
    const e = await appError(confirmTotpEnrollment(deps, em(), caller, await codeAt(secret)));
    expect(e.problem?.name).toBe('stepup.enrollment_expired');
    expect((await totpStatus(em(), TEAM, caller.userId)).status).toBe('none');
  });

  it('when an enrollment push is approved, then it verifies no caller (not even the responder own Duo account)', async () => {
    const caller = await newResponder();
    const { enrollmentId } = await start(caller);
    const push = await enrollmentPush(enrollmentId);
    expect(push).toMatchObject({ status: 'approved', purpose: 'enrollment', validUntil: null });
    const { validVerification } = await import('../../src/usecases/verification-policy.js');
    const valid = await validVerification(em(), clock, {
      teamId: TEAM,
      duoUserId: push.duoUserId,
      responderUserId: caller.userId,
      minutes: 10,
    });
    expect(valid).toBeNull();
  });
});

describe('checkStepUp', () => {
  it('when a code is one step early or late, then it is accepted; two steps off, then refused', async () => {
    const { caller, secret } = await enrolled();
    clock.advance(90_000); // three steps after the confirmation

    for (const steps of [-2, 2]) {
      const e = await appError(checkStepUp(deps, em(), caller, await codeAt(secret, steps), 'approve'));
      expect(e.code).toBe('STEP_UP_INVALID');
      expect(e.field).toBe('totp');
    }
    await checkStepUp(deps, em(), caller, await codeAt(secret, -1), 'approve');
    await checkStepUp(deps, em(), caller, await codeAt(secret, 1), 'unlock');

    const succeeded = (await auditActions(caller)).filter((a) => a.action === 'stepup.succeeded');
    expect(succeeded.map((a) => a.params)).toEqual([{ purpose: 'approve' }, { purpose: 'unlock' }]);
  });

  it('when the same code is used twice, then the second use is refused', async () => {
    const { caller, secret } = await enrolled();
    clock.advance(30_000);
    const code = await codeAt(secret);
    await checkStepUp(deps, em(), caller, code, 'approve');
    const e = await appError(checkStepUp(deps, em(), caller, code, 'approve'));
    expect(e.code).toBe('STEP_UP_INVALID');
    // An older (still in-window) code is refused too: steps only move forward.
    const older = await appError(checkStepUp(deps, em(), caller, await codeAt(secret, -1), 'approve'));
    expect(older.code).toBe('STEP_UP_INVALID');
    const failed = (await auditActions(caller)).filter((a) => a.action === 'stepup.failed');
    expect(failed.map((a) => (a.params as { why: string }).why)).toEqual(['replayed', 'replayed']);
  });

  it('when two checks use the same code concurrently, then exactly one succeeds', async () => {
    const { caller, secret } = await enrolled();
    clock.advance(30_000);
    const code = await codeAt(secret);
    const results = await Promise.allSettled([
      checkStepUp(deps, em(), caller, code, 'approve'),
      checkStepUp(deps, em(), caller, code, 'approve'),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect((rejected[0]!.reason as AppError).code).toBe('STEP_UP_INVALID');
  });

  it('when the code is not 6 digits, then it is an input error on the code field and not a failure', async () => {
    const { caller } = await enrolled();
    for (const bad of ['12345', '1234567', 'abcdef', '']) {
      const e = await appError(checkStepUp(deps, em(), caller, bad, 'approve'));
      expect(e.code).toBe('INVALID_INPUT');
      expect(e.field).toBe('totp');
    }
    expect(await em().count(StepUpFailure, { teamId: TEAM, userId: caller.userId })).toBe(0);
  });

  it('when the responder has not enrolled, then step-up says so', async () => {
    const caller = await newResponder();
    const e = await appError(checkStepUp(deps, em(), caller, '000000', 'bypass_request'));
    expect(e.code).toBe('STEP_UP_NOT_ENROLLED');
  });

  it('when someone who is not a responder tries step-up, then they are refused', async () => {
    const e = await appError(
      checkStepUp(deps, em(), { teamId: TEAM, userId: 'U0NOBODY', correlationId: 'c' }, '000000', 'approve'),
    );
    expect(e.code).toBe('NOT_A_RESPONDER');
  });
});

describe('lockout', () => {
  it('when 5 codes fail within 10 minutes, then step-up locks for 15 minutes and then works again', async () => {
    const { caller, secret } = await enrolled('administrator');
    for (let i = 1; i <= 4; i++) {
      clock.advance(60_000);
      const e = await appError(checkStepUp(deps, em(), caller, await wrongCode(secret), 'approve'));
      expect(e.code).toBe('STEP_UP_INVALID');
      expect({ field: e.field, ...e.problem?.facts }).toMatchObject({ field: 'totp', attemptsLeft: 5 - i });
    }
    clock.advance(60_000);
    const locking = await appError(checkStepUp(deps, em(), caller, await wrongCode(secret), 'approve'));
    expect(locking.code).toBe('STEP_UP_LOCKED');
    expect({ field: locking.field, ...locking.problem?.facts }).toMatchObject({ field: 'totp', lockedNow: true });
    const { lockedUntil } = await totpStatus(em(), TEAM, caller.userId);
    expect(lockedUntil?.getTime()).toBe(clock.now().getTime() + 15 * 60_000);

    const locked = (await auditActions(caller)).filter((a) => a.action === 'stepup.locked');
    expect(locked).toHaveLength(1);
    expect(locked[0]!.outcome).toBe('denied');
    expect(locked[0]!.params).toMatchObject({ purpose: 'approve', recentFailures: 5, lockMinutes: 15 });
    expect(String((locked[0]!.params as { alert: string }).alert)).toMatch(/audit-channel alert/);
    expect(logger.lines.some((l) => l.includes('step-up locked') && l.includes(caller.userId))).toBe(true);

    // A valid code is refused while locked, and does not extend the lock.
    clock.advance(30_000);
    const sixth = await appError(checkStepUp(deps, em(), caller, await codeAt(secret), 'approve'));
    expect(sixth.code).toBe('STEP_UP_LOCKED');
    expect({ field: sixth.field, ...sixth.problem?.facts }).toMatchObject({ field: 'totp', lockedNow: false });
    // Starting a new enrollment is refused too.
    expect((await appError(startTotpEnrollment(deps, em(), caller))).code).toBe('STEP_UP_LOCKED');

    clock.advance(15 * 60_000 - 30_000 - 1);
    expect((await appError(checkStepUp(deps, em(), caller, await codeAt(secret), 'approve'))).code).toBe(
      'STEP_UP_LOCKED',
    );
    clock.advance(1);
    await checkStepUp(deps, em(), caller, await codeAt(secret), 'approve');
  });

  it('when 60 wrong codes from one responder arrive at once across two instances, then at most 5 are evaluated and step-up locks', async () => {
    const { caller, secret } = await enrolled();
    clock.advance(30_000);
    const second = await attachDatabase(db);
    try {
      const instances = [deps, depsOn(second)];
      const wrong = await wrongCode(secret);
      const results = await Promise.allSettled(
        Array.from({ length: 60 }, (_, i) =>
          checkStepUp(instances[i % 2]!, instances[i % 2]!.db.em.fork(), caller, wrong, 'approve'),
        ),
      );
      expect(results.every((r) => r.status === 'rejected')).toBe(true);
      const failed = (await auditActions(caller)).filter((a) => a.action === 'stepup.failed');
      const why = (a: { params: unknown }) => (a.params as { why: string }).why;
      const evaluated = failed.filter((a) => why(a) !== 'locked');
      expect(evaluated.length).toBeLessThanOrEqual(5);
      // Every attempt is in the audit trail: the ones never evaluated as refused while locked.
      expect(failed).toHaveLength(60 - (await auditActions(caller)).filter((a) => a.action === 'stepup.locked').length);
      expect((await auditActions(caller)).filter((a) => a.action === 'stepup.locked')).toHaveLength(1);
      expect((await totpStatus(em(), TEAM, caller.userId)).lockedUntil).not.toBeNull();
      // Locked means locked: the right code is refused too.
      clock.advance(30_000);
      expect((await appError(checkStepUp(deps, em(), caller, await codeAt(secret), 'approve'))).code).toBe(
        'STEP_UP_LOCKED',
      );
    } finally {
      await second.close();
    }
  });

  it('when failures are spread over more than 10 minutes, then they do not lock', async () => {
    const { caller, secret } = await enrolled();
    for (let i = 0; i < 4; i++) {
      clock.advance(30_000);
      await appError(checkStepUp(deps, em(), caller, await wrongCode(secret), 'approve'));
    }
    clock.advance(11 * 60_000);
    const e = await appError(checkStepUp(deps, em(), caller, await wrongCode(secret), 'approve'));
    expect(e.code).toBe('STEP_UP_INVALID');
    expect((await totpStatus(em(), TEAM, caller.userId)).lockedUntil).toBeNull();
  });

  it('when wrong enrollment codes pile up, then they count towards the lock', async () => {
    const caller = await newResponder();
    const { secretForManualEntry: secret } = await start(caller);
    for (let i = 0; i < 4; i++) await appError(confirmTotpEnrollment(deps, em(), caller, await wrongCode(secret)));
    const e = await appError(confirmTotpEnrollment(deps, em(), caller, await wrongCode(secret)));
    expect(e.code).toBe('STEP_UP_LOCKED');
    const again = await appError(confirmTotpEnrollment(deps, em(), caller, await codeAt(secret)));
    expect(again.code).toBe('STEP_UP_LOCKED');
    expect((await totpStatus(em(), TEAM, caller.userId)).status).toBe('pending');
  });
});

describe('resetting a step-up enrollment', () => {
  it('when a reset is carried out, then enrollment, replay floor, lock and failures are cleared', async () => {
    const owner = await newResponder('owner');
    const { caller: target, secret } = await enrolled();
    for (let i = 0; i < 5; i++) await appError(checkStepUp(deps, em(), target, await wrongCode(secret), 'approve'));
    expect((await totpStatus(em(), TEAM, target.userId)).lockedUntil).not.toBeNull();

    await applyTotpReset(deps, em(), { userId: owner.userId, role: 'owner' }, TEAM, target.userId, 'c-reset');
    const row = await responderRow(target);
    expect(row).toMatchObject({ totpSecret: null, totpStatus: 'none', totpLastStep: null, stepUpLockedUntil: null });
    expect(await em().count(StepUpFailure, { teamId: TEAM, userId: target.userId })).toBe(0);
    const reset = (await auditActions(owner)).filter((a) => a.action === 'stepup.reset');
    expect(reset).toEqual([
      {
        action: 'stepup.reset',
        outcome: 'success',
        params: { targetUserId: target.userId, previousStatus: 'active' },
      },
    ]);

    // The responder can enroll again from scratch.
    const { secretForManualEntry: fresh } = await start(target);
    await confirmTotpEnrollment(deps, em(), target, await codeAt(fresh));
    expect((await totpStatus(em(), TEAM, target.userId)).status).toBe('active');
  });

  it('when a non-owner tries to reset, then it is denied naming the Owner role and audited', async () => {
    const admin = await newResponder('administrator');
    const { caller: target } = await enrolled();
    const e = await appError(requestStepUpReset(deps, em(), admin, noNotices, { targetUserId: target.userId }));
    expect(e.code).toBe('PERMISSION_DENIED');
    expect(explain(e, plainWords)).toMatch(/Owner role/);
    expect((await totpStatus(em(), TEAM, target.userId)).status).toBe('active');
    const denied = (await auditActions(admin)).filter((a) => a.action === 'permission.denied');
    expect(denied).toHaveLength(1);
    expect(denied[0]!.params).toMatchObject({ attempted: 'stepup.reset', targetUserId: target.userId });
  });

  it('when an owner tries to reset their own enrollment, then it is denied', async () => {
    const { caller: owner } = await enrolled('owner');
    const e = await appError(requestStepUpReset(deps, em(), owner, noNotices, { targetUserId: owner.userId }));
    expect(e.code).toBe('PERMISSION_DENIED');
    expect((await totpStatus(em(), TEAM, owner.userId)).status).toBe('active');
  });

  it('when the target is not a responder, then the owner is told', async () => {
    const owner = await newResponder('owner');
    expect((await appError(requestStepUpReset(deps, em(), owner, noNotices, { targetUserId: 'U0NOBODY' }))).code).toBe(
      'NOT_FOUND',
    );
  });
});

describe('sealed secrets bound to their rows', () => {
  it("when an insider copies one responder's sealed TOTP secret onto another's row, then it fails to open there and the attempt is audited as an alert", async () => {
    const victim = await enrolled();
    const attacker = await newResponder();
    const conn = em().getConnection();
    await conn.execute(
      `update responder set totp_secret = (select totp_secret from responder where team_id = ? and user_id = ?),
         totp_status = 'active' where team_id = ? and user_id = ?`,
      [TEAM, victim.caller.userId, TEAM, attacker.userId],
    );
    // The attacker knows the victim's authenticator: the code is right, but the secret is not theirs.
    const e = await appError(checkStepUp(deps, em(), attacker, await codeAt(victim.secret), 'approve'));
    expect(e.code).toBe('STEP_UP_NOT_ENROLLED');
    expect(explain(e, plainWords)).toContain('does not belong to your account');
    const rows = await auditActions(attacker);
    expect(rows.at(-1)).toMatchObject({ action: 'stepup.secret_rejected', outcome: 'denied' });
    expect(isAlertEvent(rows.at(-1)! as { action: string; params: Record<string, unknown> })).toBe(true);
    expect(rows.some((r) => r.action === 'stepup.succeeded')).toBe(false);
    // The victim's own row still works.
    clock.advance(30_000);
    await checkStepUp(deps, em(), victim.caller, await codeAt(victim.secret), 'approve');
  });

  it('when a secret was sealed before binding (v1), then start-up binds it to its row once, audited, and it keeps working', async () => {
    const { caller, secret } = await enrolled();
    const keyBytes = randomBytes(32);
    const box = new SecretBox(keyBytes);
    const legacyDeps = { ...deps, secretBox: box };
    // What the unbound format stored: AES-256-GCM with only the key id as authenticated data.
    const keyId = SecretBox.keyId(keyBytes);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', keyBytes, iv);
    cipher.setAAD(Buffer.from(keyId));
    const ct = Buffer.concat([cipher.update(JSON.stringify({ active: secret }), 'utf8'), cipher.final()]);
    const v1 = [
      'v1',
      keyId,
      iv.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
      ct.toString('base64url'),
    ].join(':');
    await em().nativeUpdate(Responder, { teamId: TEAM, userId: caller.userId }, { totpSecret: v1 });

    expect(await bindUnboundSecrets(legacyDeps, em())).toBe(1);
    expect(await bindUnboundSecrets(legacyDeps, em())).toBe(0);
    const row = await responderRow(caller);
    expect(row.totpSecret).toMatch(/^v2:/);
    expect(box.open(row.totpSecret!, { teamId: TEAM, userId: caller.userId })).toBe(JSON.stringify({ active: secret }));
    expect(() => box.open(row.totpSecret!, { teamId: TEAM, userId: 'U0SOMEONE' })).toThrow(SecretBindingError);
    // An unbound copy turning up again later (a restored backup) is refused, not trusted.
    expect(() => box.open(v1, { teamId: TEAM, userId: caller.userId })).toThrow(SecretBindingError);
    const rebound = await em()
      .getConnection()
      .execute(`select params from audit_event where team_id = ? and action = 'stepup.secrets_rebound'`, [TEAM]);
    expect(rebound).toEqual([{ params: { responders: 1 } }]);
    clock.advance(30_000);
    await checkStepUp(legacyDeps, em(), caller, await codeAt(secret), 'approve');
  });
});

describe('secrets', () => {
  it('when all of the above has run, then no audit row and no log line contains a secret or a code', async () => {
    expect(secrets.size).toBeGreaterThan(5);
    expect(codes.size).toBeGreaterThan(20);
    const rows = await em().getConnection().execute<Array<Record<string, unknown>>>(`select * from audit_event`);
    expect(rows.length).toBeGreaterThan(20);
    const haystacks = [...rows.map((r) => JSON.stringify(r)), ...logger.lines];
    for (const text of haystacks) {
      expect(text).not.toMatch(/otpauth:/i);
      for (const s of secrets) expect(text).not.toContain(s);
      // A code is a whole number: six digits inside a hash's hex are no leak.
      for (const c of codes) expect(text).not.toMatch(new RegExp(`(?<![0-9A-Za-z])${c}(?![0-9A-Za-z])`));
    }
  });
});
