import { homeView } from '../../views/home.js';
import { Responder } from '../db/entities.js';
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
