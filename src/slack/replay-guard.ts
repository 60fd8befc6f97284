import type { IncomingMessage } from 'node:http';
import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import type { Deps } from '../usecases/deps.js';
import { claimRequest, type RequestKey, recordReplay } from '../usecases/replays.js';
import { identify, newCorrelationId } from './request-context.js';

/**
 * The first middleware of every request: a request whose signature, trigger_id (view submissions carry one
 * too) or event_id was already seen (on any instance) is acked with an empty 200 and audited as a replay,
 * and no listener runs. Slack's own retries (X-Slack-Retry-Num, retry_num over Socket Mode) carry a new
 * signature but the same trigger or event id, so they are recognised the same way.
 *
 * The signature comes from the HTTP receiver (httpRequestKeys, its customPropertiesExtractor), after Bolt
 * verified it; Socket Mode requests have none (the socket itself is authenticated) and are known by their ids.
 */
const SIGNATURE = 'duoDeskSignature';

/** For HTTPReceiver's customPropertiesExtractor: what of the raw request the guard needs. */
export const httpRequestKeys = (req: IncomingMessage): Record<string, string> => {
  const signature = req.headers['x-slack-signature'];
  return typeof signature === 'string' ? { [SIGNATURE]: signature } : {};
};

function keysOf(body: Record<string, unknown>, context: Record<string, unknown>): RequestKey[] {
  const keys: RequestKey[] = [];
  if (typeof context[SIGNATURE] === 'string') keys.push({ kind: 'signature', value: context[SIGNATURE] });
  if (typeof body.trigger_id === 'string' && body.trigger_id) keys.push({ kind: 'trigger_id', value: body.trigger_id });
  if (typeof body.event_id === 'string' && body.event_id) keys.push({ kind: 'event_id', value: body.event_id });
  return keys;
}

const kindOf = (body: Record<string, unknown>) =>
  typeof body.type === 'string' ? body.type : typeof body.command === 'string' ? 'slash_command' : 'unknown';

export function replayGuardMiddleware(deps: Deps, installationTeamId: () => string): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const body = args.body as unknown as Record<string, unknown>;
    const context = args.context as Record<string, unknown>;
    const em = deps.db.em.fork();
    const seen = await claimRequest(deps, em, keysOf(body, context));
    if (!seen) {
      await args.next();
      return;
    }
    const ack = (args as { ack?: () => Promise<void> }).ack;
    if (ack) await ack();
    const retryNum = typeof context.retryNum === 'number' ? context.retryNum : null;
    const correlationId = newCorrelationId();
    deps.logger.warn('request already seen: answered without acting', {
      correlationId,
      matched: seen.kind,
      retryNum,
    });
    await recordReplay(deps, em, {
      teamId: installationTeamId(),
      userId: identify(body).userId ?? null,
      correlationId,
      matched: seen.kind,
      params: {
        request: kindOf(body).slice(0, 40),
        slackRetry: retryNum !== null,
        retryNum,
        retryReason: typeof context.retryReason === 'string' ? context.retryReason.slice(0, 60) : null,
      },
    });
  };
}
