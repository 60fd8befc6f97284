import { randomBytes } from 'node:crypto';
import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import type { Actor } from '../domain/roles.js';
import type { Logger } from '../log.js';
import { findActor } from '../usecases/access.js';
import type { Deps, EntityManager } from '../usecases/deps.js';
import { readSettingsOncePerRequest } from '../usecases/settings.js';

/**
 * Bolt middleware that runs before every command, button, view submission and options request:
 * a correlation id, one EntityManager fork for the request, and the actor (the responder behind the
 * Slack user, loaded from the database), or why there is none (not a responder, another team).
 * Listeners enforce it (src/slack/listener.ts); use cases check again on their own load.
 */
export type ActorResolution =
  | { kind: 'responder'; actor: Actor }
  | { kind: 'not_a_responder' }
  | { kind: 'foreign_team'; userTeamId: string };

export interface RequestContext {
  correlationId: string;
  em: EntityManager;
  logger: Logger;
  teamId: string;
  userId: string;
  resolution: ActorResolution;
}

const KEY = 'duoDesk';

export const newCorrelationId = () => randomBytes(6).toString('hex');

export function requestContextMiddleware(deps: Deps, installationTeamId: () => string): Middleware<AnyMiddlewareArgs> {
  return async ({ body, context, next }) => {
    const correlationId = newCorrelationId();
    const em = deps.db.em.fork();
    readSettingsOncePerRequest(em);
    const { userId, userTeamId } = identify(body as unknown as Record<string, unknown>);
    const teamId = installationTeamId();
    const logger = deps.logger.child({ correlationId, user: userId });
    let resolution: ActorResolution;
    if (userTeamId && userTeamId !== teamId) resolution = { kind: 'foreign_team', userTeamId };
    else {
      const actor = userId ? await findActor(em, teamId, userId) : null;
      resolution = actor ? { kind: 'responder', actor } : { kind: 'not_a_responder' };
    }
    context[KEY] = { correlationId, em, logger, teamId, userId: userId ?? '', resolution } satisfies RequestContext;
    await next();
  };
}

export function getRequestContext(context: Record<string, unknown>): RequestContext {
  const c = context[KEY] as RequestContext | undefined;
  if (!c) throw new Error('request context missing: is the middleware registered?');
  return c;
}

/** The Slack user and their own team, from any payload shape we receive. */
export function identify(body: Record<string, unknown>): {
  userId: string | undefined;
  userTeamId: string | undefined;
} {
  const user = body.user as { id?: string; team_id?: string } | undefined;
  if (user?.id) {
    const team = body.team as { id?: string } | undefined;
    return { userId: user.id, userTeamId: user.team_id ?? team?.id };
  }
  // Events API (app_home_opened): the person is the event's user; the installation's team is the envelope's.
  const event = body.event as { user?: unknown } | undefined;
  if (typeof event?.user === 'string')
    return { userId: event.user, userTeamId: typeof body.team_id === 'string' ? body.team_id : undefined };
  return {
    userId: typeof body.user_id === 'string' ? body.user_id : undefined,
    userTeamId: typeof body.team_id === 'string' ? body.team_id : undefined,
  };
}
