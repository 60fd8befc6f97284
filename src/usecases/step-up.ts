import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';
import type { AuditActor } from '../audit/trail.js';
import { type ITotpEnrollment, Responder, StepUpFailure, TotpEnrollment, Verification } from '../db/entities.js';
import type { Phone, User } from '../domain/duo-objects.js';
import { pushCapablePhones } from '../domain/duo-user.js';
import type { Actor } from '../domain/roles.js';
import type { TotpEnrollmentStatus, TotpStatus } from '../domain/step-up.js';
import { AppError, fail } from '../errors.js';
import { SecretBindingError } from '../secret-box.js';
import { recordDenial, requireActor } from './access.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import type { Progress } from './kit.js';
import { pushAndFollow } from './verify.js';

/**
 * TOTP step-up: a responder proves, with a code from an authenticator app, that the person at the
 * keyboard is the person behind the Slack account before approving bypass codes or unlocking.
 *
 * Storage. `responder.totp_secret` holds one SecretBox-sealed JSON document, never a bare secret:
 *   `{ "active"?: base32, "pending"?: base32 }`
 * and `totp_status` says what the responder can do with it:
 *   - 'none'    no document;
 *   - 'pending' first enrollment started: only `pending` is set, step-up is not usable yet;
 *   - 'active'  `active` is set; a re-enrollment in progress additionally sets `pending`.
 * So re-enrollment needs no extra column: the active secret keeps working (checkStepUp reads only
 * `active`) until a code from the new one is confirmed, which swaps `pending` into `active` in one
 * conditional UPDATE. Both secrets are encrypted together; neither is ever stored in clear. The
 * document is sealed for its row (team and user in the authenticated data): copied onto another
 * responder's row it does not open, and the attempt is audited as an alert.
 *
 * Bound to the person. An enrollment belongs to the responder's own Duo account: the one Duo user whose
 * email is the responder's Slack email (asked from Slack, users.info). Starting it sends a Duo Push to
 * that account's phone (the verify flow's push and follower, purpose 'enrollment'); confirming needs that
 * push approved and a first valid code. Whoever holds only the Slack session cannot approve the push on
 * the responder's phone, and a responder with no matching Duo user cannot enroll at all, so cannot pass
 * step-up, so cannot approve anything. Each attempt is a TotpEnrollment row (`responder.totp_pending_enrollment`
 * names the one the pending secret belongs to) that lives ten minutes; a durable job then deletes the QR
 * file and takes the key out of the modal (see ENROLLMENT_CLEANUP_JOB).
 *
 * Re-enrolling while active needs a valid code from the current authenticator (`currentCode`):
 * otherwise whoever holds the Slack session could replace the factor and step-up would protect
 * nothing. Someone who lost the device asks an Owner for a reset (src/usecases/stepup-reset.ts).
 *
 * Attempts are counted before codes are looked at: each code check first takes the responder's row lock,
 * refuses when five attempts in ten minutes are already counted (failed or still being checked), and
 * records this one; a correct code removes its record again. So N concurrent wrong codes, on any number
 * of instances, evaluate at most the five the window allows.
 *
 * Replay: `totp_last_step` is the last accepted time step; a code is accepted only when its step is
 * greater, and the update is conditional on that, so two concurrent uses of one code give one success.
 *
 * Transactions: call these outside any transaction (or before opening the one for the protected
 * action). A refused code records its failure and audit rows and then throws; inside a caller's
 * transaction that rolls back, the failure would be lost and the lockout could be bypassed.
 */

declare module '../errors.js' {
  interface Problems {
    'stepup.not_six_digits': NoFacts;
    /** `lockedNow`: this attempt caused the lock (the audit channel was just told). */
    'stepup.locked': { lockedUntil: Date; lockedNow: boolean };
    'stepup.wrong_code': { attemptsLeft: number };
    'stepup.replayed': { attemptsLeft: number };
    'stepup.reenroll_needs_code': NoFacts;
    'stepup.changed_concurrently': NoFacts;
    'stepup.nothing_to_confirm': NoFacts;
    'stepup.secret_not_bound': NoFacts;
    'stepup.no_slack_email': NoFacts;
    'stepup.no_duo_account': { email: string };
    'stepup.several_duo_accounts': { email: string; usernames: string[] };
    'stepup.duo_account_inactive': { username: string; status: string };
    'stepup.no_push_phone': { username: string };
    /** The confirming push has not been answered yet. */
    'stepup.push_waiting': { phoneLabel: string | null };
    /** The confirming push was denied, reported as fraud or timed out: the enrollment ended. */
    'stepup.push_not_approved': { result: 'denied' | 'fraud' | 'timed_out' | 'failed' };
    'stepup.enrollment_expired': { minutes: number };
  }
}

export type StepUpPurpose = 'approve' | 'unlock' | 'bypass_request' | 'reenroll' | 'weaken';

export const TOTP_ISSUER = 'duo-desk';
/** ±1 time step of 30 s, in seconds (otplib's epochTolerance). */
export const TOTP_TOLERANCE_SECONDS = 30;
export const STEP_UP_MAX_FAILURES = 5;
export const STEP_UP_FAILURE_WINDOW_MS = 10 * 60_000;
export const STEP_UP_LOCK_MS = 15 * 60_000;
/** How long a started enrollment (and the key on screen) lives before it is withdrawn. */
export const ENROLLMENT_TTL_MS = 10 * 60_000;
export const ENROLLMENT_CLEANUP_JOB = 'stepup.enrollment.cleanup';
export const enrollmentCleanupKey = (enrollmentId: string) => `${ENROLLMENT_CLEANUP_JOB}:${enrollmentId}`;

export interface StartedEnrollment {
  enrollmentId: string;
  /** For the QR code only; never put it in a Slack message text or a log line. */
  otpauthUri: string;
  /** The base32 key for manual entry: shown once, in the responder's own modal, never in a message. */
  secretForManualEntry: string;
  qrPng: Buffer;
  /** The responder's own Duo account, and the phone the confirming push went to. */
  username: string;
  phoneLabel: string;
  expiresAt: Date;
}

interface SecretDoc {
  active?: string;
  pending?: string;
}

type ResponderRow = Awaited<ReturnType<typeof loadResponder>>;

const TOTP_FIELD = { field: 'totp' } as const;
const changedConcurrently = () => fail('CONFLICT', 'stepup.changed_concurrently', {}, TOTP_FIELD);

const epochSeconds = (deps: Deps) => Math.floor(deps.clock.now().getTime() / 1000);

async function loadResponder(em: EntityManager, teamId: string, userId: string) {
  return em.findOneOrFail(Responder, { teamId, userId }, { refresh: true });
}

async function openDoc(deps: Deps, em: EntityManager, caller: Caller, r: ResponderRow): Promise<SecretDoc> {
  if (!r.totpSecret) return {};
  let plain: string;
  try {
    plain = deps.secretBox.open(r.totpSecret, { teamId: r.teamId, userId: r.userId });
  } catch (e) {
    if (!(e instanceof SecretBindingError)) throw e;
    await deps.audit.record(em, {
      teamId: r.teamId,
      actor: actorOf(r),
      action: 'stepup.secret_rejected',
      outcome: 'denied',
      correlationId: caller.correlationId,
      params: { totpStatus: r.totpStatus, alert: 'the stored step-up secret was not sealed for this responder' },
    });
    throw fail('STEP_UP_NOT_ENROLLED', 'stepup.secret_not_bound', {}, TOTP_FIELD);
  }
  if (!plain.startsWith('{')) return r.totpStatus === 'active' ? { active: plain } : { pending: plain };
  const doc = JSON.parse(plain) as SecretDoc;
  return {
    ...(typeof doc.active === 'string' ? { active: doc.active } : {}),
    ...(typeof doc.pending === 'string' ? { pending: doc.pending } : {}),
  };
}

const sealDoc = (deps: Deps, r: ResponderRow, doc: SecretDoc) =>
  deps.secretBox.seal(JSON.stringify(doc), { teamId: r.teamId, userId: r.userId });

/** Accepts "123456" and "123 456"; anything else is an input error, not a failed attempt. */
function normalizeCode(raw: string): string {
  const code = raw.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(code)) throw fail('INVALID_INPUT', 'stepup.not_six_digits', {}, TOTP_FIELD);
  return code;
}

function assertNotLocked(deps: Deps, r: ResponderRow): void {
  const until = r.stepUpLockedUntil;
  if (until && until.getTime() > deps.clock.now().getTime())
    throw fail('STEP_UP_LOCKED', 'stepup.locked', { lockedUntil: until, lockedNow: false }, TOTP_FIELD);
}

/** The code's time step when valid in ±1 step and after `afterStep`; null otherwise. */
async function matchStep(deps: Deps, secret: string, code: string, afterStep: number | null): Promise<number | null> {
  const r = await verify({
    secret,
    token: code,
    epoch: epochSeconds(deps),
    epochTolerance: TOTP_TOLERANCE_SECONDS,
    ...(afterStep === null ? {} : { afterTimeStep: afterStep }),
  });
  if (!r.valid || !('timeStep' in r)) return null;
  if (afterStep !== null && r.timeStep <= afterStep) return null;
  return r.timeStep;
}

const actorOf = (r: { userId: string; role: string }) => ({ userId: r.userId, role: r.role });

type Purpose = StepUpPurpose | 'enroll';

/**
 * Counts an attempt before its code is evaluated, under the responder's row lock (so attempts from every
 * instance are counted one after the other). Returns the attempt's id when one is left; otherwise audits
 * the refusal (and, when this attempt used up the allowance, the lock with its alert) and throws
 * STEP_UP_LOCKED without looking at the code.
 */
async function countAttempt(deps: Deps, em: EntityManager, caller: Caller, r: ResponderRow, purpose: Purpose) {
  const now = deps.clock.now();
  const since = new Date(now.getTime() - STEP_UP_FAILURE_WINDOW_MS);
  const claimed = await em.transactional(async (tem) => {
    const row = await tem.findOneOrFail(
      Responder,
      { id: r.id },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    );
    const until = row.stepUpLockedUntil;
    if (until && until.getTime() > now.getTime()) {
      await deps.audit.record(tem, {
        teamId: r.teamId,
        actor: actorOf(r),
        action: 'stepup.failed',
        outcome: 'denied',
        correlationId: caller.correlationId,
        params: { purpose, why: 'locked', lockedUntil: until.toISOString() },
      });
      return { lockedUntil: until, lockedNow: false };
    }
    const counted = await tem.count(StepUpFailure, { teamId: r.teamId, userId: r.userId, at: { $gt: since } });
    if (counted >= STEP_UP_MAX_FAILURES) {
      // The allowance is taken by failures and attempts still being checked: this one is not evaluated.
      const lockedUntil = new Date(now.getTime() + STEP_UP_LOCK_MS);
      await tem.nativeUpdate(Responder, { id: r.id }, { stepUpLockedUntil: lockedUntil, updatedAt: now });
      await recordLock(deps, tem, caller, r, purpose, counted, lockedUntil);
      return { lockedUntil, lockedNow: true };
    }
    const attempt = tem.create(StepUpFailure, { teamId: r.teamId, userId: r.userId, at: now });
    await tem.flush();
    return { attemptId: attempt.id };
  });
  if ('attemptId' in claimed) return claimed.attemptId;
  if (claimed.lockedNow) warnLocked(deps, caller, r, claimed.lockedUntil);
  throw fail('STEP_UP_LOCKED', 'stepup.locked', claimed, TOTP_FIELD);
}

function recordLock(
  deps: Deps,
  tem: EntityManager,
  caller: Caller,
  r: ResponderRow,
  purpose: Purpose,
  recentFailures: number,
  lockedUntil: Date,
) {
  return deps.audit.record(tem, {
    teamId: r.teamId,
    actor: actorOf(r),
    action: 'stepup.locked',
    outcome: 'denied',
    correlationId: caller.correlationId,
    params: {
      purpose,
      recentFailures,
      lockedUntil: lockedUntil.toISOString(),
      lockMinutes: STEP_UP_LOCK_MS / 60_000,
      alert: 'possible code guessing: this event is the audit-channel alert',
    },
  });
}

function warnLocked(deps: Deps, caller: Caller, r: ResponderRow, lockedUntil: Date) {
  deps.logger.warn('step-up locked after repeated wrong codes', {
    teamId: r.teamId,
    userId: r.userId,
    lockedUntil: lockedUntil.toISOString(),
    correlationId: caller.correlationId,
  });
}

/**
 * A counted attempt whose code was refused: its record stays as a failure, 'stepup.failed' is audited,
 * and the fifth failure within ten minutes locks step-up for fifteen with 'stepup.locked' (mirrored to
 * the audit channel: that event is the alert). Always throws: STEP_UP_LOCKED (details.lockedNow = true)
 * when this failure locked, STEP_UP_INVALID otherwise.
 */
async function refuse(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  r: ResponderRow,
  purpose: Purpose,
  why: 'wrong_code' | 'replayed',
): Promise<never> {
  const now = deps.clock.now();
  const since = new Date(now.getTime() - STEP_UP_FAILURE_WINDOW_MS);
  const lockedUntil = new Date(now.getTime() + STEP_UP_LOCK_MS);
  const { failures, lockedNow } = await em.transactional(async (tem) => {
    await tem.findOne(Responder, { id: r.id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
    const failures = await tem.count(StepUpFailure, { teamId: r.teamId, userId: r.userId, at: { $gt: since } });
    let lockedNow = false;
    if (failures >= STEP_UP_MAX_FAILURES) {
      // Conditional, so concurrent failures lock (and alert) once.
      const n = await tem.nativeUpdate(
        Responder,
        { id: r.id, $or: [{ stepUpLockedUntil: null }, { stepUpLockedUntil: { $lte: now } }] },
        { stepUpLockedUntil: lockedUntil, updatedAt: now },
      );
      lockedNow = n > 0;
    }
    await deps.audit.record(tem, {
      teamId: r.teamId,
      actor: actorOf(r),
      action: 'stepup.failed',
      outcome: 'failed',
      correlationId: caller.correlationId,
      params: { purpose, why, recentFailures: failures },
    });
    if (lockedNow) await recordLock(deps, tem, caller, r, purpose, failures, lockedUntil);
    return { failures, lockedNow };
  });
  if (lockedNow) {
    warnLocked(deps, caller, r, lockedUntil);
    throw fail('STEP_UP_LOCKED', 'stepup.locked', { lockedUntil, lockedNow: true }, TOTP_FIELD);
  }
  const attemptsLeft = Math.max(0, STEP_UP_MAX_FAILURES - failures);
  throw fail(
    'STEP_UP_INVALID',
    why === 'replayed' ? 'stepup.replayed' : 'stepup.wrong_code',
    { attemptsLeft },
    TOTP_FIELD,
  );
}

/**
 * Checks a step-up code for the caller. Resolves when accepted; throws STEP_UP_NOT_ENROLLED,
 * STEP_UP_LOCKED (details.lockedNow tells whether this attempt caused the lock), INVALID_INPUT or
 * STEP_UP_INVALID, all with details.field = 'totp'.
 */
export async function checkStepUp(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  code: string,
  purpose: StepUpPurpose,
): Promise<void> {
  await requireActor(deps, em, caller);
  const r = await loadResponder(em, caller.teamId, caller.userId);
  if (r.totpStatus !== 'active') throw new AppError('STEP_UP_NOT_ENROLLED', 'no active TOTP enrollment', TOTP_FIELD);
  const token = normalizeCode(code);
  const secret = (await openDoc(deps, em, caller, r)).active;
  if (!secret) throw new AppError('STEP_UP_NOT_ENROLLED', 'active enrollment without a secret', TOTP_FIELD);
  const attemptId = await countAttempt(deps, em, caller, r, purpose);
  const lastStep = r.totpLastStep ?? null;
  const step = await matchStep(deps, secret, token, lastStep);
  if (step === null) {
    // Distinguish a replay (valid code, step already used) for the message and the audit row.
    const replayed = lastStep !== null && (await matchStep(deps, secret, token, null)) !== null;
    return refuse(deps, em, caller, r, purpose, replayed ? 'replayed' : 'wrong_code');
  }
  const now = deps.clock.now();
  // The replay floor moves and its audit event is written in one transaction, like every responder change.
  const claimed = await em.transactional(async (tem) => {
    const n = await tem.nativeUpdate(
      Responder,
      { id: r.id, totpStatus: 'active', $or: [{ totpLastStep: null }, { totpLastStep: { $lt: step } }] },
      { totpLastStep: step, updatedAt: now },
    );
    if (n === 0) return false;
    // A correct code is not a failure: its attempt no longer counts.
    await tem.nativeDelete(StepUpFailure, { id: attemptId });
    await deps.audit.record(tem, {
      teamId: r.teamId,
      actor: actorOf(r),
      action: 'stepup.succeeded',
      outcome: 'success',
      correlationId: caller.correlationId,
      params: { purpose },
    });
    return true;
  });
  if (!claimed) return refuse(deps, em, caller, r, purpose, 'replayed');
}

interface OwnDuoAccount {
  user: User;
  phone: Phone;
}

/**
 * The responder's own Duo account: the one Duo user whose email is their Slack email, active, with a
 * phone that takes pushes (the one seen last when there are several). Any other case is refused, audited.
 */
async function ownDuoAccount(deps: Deps, em: EntityManager, caller: Caller, actor: Actor): Promise<OwnDuoAccount> {
  const refused = async (why: string, error: AppError): Promise<never> => {
    await recordDenial(deps, em, caller, actor, { attempted: 'stepup.enroll', why });
    throw error;
  };
  const email = await deps.people.emailOf(caller.userId);
  if (!email) return refused('no email in the Slack profile', fail('INVALID_STATE', 'stepup.no_slack_email', {}));
  const users = await deps.duo.getUsersByEmail(email);
  if (users.length === 0)
    return refused('no Duo user with the Slack email', fail('INVALID_STATE', 'stepup.no_duo_account', { email }));
  if (users.length > 1)
    return refused(
      'several Duo users with the Slack email',
      fail('INVALID_STATE', 'stepup.several_duo_accounts', { email, usernames: users.map((u) => u.username) }),
    );
  const user = users[0]!;
  if (user.status !== 'active')
    return refused(
      'own Duo account not active',
      fail('INVALID_STATE', 'stepup.duo_account_inactive', { username: user.username, status: user.status }),
    );
  const phone = pushCapablePhones(user).sort((a, b) => (b.last_seen ?? '').localeCompare(a.last_seen ?? ''))[0];
  if (!phone)
    return refused(
      'own Duo account has no push phone',
      fail('INVALID_STATE', 'stepup.no_push_phone', { username: user.username }),
    );
  return { user, phone };
}

/**
 * Starts (or restarts) enrollment for the caller: binds it to their own Duo account, sends the confirming
 * push there, and returns what the Slack layer shows once, in the responder's modal. While an enrollment
 * is active, `currentCode` must be a valid code from it (STEP_UP_REQUIRED otherwise); the active secret
 * keeps working until the new one is confirmed. `progress.accepted` runs once the code (if any) passed,
 * before the slower Slack and Duo calls.
 */
export async function startTotpEnrollment(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  opts: { currentCode?: string } = {},
  progress: Progress = {},
): Promise<StartedEnrollment> {
  const actor = await requireActor(deps, em, caller);
  let r = await loadResponder(em, caller.teamId, caller.userId);
  assertNotLocked(deps, r);
  const reenrollment = r.totpStatus === 'active';
  if (reenrollment) {
    if (!opts.currentCode) throw fail('STEP_UP_REQUIRED', 'stepup.reenroll_needs_code', {}, TOTP_FIELD);
    await checkStepUp(deps, em, caller, opts.currentCode, 'reenroll');
  }
  await progress.accepted?.();
  const own = await ownDuoAccount(deps, em, caller, actor);
  const pushed = await pushAndFollow(deps, em, { caller, actor, ...own, purpose: 'enrollment' });
  r = await loadResponder(em, caller.teamId, caller.userId);
  const current = await openDoc(deps, em, caller, r);
  const secret = generateSecret();
  const doc: SecretDoc =
    reenrollment && current.active ? { active: current.active, pending: secret } : { pending: secret };
  const now = deps.clock.now();
  const enrollmentId = randomUUID();
  const expiresAt = new Date(now.getTime() + ENROLLMENT_TTL_MS);
  await em.transactional(async (tem) => {
    const n = await tem.nativeUpdate(
      Responder,
      { id: r.id, totpSecret: r.totpSecret ?? null, totpStatus: r.totpStatus },
      {
        totpSecret: sealDoc(deps, r, doc),
        totpStatus: reenrollment ? 'active' : 'pending',
        totpPendingEnrollment: enrollmentId,
        updatedAt: now,
      },
    );
    if (n === 0) throw changedConcurrently();
    if (r.totpPendingEnrollment) await endEnrollment(deps, tem, r.totpPendingEnrollment, 'replaced');
    tem.create(TotpEnrollment, {
      id: enrollmentId,
      teamId: r.teamId,
      userId: r.userId,
      duoUserId: own.user.user_id,
      username: own.user.username,
      verificationId: pushed.verification.id,
      status: 'pending',
      reenrollment,
      createdAt: now,
      expiresAt,
    });
    await tem.flush();
    // Durable: the QR file and the key on screen are withdrawn at the latest when the attempt expires.
    await deps.jobs.enqueue(tem, {
      kind: ENROLLMENT_CLEANUP_JOB,
      payload: { enrollmentId },
      runAt: expiresAt,
      dedupeKey: enrollmentCleanupKey(enrollmentId),
    });
    await deps.audit.record(tem, {
      teamId: r.teamId,
      actor: actorOf(r),
      action: 'stepup.enrolled',
      outcome: 'pending',
      target: { duoUserId: own.user.user_id, username: own.user.username },
      correlationId: caller.correlationId,
      requestRef: enrollmentId,
      params: { phase: 'started', reenrollment },
    });
  });
  const otpauthUri = generateURI({ issuer: TOTP_ISSUER, label: `${r.userId}@${r.teamId}`, secret });
  const qrPng = await QRCode.toBuffer(otpauthUri, { type: 'png', width: 256 });
  return {
    enrollmentId,
    otpauthUri,
    secretForManualEntry: secret,
    qrPng,
    username: own.user.username,
    phoneLabel: pushed.phoneLabel,
    expiresAt,
  };
}

/** Marks a pending attempt as ended and brings its clean-up forward (the QR file and the key go now). */
async function endEnrollment(deps: Deps, tem: EntityManager, enrollmentId: string, status: TotpEnrollmentStatus) {
  const n = await tem.nativeUpdate(
    TotpEnrollment,
    { id: enrollmentId, status: 'pending' },
    { status, finishedAt: deps.clock.now() },
  );
  if (n > 0) await deps.jobs.poke(tem, enrollmentCleanupKey(enrollmentId));
  return n > 0;
}

/** Records where the QR file and the modal with the key are, so the clean-up can withdraw them. */
export async function attachEnrollmentDisplay(
  em: EntityManager,
  caller: Caller,
  enrollmentId: string,
  display: { qrFileId?: string; viewId?: string },
): Promise<void> {
  await em.nativeUpdate(
    TotpEnrollment,
    { id: enrollmentId, teamId: caller.teamId, userId: caller.userId },
    {
      ...(display.qrFileId ? { qrFileId: display.qrFileId } : {}),
      ...(display.viewId ? { viewId: display.viewId } : {}),
    },
  );
}

/** Takes the pending secret away when it still belongs to `enrollmentId` (an active secret stays). */
async function dropPending(deps: Deps, tem: EntityManager, r: ResponderRow, enrollmentId: string) {
  const doc = await openDoc(
    deps,
    tem,
    { teamId: r.teamId, userId: r.userId, correlationId: `enrollment:${enrollmentId}` },
    r,
  );
  await tem.nativeUpdate(
    Responder,
    { id: r.id, totpSecret: r.totpSecret ?? null, totpPendingEnrollment: enrollmentId },
    {
      totpSecret: doc.active ? sealDoc(deps, r, { active: doc.active }) : null,
      totpStatus: doc.active ? 'active' : 'none',
      totpPendingEnrollment: null,
      updatedAt: deps.clock.now(),
    },
  );
}

/** 'stepup.enrolled' for an attempt that ended (confirmed, refused, expired), on the bound Duo account. */
function recordEnrollmentEnd(
  deps: Deps,
  tem: EntityManager,
  caller: Caller,
  r: ResponderRow,
  enrollment: ITotpEnrollment,
  outcome: 'success' | 'failed',
  params: { phase: string; push?: string },
) {
  return deps.audit.record(tem, {
    teamId: r.teamId,
    actor: actorOf(r),
    action: 'stepup.enrolled',
    outcome,
    target: { duoUserId: enrollment.duoUserId, username: enrollment.username },
    correlationId: caller.correlationId,
    requestRef: enrollment.id,
    params: { ...params, reenrollment: enrollment.reenrollment },
  });
}

/**
 * Confirms the enrollment started last: its push must have been approved on the responder's own Duo
 * account, and the code must be a first valid code from the new secret. Then the new secret becomes the
 * active one and the code's step is recorded (so it cannot be used again). A push still waiting is asked
 * for again (nothing counted); a push denied, reported or timed out ends the enrollment unconfirmed; a
 * wrong code is a counted step-up failure.
 */
export async function confirmTotpEnrollment(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  code: string,
): Promise<void> {
  await requireActor(deps, em, caller);
  const r = await loadResponder(em, caller.teamId, caller.userId);
  const doc = await openDoc(deps, em, caller, r);
  const enrollment = r.totpPendingEnrollment
    ? await em.findOne(TotpEnrollment, { id: r.totpPendingEnrollment }, { refresh: true })
    : null;
  if (!doc.pending || enrollment?.status !== 'pending')
    throw fail('INVALID_STATE', 'stepup.nothing_to_confirm', {}, TOTP_FIELD);
  const token = normalizeCode(code);
  const now = deps.clock.now();
  const refused = async (status: 'refused' | 'expired', params: { push?: string }) => {
    await em.transactional(async (tem) => {
      await dropPending(deps, tem, r, enrollment.id);
      await endEnrollment(deps, tem, enrollment.id, status);
      await recordEnrollmentEnd(deps, tem, caller, r, enrollment, 'failed', { phase: status, ...params });
    });
  };
  if (enrollment.expiresAt.getTime() <= now.getTime()) {
    await refused('expired', {});
    throw fail('INVALID_STATE', 'stepup.enrollment_expired', { minutes: ENROLLMENT_TTL_MS / 60_000 });
  }
  const push = enrollment.verificationId
    ? await em.findOne(Verification, { id: enrollment.verificationId }, { refresh: true })
    : null;
  if (push?.status === 'waiting')
    throw fail('INVALID_STATE', 'stepup.push_waiting', { phoneLabel: push.phoneLabel ?? null }, TOTP_FIELD);
  if (push?.status !== 'approved') {
    const result = push?.status ?? 'failed';
    await refused('refused', { push: result });
    throw fail('PERMISSION_DENIED', 'stepup.push_not_approved', { result });
  }
  const attemptId = await countAttempt(deps, em, caller, r, 'enroll');
  // A new secret has no accepted steps yet: no replay floor from the old secret.
  const step = await matchStep(deps, doc.pending, token, null);
  if (step === null) return refuse(deps, em, caller, r, 'enroll', 'wrong_code');
  await em.transactional(async (tem) => {
    // Conditional on the sealed document we read: a concurrent confirm, restart or reset wins once.
    const n = await tem.nativeUpdate(
      Responder,
      { id: r.id, totpSecret: r.totpSecret ?? null, totpPendingEnrollment: enrollment.id },
      {
        totpSecret: sealDoc(deps, r, { active: doc.pending! }),
        totpStatus: 'active',
        totpLastStep: step,
        totpPendingEnrollment: null,
        totpDuoUserId: enrollment.duoUserId,
        updatedAt: now,
      },
    );
    if (n === 0) throw changedConcurrently();
    await tem.nativeDelete(StepUpFailure, { id: attemptId });
    await endEnrollment(deps, tem, enrollment.id, 'confirmed');
    await recordEnrollmentEnd(deps, tem, caller, r, enrollment, 'success', { phase: 'confirmed' });
  });
}

/** The responder closed the enrollment modal: the attempt ends now (an active enrollment stays). */
export async function abandonTotpEnrollment(deps: Deps, em: EntityManager, caller: Caller): Promise<void> {
  const r = await em.findOne(Responder, { teamId: caller.teamId, userId: caller.userId }, { refresh: true });
  const enrollmentId = r?.totpPendingEnrollment;
  if (!r || !enrollmentId) return;
  await em.transactional(async (tem) => {
    await dropPending(deps, tem, r, enrollmentId);
    if (await endEnrollment(deps, tem, enrollmentId, 'replaced'))
      await deps.audit.record(tem, {
        teamId: r.teamId,
        actor: actorOf(r),
        action: 'stepup.enrolled',
        outcome: 'failed',
        correlationId: caller.correlationId,
        requestRef: enrollmentId,
        params: { phase: 'abandoned' },
      });
  });
}

export interface EnrollmentDisplay {
  status: TotpEnrollmentStatus;
  expiresAt: Date;
  qrFileId: string | null;
  qrDeleted: boolean;
  viewId: string | null;
}

/**
 * For the clean-up job: ends the attempt when it expired unconfirmed (its pending secret goes), and says
 * what is left to withdraw in Slack. Null when there is no such attempt.
 */
export async function settleEnrollment(deps: Deps, em: EntityManager, enrollmentId: string) {
  const e = await em.findOne(TotpEnrollment, { id: enrollmentId }, { refresh: true });
  if (!e) return null;
  if (e.status === 'pending' && e.expiresAt.getTime() <= deps.clock.now().getTime()) {
    await em.transactional(async (tem) => {
      const r = await tem.findOne(Responder, { teamId: e.teamId, userId: e.userId }, { refresh: true });
      if (r) await dropPending(deps, tem, r, e.id);
      if (await endEnrollment(deps, tem, e.id, 'expired'))
        await deps.audit.record(tem, {
          teamId: e.teamId,
          actor: { system: 'duo-desk' },
          action: 'stepup.enrolled',
          outcome: 'failed',
          target: { duoUserId: e.duoUserId, username: e.username },
          requestRef: e.id,
          params: { phase: 'expired', forUserId: e.userId },
        });
    });
    await em.refresh(e);
  }
  return {
    status: e.status,
    expiresAt: e.expiresAt,
    qrFileId: e.qrFileId ?? null,
    qrDeleted: e.qrDeletedAt != null,
    viewId: e.viewId ?? null,
  } satisfies EnrollmentDisplay;
}

export async function markQrDeleted(deps: Deps, em: EntityManager, enrollmentId: string): Promise<void> {
  await em.nativeUpdate(TotpEnrollment, { id: enrollmentId }, { qrDeletedAt: deps.clock.now() });
}

/**
 * Clears a responder's enrollment, failures and lock, audited. Callers decide who may: an Owner for
 * someone else (above), or the installer from the command line (a one-owner install has no other Owner).
 */
export async function applyTotpReset(
  deps: Deps,
  em: EntityManager,
  by: AuditActor,
  teamId: string,
  targetUserId: string,
  correlationId: string,
  /** The approval request this reset carries out (an Owner's guarded reset). */
  requestRef?: string,
): Promise<void> {
  const target = await em.findOne(Responder, { teamId, userId: targetUserId }, { refresh: true });
  if (!target) throw fail('NOT_FOUND', 'responders.not_a_responder', { userId: targetUserId });
  const now = deps.clock.now();
  await em.transactional(async (tem) => {
    await tem.nativeUpdate(
      Responder,
      { id: target.id },
      {
        totpSecret: null,
        totpStatus: 'none',
        totpLastStep: null,
        stepUpLockedUntil: null,
        totpPendingEnrollment: null,
        totpDuoUserId: null,
        updatedAt: now,
      },
    );
    if (target.totpPendingEnrollment) await endEnrollment(deps, tem, target.totpPendingEnrollment, 'replaced');
    await tem.nativeDelete(StepUpFailure, { teamId, userId: targetUserId });
    await deps.audit.record(tem, {
      teamId,
      actor: by,
      action: 'stepup.reset',
      outcome: 'success',
      correlationId,
      requestRef: requestRef ?? null,
      params: { targetUserId, previousStatus: target.totpStatus },
    });
  });
}

/** Enrollment state for display. `lockedUntil` is the stored value: compare it with the clock. */
export async function totpStatus(
  em: EntityManager,
  teamId: string,
  userId: string,
): Promise<{ status: TotpStatus; lockedUntil: Date | null }> {
  const r = await em.findOne(Responder, { teamId, userId }, { refresh: true });
  return { status: r?.totpStatus ?? 'none', lockedUntil: r?.stepUpLockedUntil ?? null };
}
/**
 * Re-seals secrets stored before they were bound to their rows (SecretBox v1) as bound ones, once, at
 * start-up: from then on a step-up secret opens only on its own responder's row. One audited event per
 * installation, in the same transaction as its rows.
 */
export async function bindUnboundSecrets(deps: Deps, em: EntityManager): Promise<number> {
  const rows = await em.find(Responder, { totpSecret: { $like: 'v1:%' } }, { refresh: true });
  const byTeam = new Map<string, typeof rows>();
  for (const r of rows) byTeam.set(r.teamId, [...(byTeam.get(r.teamId) ?? []), r]);
  let bound = 0;
  for (const [teamId, team] of byTeam)
    await em.transactional(async (tem) => {
      let n = 0;
      for (const r of team) {
        let plain: string;
        try {
          plain = deps.secretBox.openUnbound(r.totpSecret!);
        } catch (e) {
          // Left as it is: it will not open at step-up either, and that attempt is audited.
          deps.logger.warn('a stored step-up secret could not be opened to bind it', { err: e, userId: r.userId });
          continue;
        }
        const sealed = deps.secretBox.seal(plain, { teamId: r.teamId, userId: r.userId });
        n += await tem.nativeUpdate(Responder, { id: r.id, totpSecret: r.totpSecret }, { totpSecret: sealed });
      }
      if (n > 0)
        await deps.audit.record(tem, {
          teamId,
          actor: { system: 'duo-desk' },
          action: 'stepup.secrets_rebound',
          outcome: 'success',
          params: { responders: n },
        });
      bound += n;
    });
  return bound;
}
