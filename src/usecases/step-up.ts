import { LockMode } from '@mikro-orm/core';
import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';
import { Responder, StepUpFailure } from '../db/entities.js';
import type { TotpStatus } from '../domain/step-up.js';
import { AppError, fail } from '../errors.js';
import { recordDenial, requireActor } from './access.js';
import type { Caller, Deps, EntityManager } from './deps.js';

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
 * conditional UPDATE. Both secrets are encrypted together; neither is ever stored in clear.
 *
 * Re-enrolling while active needs a valid code from the current authenticator (`currentCode`):
 * otherwise whoever holds the Slack session could replace the factor and step-up would protect
 * nothing. Someone who lost the device asks an Owner for resetTotpEnrollment.
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
    'stepup.reset_needs_owner': NoFacts;
    'stepup.reset_self': NoFacts;
  }
}

export type StepUpPurpose = 'approve' | 'unlock' | 'bypass_request' | 'reenroll';

export const TOTP_ISSUER = 'duo-desk';
/** ±1 time step of 30 s, in seconds (otplib's epochTolerance). */
export const TOTP_TOLERANCE_SECONDS = 30;
export const STEP_UP_MAX_FAILURES = 5;
export const STEP_UP_FAILURE_WINDOW_MS = 10 * 60_000;
export const STEP_UP_LOCK_MS = 15 * 60_000;

export interface TotpEnrollment {
  /** For the QR code only; never put it in a Slack message text or a log line. */
  otpauthUri: string;
  /** The base32 key for manual entry (DM it once, to the responder only). */
  secretForManualEntry: string;
  qrPng: Buffer;
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

function openDoc(deps: Deps, r: { totpSecret?: string | null; totpStatus: TotpStatus }): SecretDoc {
  if (!r.totpSecret) return {};
  const plain = deps.secretBox.open(r.totpSecret);
  if (!plain.startsWith('{')) return r.totpStatus === 'active' ? { active: plain } : { pending: plain };
  const doc = JSON.parse(plain) as SecretDoc;
  return {
    ...(typeof doc.active === 'string' ? { active: doc.active } : {}),
    ...(typeof doc.pending === 'string' ? { pending: doc.pending } : {}),
  };
}

const sealDoc = (deps: Deps, doc: SecretDoc) => deps.secretBox.seal(JSON.stringify(doc));

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

const actorOf = (r: ResponderRow) => ({ userId: r.userId, role: r.role });

/**
 * Records a refused code: a failure row, 'stepup.failed', and on the fifth failure within ten
 * minutes a fifteen-minute lock with 'stepup.locked' (mirrored to the audit channel: that event is
 * the alert). Always throws: STEP_UP_LOCKED (details.lockedNow = true) when this failure locked,
 * STEP_UP_INVALID otherwise.
 */
async function refuse(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  r: ResponderRow,
  purpose: StepUpPurpose | 'enroll',
  why: 'wrong_code' | 'replayed',
): Promise<never> {
  const now = deps.clock.now();
  const since = new Date(now.getTime() - STEP_UP_FAILURE_WINDOW_MS);
  const lockedUntil = new Date(now.getTime() + STEP_UP_LOCK_MS);
  const { failures, lockedNow } = await em.transactional(async (tem) => {
    // Serialises one responder's failures, so concurrent wrong codes cannot each miss the others' rows.
    await tem.findOne(Responder, { id: r.id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
    tem.create(StepUpFailure, { teamId: r.teamId, userId: r.userId, at: now });
    await tem.flush();
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
    if (lockedNow)
      await deps.audit.record(tem, {
        teamId: r.teamId,
        actor: actorOf(r),
        action: 'stepup.locked',
        outcome: 'denied',
        correlationId: caller.correlationId,
        params: {
          purpose,
          recentFailures: failures,
          lockedUntil: lockedUntil.toISOString(),
          lockMinutes: STEP_UP_LOCK_MS / 60_000,
          alert: 'possible code guessing: this event is the audit-channel alert',
        },
      });
    return { failures, lockedNow };
  });
  if (lockedNow) {
    deps.logger.warn('step-up locked after repeated wrong codes', {
      teamId: r.teamId,
      userId: r.userId,
      lockedUntil: lockedUntil.toISOString(),
      correlationId: caller.correlationId,
    });
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
  assertNotLocked(deps, r);
  const token = normalizeCode(code);
  const secret = openDoc(deps, r).active;
  if (!secret) throw new AppError('STEP_UP_NOT_ENROLLED', 'active enrollment without a secret', TOTP_FIELD);
  const lastStep = r.totpLastStep ?? null;
  const step = await matchStep(deps, secret, token, lastStep);
  if (step === null) {
    // Distinguish a replay (valid code, step already used) for the message and the audit row.
    const replayed = lastStep !== null && (await matchStep(deps, secret, token, null)) !== null;
    return refuse(deps, em, caller, r, purpose, replayed ? 'replayed' : 'wrong_code');
  }
  const now = deps.clock.now();
  const claimed = await em.nativeUpdate(
    Responder,
    { id: r.id, totpStatus: 'active', $or: [{ totpLastStep: null }, { totpLastStep: { $lt: step } }] },
    { totpLastStep: step, updatedAt: now },
  );
  if (claimed === 0) return refuse(deps, em, caller, r, purpose, 'replayed');
  await deps.audit.record(em, {
    teamId: r.teamId,
    actor: actorOf(r),
    action: 'stepup.succeeded',
    outcome: 'success',
    correlationId: caller.correlationId,
    params: { purpose },
  });
}

/**
 * Starts (or restarts) enrollment for the caller and returns what the Slack layer DMs once.
 * While an enrollment is active, `currentCode` must be a valid code from it (STEP_UP_REQUIRED
 * otherwise); the active secret keeps working until the new one is confirmed.
 */
export async function startTotpEnrollment(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  opts: { currentCode?: string } = {},
): Promise<TotpEnrollment> {
  await requireActor(deps, em, caller);
  let r = await loadResponder(em, caller.teamId, caller.userId);
  assertNotLocked(deps, r);
  const reenrollment = r.totpStatus === 'active';
  if (reenrollment) {
    if (!opts.currentCode) throw fail('STEP_UP_REQUIRED', 'stepup.reenroll_needs_code', {}, TOTP_FIELD);
    await checkStepUp(deps, em, caller, opts.currentCode, 'reenroll');
    r = await loadResponder(em, caller.teamId, caller.userId);
  }
  const current = openDoc(deps, r);
  const secret = generateSecret();
  const doc: SecretDoc =
    reenrollment && current.active ? { active: current.active, pending: secret } : { pending: secret };
  const now = deps.clock.now();
  await em.transactional(async (tem) => {
    const n = await tem.nativeUpdate(
      Responder,
      { id: r.id, totpSecret: r.totpSecret ?? null, totpStatus: r.totpStatus },
      { totpSecret: sealDoc(deps, doc), totpStatus: reenrollment ? 'active' : 'pending', updatedAt: now },
    );
    if (n === 0) throw changedConcurrently();
    await deps.audit.record(tem, {
      teamId: r.teamId,
      actor: actorOf(r),
      action: 'stepup.enrolled',
      outcome: 'pending',
      correlationId: caller.correlationId,
      params: { phase: 'started', reenrollment },
    });
  });
  const otpauthUri = generateURI({ issuer: TOTP_ISSUER, label: `${r.userId}@${r.teamId}`, secret });
  const qrPng = await QRCode.toBuffer(otpauthUri, { type: 'png', width: 256 });
  return { otpauthUri, secretForManualEntry: secret, qrPng };
}

/**
 * Confirms the enrollment started last with a first code from the new secret: the new secret
 * becomes the active one and the code's step is recorded (so it cannot be used again). A wrong
 * code is a step-up failure (it counts towards the lock).
 */
export async function confirmTotpEnrollment(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  code: string,
): Promise<void> {
  await requireActor(deps, em, caller);
  const r = await loadResponder(em, caller.teamId, caller.userId);
  assertNotLocked(deps, r);
  const doc = openDoc(deps, r);
  if (!doc.pending) throw fail('INVALID_STATE', 'stepup.nothing_to_confirm', {}, TOTP_FIELD);
  const token = normalizeCode(code);
  // A new secret has no accepted steps yet: no replay floor from the old secret.
  const step = await matchStep(deps, doc.pending, token, null);
  if (step === null) return refuse(deps, em, caller, r, 'enroll', 'wrong_code');
  const reenrollment = r.totpStatus === 'active';
  const now = deps.clock.now();
  await em.transactional(async (tem) => {
    // Conditional on the sealed document we read: a concurrent confirm, restart or reset wins once.
    const n = await tem.nativeUpdate(
      Responder,
      { id: r.id, totpSecret: r.totpSecret ?? null },
      { totpSecret: sealDoc(deps, { active: doc.pending! }), totpStatus: 'active', totpLastStep: step, updatedAt: now },
    );
    if (n === 0) throw changedConcurrently();
    await deps.audit.record(tem, {
      teamId: r.teamId,
      actor: actorOf(r),
      action: 'stepup.enrolled',
      outcome: 'success',
      correlationId: caller.correlationId,
      params: { phase: 'confirmed', reenrollment },
    });
  });
}

/**
 * Owners only: clears another responder's enrollment, replay floor, lock and recent failures, so
 * they can enroll again (a lost phone). Owners cannot reset their own: that would let a hijacked
 * owner session drop its own step-up; another owner (or the command line) does it.
 */
export async function resetTotpEnrollment(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  targetUserId: string,
): Promise<void> {
  const actor = await requireActor(deps, em, caller);
  const self = targetUserId === actor.userId;
  if (actor.role !== 'owner' || self) {
    const why =
      actor.role !== 'owner'
        ? 'only an Owner can reset step-up enrollments'
        : 'an Owner cannot reset their own step-up enrollment';
    await recordDenial(deps, em, caller, actor, { attempted: 'stepup.reset', why, params: { targetUserId } });
    throw fail('PERMISSION_DENIED', actor.role !== 'owner' ? 'stepup.reset_needs_owner' : 'stepup.reset_self', {});
  }
  await applyTotpReset(
    deps,
    em,
    { userId: actor.userId, role: actor.role },
    caller.teamId,
    targetUserId,
    caller.correlationId,
  );
}

/**
 * Clears a responder's enrollment, failures and lock, audited. Callers decide who may: an Owner for
 * someone else (above), or the installer from the command line (a one-owner install has no other Owner).
 */
export async function applyTotpReset(
  deps: Deps,
  em: EntityManager,
  by: { userId: string; role: string | null } | { system: 'cli' },
  teamId: string,
  targetUserId: string,
  correlationId: string,
): Promise<void> {
  const target = await em.findOne(Responder, { teamId, userId: targetUserId }, { refresh: true });
  if (!target) throw fail('NOT_FOUND', 'responders.not_a_responder', { userId: targetUserId });
  const now = deps.clock.now();
  await em.transactional(async (tem) => {
    await tem.nativeUpdate(
      Responder,
      { id: target.id },
      { totpSecret: null, totpStatus: 'none', totpLastStep: null, stepUpLockedUntil: null, updatedAt: now },
    );
    await tem.nativeDelete(StepUpFailure, { teamId, userId: targetUserId });
    await deps.audit.record(tem, {
      teamId,
      actor: by,
      action: 'stepup.reset',
      outcome: 'success',
      correlationId,
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
