import type { EntityManager } from '../db/database.js';
import { Responder } from '../db/entities.js';
import { authorize } from '../domain/authorize.js';
import type { ApprovalView } from './approval-model.js';
import type { Deps } from './deps.js';
import { loadSettings } from './settings.js';

/**
 * Reminders for requests nobody has decided: at half the approval timeout the approvers who could decide now
 * are reminded in the card's thread; the requester is told at once, and again then, when nobody can decide
 * (no approver enrolled in step-up, or the only approver is the requester). Reminders change nothing.
 */
export const REMIND_JOB = 'approval.remind';
export const remindKey = (requestId: string, phase: RemindPhase) => `${REMIND_JOB}:${phase}:${requestId}`;
export type RemindPhase = 'check' | 'remind';

export interface Availability {
  /** Responders who may decide this request now (approver role or flag, not the requester, step-up active). */
  eligible: string[];
  /** Why nobody can, when nobody can. */
  problem: null | 'no_approver' | 'only_requester' | 'no_step_up';
}

export async function approvalAvailability(em: EntityManager, r: ApprovalView): Promise<Availability> {
  const settings = await loadSettings(em, r.teamId);
  const responders = await em.find(Responder, { teamId: r.teamId }, { refresh: true });
  const target = {
    kind: 'approval',
    requesterUserId: r.requesterUserId,
    approvers: r.policy === 'second_owner' ? 'second_owner' : 'second_person',
  } as const;
  const mayDecide = (x: (typeof responders)[number]) =>
    authorize(
      { teamId: x.teamId, userId: x.userId, role: x.role, approver: x.approver },
      'approval.decide',
      target,
      settings,
    ).allowed;
  const deciders = responders.filter(mayDecide);
  const eligible = deciders.filter((x) => x.totpStatus === 'active').map((x) => x.userId);
  if (eligible.length) return { eligible, problem: null };
  if (deciders.length) return { eligible, problem: 'no_step_up' };
  // Would the requester qualify, were it not their own request?
  const self = responders.find((x) => x.userId === r.requesterUserId);
  const selfCould =
    !!self &&
    authorize(
      { teamId: self.teamId, userId: self.userId, role: self.role, approver: self.approver },
      'approval.decide',
      { ...target, requesterUserId: '' },
      settings,
    ).allowed;
  return { eligible, problem: selfCould ? 'only_requester' : 'no_approver' };
}

/** When a request starts waiting: check now that someone can decide it, and remind at half its timeout. */
export async function scheduleReminders(deps: Deps, em: EntityManager, r: ApprovalView): Promise<void> {
  const half = new Date(r.createdAt.getTime() + (r.expiresAt.getTime() - r.createdAt.getTime()) / 2);
  for (const [phase, runAt] of [
    ['check', deps.clock.now()],
    ['remind', half],
  ] as const)
    await deps.jobs.enqueue(em, {
      kind: REMIND_JOB,
      payload: { teamId: r.teamId, requestId: r.id, phase },
      runAt,
      dedupeKey: remindKey(r.id, phase),
    });
}
