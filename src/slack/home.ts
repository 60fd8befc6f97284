import { z } from 'zod';
import { homeView } from '../../views/home.js';
import { Responder } from '../db/entities.js';
import type { JobHandler } from '../jobs/queue.js';
import type { Caller, Deps } from '../usecases/deps.js';
import { loadHome } from '../usecases/home.js';
import type { Notifier } from './notifier.js';

/** Publishes one person's App Home from fresh state (views.publish). */
export async function publishHome(deps: Deps, notifier: Notifier, caller: Caller): Promise<void> {
  const model = await loadHome(deps, deps.db.em.fork(), caller);
  await notifier.publishHome(caller.userId, homeView(model));
}

/**
 * After a change that shows on other people's Home tabs (an approval requested, decided, expired): the
 * requester's and every possible approver's page is published again. In the background; a failure is
 * only logged (the page is rebuilt whenever it is opened anyway).
 */
export function refreshHomes(deps: Deps, notifier: Notifier, teamId: string, also: string[] = []): void {
  void (async () => {
    const deciders = await deps.db.em
      .fork()
      .find(Responder, { teamId, $or: [{ approver: true }, { role: 'owner' }] }, { fields: ['userId'] });
    const people = new Set([...also, ...deciders.map((r) => r.userId)]);
    for (const userId of people)
      await publishHome(deps, notifier, { teamId, userId, correlationId: 'home-refresh' }).catch((e: unknown) =>
        deps.logger.warn('could not refresh an App Home', { err: e }),
      );
  })().catch((e: unknown) => deps.logger.warn('could not refresh App Homes', { err: e }));
}

const refreshPayload = z.object({ teamId: z.string().min(1), userId: z.string().min(1) });

/** The home.refresh job (queued by touchHomes): publishes that person's page again. */
export function createHomeRefresher(deps: Deps, notifier: Notifier): JobHandler {
  return async (payload, ctx) => {
    const p = refreshPayload.safeParse(payload);
    if (!p.success) {
      ctx.logger.warn('home refresh: bad payload; dropped');
      return undefined;
    }
    await publishHome(deps, notifier, { ...p.data, correlationId: 'home-refresh' });
    return undefined;
  };
}
