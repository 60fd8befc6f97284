import type { AuditEntry } from '../audit/trail.js';
import type { Clock } from '../clock.js';
import type { EntityManager } from '../db/database.js';
import { ApprovalRequest, AuditEvent } from '../db/entities.js';
import { authorize } from '../domain/authorize.js';
import type { Actor } from '../domain/roles.js';
import type { Settings } from '../domain/settings.js';
import type { JobQueue } from '../jobs/queue.js';
import { findActor } from './access.js';
import { loadRequest } from './approval-engine.js';
import type { ApprovalView } from './approval-model.js';
import type { Caller, Deps } from './deps.js';
import { loadSettings } from './settings.js';
import { totpStatus } from './step-up.js';

/**
 * What a person's App Home shows, read fresh each time it is published: their role and approver flag,
 * step-up state, their own requests still waiting, the requests they may decide now, their last actions;
 * for owners the settings. Read-only: buttons on it go through the same listeners as the approval cards.
 */
export interface HomeModel {
  userId: string;
  /** null: not a responder (the page says who to ask). */
  actor: Actor | null;
  stepUp: { status: string; lockedUntil: Date | null };
  waiting: ApprovalView[];
  toDecide: ApprovalView[];
  recent: Array<{ action: string; outcome: string; at: Date; target: string | null }>;
  /** Owners only. */
  settings: Settings | null;
  now: Date;
}

const LIST_LIMIT = 10;

export async function loadHome(deps: Deps, em: EntityManager, caller: Caller): Promise<HomeModel> {
  const now = deps.clock.now();
  const actor = await findActor(em, caller.teamId, caller.userId);
  const empty: HomeModel = {
    userId: caller.userId,
    actor,
    stepUp: { status: 'none', lockedUntil: null },
    waiting: [],
    toDecide: [],
    recent: [],
    settings: null,
    now,
  };
  if (!actor) return empty;
  const settings = await loadSettings(em, actor.teamId);
  const stepUp = await totpStatus(em, actor.teamId, actor.userId);
  const open = await em.find(
    ApprovalRequest,
    { teamId: actor.teamId, state: 'requested', expiresAt: { $gt: now } },
    { orderBy: { createdAt: 'asc' }, limit: 50, refresh: true },
  );
  const views = await Promise.all(open.map((r) => loadRequest(deps, em, actor.teamId, r.id)));
  const waiting = views.filter((r) => r.requesterUserId === actor.userId).slice(0, LIST_LIMIT);
  const toDecide = views
    .filter(
      (r) =>
        r.requesterUserId !== actor.userId &&
        authorize(
          actor,
          'approval.decide',
          {
            kind: 'approval',
            requesterUserId: r.requesterUserId,
            approvers: r.policy === 'second_owner' ? 'second_owner' : 'second_person',
          },
          settings,
        ).allowed,
    )
    .slice(0, LIST_LIMIT);
  const events = await em.find(
    AuditEvent,
    { teamId: actor.teamId, actorUserId: actor.userId, phase: { $ne: 'intent' } },
    { orderBy: { id: 'desc' }, limit: 5, fields: ['action', 'outcome', 'occurredAt', 'targetUsername'] },
  );
  return {
    ...empty,
    stepUp: { status: stepUp.status, lockedUntil: stepUp.lockedUntil },
    waiting,
    toDecide,
    recent: events.map((e) => ({
      action: e.action,
      outcome: e.outcome,
      at: e.occurredAt,
      target: e.targetUsername ?? null,
    })),
    settings: actor.role === 'owner' ? settings : null,
  };
}

export const HOME_REFRESH_JOB = 'home.refresh';
export const homeRefreshKey = (teamId: string, userId: string) => `${HOME_REFRESH_JOB}:${teamId}:${userId}`;
const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;

/**
 * Events that change what a Home tab shows besides approvals (whose cards refresh the pages themselves): a role
 * or approver change, and the step-up state. Other events (a lookup among the last actions) show the next time
 * the person opens the tab, which rebuilds it anyway.
 */
const PAGE_CHANGES = new Set([
  'responder.granted',
  'responder.revoked',
  'stepup.enrolled',
  'stepup.reset',
  'stepup.locked',
]);

/**
 * Queues a refresh of the pages an event changed (its actor's and the responder it names), in the event's
 * transaction (so it runs after the commit, on any instance), one per person while one is queued.
 */
export async function touchHomes(jobs: JobQueue, clock: Clock, em: EntityManager, entry: AuditEntry): Promise<void> {
  if (!PAGE_CHANGES.has(entry.action)) return;
  const people = new Set<string>();
  if ('userId' in entry.actor && SLACK_USER.test(entry.actor.userId)) people.add(entry.actor.userId);
  const responder = entry.params?.responder;
  if (typeof responder === 'string' && SLACK_USER.test(responder)) people.add(responder);
  for (const userId of people)
    await jobs.enqueue(em, {
      kind: HOME_REFRESH_JOB,
      payload: { teamId: entry.teamId, userId },
      runAt: clock.now(),
      dedupeKey: homeRefreshKey(entry.teamId, userId),
      maxAttempts: 3,
    });
}
