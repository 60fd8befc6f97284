import type { Clock } from '../clock.js';
import { type IVerification, Verification } from '../db/entities.js';
import type { VerificationStatus } from '../domain/verification.js';
import type { EntityManager } from './deps.js';

/** A verification as the views and the Slack follower see it: a plain, read-only copy of the row. */
export interface VerificationView {
  readonly id: string;
  readonly responderUserId: string;
  readonly duoUserId: string;
  readonly username: string;
  readonly phoneLabel: string | null;
  readonly status: VerificationStatus;
  readonly sentAt: Date;
  readonly answeredAt: Date | null;
  readonly validUntil: Date | null;
  /** Where the responder's status message is, once posted. */
  readonly message: { readonly channel: string; readonly ts: string } | null;
}

export const toVerificationView = (v: IVerification): VerificationView => ({
  id: v.id,
  responderUserId: v.responderUserId,
  duoUserId: v.duoUserId,
  username: v.username,
  phoneLabel: v.phoneLabel ?? null,
  status: v.status,
  sentAt: v.sentAt,
  answeredAt: v.answeredAt ?? null,
  validUntil: v.validUntil ?? null,
  message: v.messageChannel && v.messageTs ? { channel: v.messageChannel, ts: v.messageTs } : null,
});

/**
 * A verification counts only for the responder who sent it, for that Duo user, once approved,
 * for the configured minutes (push fatigue: one verification must not be reused for hours), and only
 * when it was sent to verify a caller: a push confirming a responder's own step-up enrollment verifies
 * no caller (not even that responder's own account).
 */
export async function latestVerification(
  em: EntityManager,
  teamId: string,
  duoUserId: string,
): Promise<VerificationView | null> {
  const v = await em.findOne(
    Verification,
    { teamId, duoUserId, purpose: 'caller' },
    { orderBy: { sentAt: 'desc' }, refresh: true },
  );
  return v ? toVerificationView(v) : null;
}

export async function validVerification(
  em: EntityManager,
  clock: Clock,
  q: { teamId: string; duoUserId: string; responderUserId: string; minutes: number },
): Promise<IVerification | null> {
  if (q.minutes <= 0) return null;
  const since = new Date(clock.now().getTime() - q.minutes * 60_000);
  return em.findOne(
    Verification,
    {
      teamId: q.teamId,
      duoUserId: q.duoUserId,
      responderUserId: q.responderUserId,
      purpose: 'caller',
      status: 'approved',
      answeredAt: { $gte: since },
    },
    { orderBy: { answeredAt: 'desc' }, refresh: true },
  );
}

export type VerificationState =
  | { required: false }
  | { required: true; satisfied: true; verification: VerificationView; expiresAt: Date }
  | { required: true; satisfied: false; latest: VerificationView | null };

export async function verificationState(
  em: EntityManager,
  clock: Clock,
  q: { teamId: string; duoUserId: string; responderUserId: string; minutes: number },
): Promise<VerificationState> {
  if (q.minutes <= 0) return { required: false };
  const v = await validVerification(em, clock, q);
  if (v)
    return {
      required: true,
      satisfied: true,
      verification: toVerificationView(v),
      expiresAt: new Date(v.answeredAt!.getTime() + q.minutes * 60_000),
    };
  return { required: true, satisfied: false, latest: await latestVerification(em, q.teamId, q.duoUserId) };
}
