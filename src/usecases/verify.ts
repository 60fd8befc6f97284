import { randomUUID } from 'node:crypto';
import { raw } from '@mikro-orm/core';
import { Verification, VerificationPushAttempt } from '../db/entities.js';
import { phoneLabel, pushCapablePhones } from '../domain/duo-user.js';
import type { Actor } from '../domain/roles.js';
import { PUSH_LIMIT_WINDOW_MINUTES } from '../domain/settings.js';
import type { VerificationPurpose, VerificationStatus } from '../domain/verification.js';
import { isDuoError } from '../duo/errors.js';
import type { Phone, User, VerificationPushResult } from '../duo/types.js';
import { fail } from '../errors.js';
import { authorizeOrThrow, findActor, recordDenial, requireActor } from './access.js';
import type { Caller, Deps, EntityManager, Tuning } from './deps.js';
import { findDuoUser } from './lookup.js';
import { loadSettings } from './settings.js';
import { toVerificationView, type VerificationView } from './verification-policy.js';

/**
 * Verify a caller with a Duo Push: the responder sends a verification push to one of the user's
 * activated push phones, reads the confirmation code to the caller, and a durable job follows the
 * answer. The confirmation code is returned to the caller of `sendVerificationPush` only (to be shown
 * once, to the responder): it is never stored, audited or logged.
 */
declare module '../errors.js' {
  interface Problems {
    'verify.phone_gone': { username: string };
    /** A push limit is reached: `scope` says whose (this Duo user's, or this responder's); `retryAt` when one frees up. */
    'verify.push_limit': {
      scope: 'user' | 'responder';
      limit: number;
      windowMinutes: number;
      username: string;
      retryAt: Date;
    };
  }
}

export const VERIFY_FOLLOW_JOB = 'verification.follow';
export const followJobKey = (verificationId: string) => `${VERIFY_FOLLOW_JOB}:${verificationId}`;

export type VerifyTarget = { duoUserId: string } | { query: string };

export interface SentVerification {
  kind: 'sent';
  user: User;
  verification: VerificationView;
  /** Show it once, to the responder only. Never store, log or audit it. */
  confirmationCode: string;
  phoneLabel: string;
}

export type StartVerificationResult =
  | { kind: 'needsPhoneChoice'; user: User; phones: Phone[] }
  | { kind: 'noPushDevice'; user: User }
  | SentVerification;

async function authorizedActor(deps: Deps, em: EntityManager, caller: Caller) {
  const actor = await requireActor(deps, em, caller);
  await authorizeOrThrow(deps, em, caller, actor, 'user.verify', { kind: 'none' });
  return actor;
}

/** Finds the user; sends at once when there is exactly one push phone, else says what to ask. */
export async function startVerification(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  target: VerifyTarget,
): Promise<StartVerificationResult> {
  await authorizedActor(deps, em, caller);
  const user = await findDuoUser(deps, 'duoUserId' in target ? target.duoUserId : target.query);
  const phones = pushCapablePhones(user);
  if (phones.length === 0) return { kind: 'noPushDevice', user };
  if (phones.length > 1) return { kind: 'needsPhoneChoice', user, phones };
  return sendVerificationPush(deps, em, caller, user.user_id, phones[0]!.phone_id);
}

/** Sends the push to a phone the user has now (ids from Slack are re-checked against Duo). */
export async function sendVerificationPush(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  duoUserId: string,
  phoneId: string,
): Promise<SentVerification> {
  const actor = await authorizedActor(deps, em, caller);
  const user = await findDuoUser(deps, duoUserId);
  const phone = pushCapablePhones(user).find((p) => p.phone_id === phoneId);
  if (!phone) throw fail('INVALID_STATE', 'verify.phone_gone', { username: user.username });
  const pushed = await pushAndFollow(deps, em, { caller, actor, user, phone, purpose: 'caller' });
  return { kind: 'sent', user, ...pushed };
}

export interface PushRequest {
  caller: Caller;
  actor: Actor;
  user: User;
  phone: Phone;
  purpose: VerificationPurpose;
}

/**
 * The one way a verification push goes out: counted against the push limits first, audited (intent
 * before the Duo call), recorded as a Verification with its durable follower job. Callers have decided
 * that this push may be sent (the verify flow authorizes user.verify; a step-up enrollment pushes only to
 * the responder's own Duo account).
 */
export async function pushAndFollow(
  deps: Deps,
  em: EntityManager,
  { caller, actor, user, phone, purpose }: PushRequest,
): Promise<{ verification: VerificationView; confirmationCode: string; phoneLabel: string }> {
  await countPushAttempt(deps, em, caller, actor, user);
  const id = randomUUID();
  const label = phoneLabel(phone);
  const intent = await deps.audit.intent(em, {
    teamId: actor.teamId,
    actor: { userId: actor.userId, role: actor.role },
    action: 'verification.sent',
    target: { duoUserId: user.user_id, username: user.username },
    correlationId: caller.correlationId,
    requestRef: id,
    params: { phoneId: phone.phone_id, ...(purpose === 'caller' ? {} : { purpose }) },
  });
  let pushId: string;
  let confirmationCode: string;
  try {
    ({ pushId, confirmationCode } = await deps.duo.sendVerificationPush(user.user_id, phone.phone_id));
  } catch (e) {
    // No Verification row: nothing is left 'waiting' for a push that may not exist.
    await deps.audit.complete(em, intent, {
      outcome: isDuoError(e) && e.outcomeUnknown ? 'unknown' : 'failed',
      duoRef: isDuoError(e) ? e.code : 'error',
    });
    throw e;
  }
  const now = deps.clock.now();
  await em.transactional(async (tem) => {
    tem.create(Verification, {
      id,
      teamId: actor.teamId,
      responderUserId: actor.userId,
      duoUserId: user.user_id,
      username: user.username,
      phoneId: phone.phone_id,
      phoneLabel: label,
      pushId,
      status: 'waiting',
      sentAt: now,
      answeredAt: null,
      validUntil: null,
      messageChannel: null,
      messageTs: null,
      correlationId: caller.correlationId,
      purpose,
    });
    await tem.flush();
    await deps.jobs.enqueue(tem, {
      kind: VERIFY_FOLLOW_JOB,
      payload: { verificationId: id },
      runAt: new Date(now.getTime() + deps.tuning.verificationPollMs),
      dedupeKey: followJobKey(id),
    });
    await deps.audit.complete(tem, intent, { outcome: 'success', duoRef: pushId });
  });
  const verification = toVerificationView(await em.findOneOrFail(Verification, { id }, { refresh: true }));
  return { verification, confirmationCode, phoneLabel: label };
}

/**
 * Push bombing is refused before Duo is called: at most `max_verification_pushes_per_user` pushes to one
 * Duo user (from all responders) and `max_verification_pushes_per_responder` from one responder in the
 * window. Attempts are counted and recorded under one lock per installation, so concurrent requests on
 * any instance cannot all slip under the limit. A refusal is audited and says when a push is possible again.
 */
async function countPushAttempt(deps: Deps, em: EntityManager, caller: Caller, actor: Actor, user: User) {
  const settings = await loadSettings(em, actor.teamId);
  const now = deps.clock.now();
  const since = new Date(now.getTime() - PUSH_LIMIT_WINDOW_MINUTES * 60_000);
  const scopes = [
    { scope: 'user' as const, where: { duoUserId: user.user_id }, limit: settings.max_verification_pushes_per_user },
    {
      scope: 'responder' as const,
      where: { responderUserId: actor.userId },
      limit: settings.max_verification_pushes_per_responder,
    },
  ];
  const refused = await em.transactional(async (tem) => {
    await tem
      .getConnection()
      .execute(
        'select pg_advisory_xact_lock(hashtext(?))',
        [`duo-desk:verification-push:${actor.teamId}`],
        'all',
        tem.getTransactionContext(),
      );
    for (const s of scopes) {
      const recent = { teamId: actor.teamId, ...s.where, at: { $gt: since } };
      if ((await tem.count(VerificationPushAttempt, recent)) < s.limit) continue;
      const oldest = await tem.findOneOrFail(VerificationPushAttempt, recent, { orderBy: { at: 'asc' } });
      return { ...s, retryAt: new Date(oldest.at.getTime() + PUSH_LIMIT_WINDOW_MINUTES * 60_000) };
    }
    tem.create(VerificationPushAttempt, {
      teamId: actor.teamId,
      responderUserId: actor.userId,
      duoUserId: user.user_id,
      at: now,
    });
    await tem.flush();
    return null;
  });
  if (!refused) return;
  await recordDenial(deps, em, caller, actor, {
    attempted: 'verification.sent',
    why: `verification push limit reached (${refused.scope})`,
    target: { duoUserId: user.user_id, username: user.username },
    params: { scope: refused.scope, limit: refused.limit, windowMinutes: PUSH_LIMIT_WINDOW_MINUTES },
  });
  throw fail('LIMIT_REACHED', 'verify.push_limit', {
    scope: refused.scope,
    limit: refused.limit,
    windowMinutes: PUSH_LIMIT_WINDOW_MINUTES,
    username: user.username,
    retryAt: refused.retryAt,
  });
}

/** Remembers where the responder's status message is, so the follower can update it later. */
export async function attachVerificationMessage(
  em: EntityManager,
  verificationId: string,
  message: { channel: string; ts: string },
): Promise<VerificationView | null> {
  await em.nativeUpdate(
    Verification,
    { id: verificationId },
    { messageChannel: message.channel, messageTs: message.ts, version: raw('version + 1') },
  );
  const v = await em.findOne(Verification, { id: verificationId }, { refresh: true });
  return v ? toVerificationView(v) : null;
}

const FINAL_STATUS: Record<Exclude<VerificationPushResult, 'waiting'>, VerificationStatus> = {
  approve: 'approved',
  deny: 'denied',
  fraud: 'fraud',
  timeout: 'timed_out',
};

export interface FollowResult {
  verification: VerificationView | null;
  /** False while the push is still waiting: poll again. */
  done: boolean;
  /** Duo answered this poll with a 429: back off before the next one. */
  rateLimited?: boolean;
}

/**
 * When to poll a waiting push next: on a grid from when it was sent, every second while the caller is
 * most likely answering (the first 30 s), then every 2 s, so a slow run does not push later polls
 * back; never sooner than half an interval from now. After a 429 the wait doubles with each further
 * one (`rateLimitedTimes` in a row).
 */
export function nextVerificationPoll(tuning: Tuning, sentAt: Date, now: Date, rateLimitedTimes = 0): Date {
  const fast = tuning.verificationPollMs;
  const slow = Math.max(fast, tuning.verificationSlowPollMs);
  if (rateLimitedTimes > 0)
    return new Date(
      now.getTime() + Math.min(slow * 8, tuning.verificationRateLimitBackoffMs * 2 ** (rateLimitedTimes - 1)),
    );
  const elapsed = now.getTime() - sentAt.getTime();
  const window = tuning.verificationFastPollWindowMs;
  const [from, every] = elapsed < window ? [0, fast] : [window, slow];
  let next = from + (Math.floor((elapsed - from) / every) + 1) * every;
  if (next - elapsed < every / 2) next += every;
  return new Date(sentAt.getTime() + next);
}

/** One poll of Duo. Finishes the verification (once, whichever instance gets there) when Duo answered. */
export async function followVerification(deps: Deps, em: EntityManager, verificationId: string): Promise<FollowResult> {
  const v = await em.findOne(Verification, { id: verificationId }, { refresh: true });
  if (v?.status !== 'waiting') return { verification: v ? toVerificationView(v) : null, done: true };
  const now = deps.clock.now();
  const overdue = now.getTime() - v.sentAt.getTime() > deps.tuning.verificationGiveUpMs;
  let result: VerificationPushResult = 'timeout';
  let rateLimited = false;
  if (v.pushId) {
    try {
      // A 429 is not waited out here: this job backs off, and the lane's other jobs go on.
      result = (await deps.duo.getVerificationPushResponse(v.duoUserId, v.pushId, { waitOnRateLimit: false })).result;
    } catch (e) {
      rateLimited = isDuoError(e) && e.code === 'DUO_RATE_LIMITED';
      // Transient (rate limit, 5xx, network): try again on the next poll, until the window is over.
      deps.logger.warn('verification poll failed; will retry', {
        verificationId,
        code: isDuoError(e) ? e.code : 'UNKNOWN',
      });
      result = 'waiting';
    }
  }
  if (result === 'waiting') {
    if (!overdue) return { verification: toVerificationView(v), done: false, rateLimited };
    result = 'timeout';
  }
  const status = FINAL_STATUS[result];
  const minutes = (await loadSettings(em, v.teamId)).verification_valid_minutes_unlock;
  // An enrollment push proves the responder holds their phone; it verifies no caller, so it is never valid for one.
  const validUntil =
    status === 'approved' && minutes > 0 && v.purpose === 'caller' ? new Date(now.getTime() + minutes * 60_000) : null;
  await em.transactional(async (tem) => {
    // Conditional: only from 'waiting', so two instances can't both finish (and audit) it.
    const changed = await tem.nativeUpdate(
      Verification,
      { id: v.id, status: 'waiting' },
      { status, answeredAt: now, validUntil, version: raw('version + 1') },
    );
    if (changed !== 1) return;
    const actor = await findActor(tem, v.teamId, v.responderUserId);
    await deps.audit.record(tem, {
      teamId: v.teamId,
      actor: { userId: v.responderUserId, role: actor?.role ?? null },
      action: 'verification.answered',
      outcome: status === 'approved' ? 'success' : 'failed',
      target: { duoUserId: v.duoUserId, username: v.username },
      correlationId: v.correlationId,
      requestRef: v.id,
      duoRef: v.pushId,
      params: {
        result,
        phoneId: v.phoneId,
        ...(v.purpose === 'caller' ? {} : { purpose: v.purpose }),
        ...(status === 'fraud' ? { alert: true } : {}),
      },
    });
  });
  const done = await em.findOne(Verification, { id: v.id }, { refresh: true });
  return { verification: done ? toVerificationView(done) : null, done: true };
}
