import type { Clock } from '../clock.js';
import { type IVerification, Verification } from '../db/entities.js';
import type { EntityManager } from './deps.js';

/**
 * A verification counts only for the responder who sent it, for that Duo user, once approved,
 * for the configured minutes (push fatigue: one verification must not be reused for hours).
 */
export async function latestVerification(
  em: EntityManager,
  teamId: string,
  duoUserId: string,
): Promise<IVerification | null> {
  return em.findOne(Verification, { teamId, duoUserId }, { orderBy: { sentAt: 'desc' }, refresh: true });
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
      status: 'approved',
      answeredAt: { $gte: since },
    },
    { orderBy: { answeredAt: 'desc' }, refresh: true },
  );
}

export type VerificationState =
  | { required: false }
  | { required: true; satisfied: true; verification: IVerification; expiresAt: Date }
  | { required: true; satisfied: false; latest: IVerification | null };

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
      verification: v,
      expiresAt: new Date(v.answeredAt!.getTime() + q.minutes * 60_000),
    };
  return { required: true, satisfied: false, latest: await latestVerification(em, q.teamId, q.duoUserId) };
}
