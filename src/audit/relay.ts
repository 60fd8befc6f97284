import type { Clock } from '../clock.js';
import type { EntityManager } from '../db/database.js';
import type { JobHandler } from '../jobs/queue.js';
import { type AuditRow, auditRowById } from './store.js';

/**
 * The audit-channel mirror (transactional outbox). One relay job per installation holds the lease,
 * so events are posted in order and once: an outbox row is marked "sending" before the post and
 * "posted" with the message ts after it; a row found in "sending" (a crash or an ambiguous error
 * in between) is first looked up in the channel by its event id before being posted again.
 * Honours about one message per second per channel and Slack's Retry-After.
 */
export interface RenderedAuditMessage {
  text: string;
  blocks?: unknown[];
}

export interface ChannelPoster {
  post(
    channel: string,
    message: RenderedAuditMessage & {
      metadata: { event_type: string; event_payload: Record<string, string | number> };
    },
  ): Promise<{ ts: string }>;
  /** The ts of a message this app already posted for the event, if any (checked after an ambiguous attempt). */
  findPosted(channel: string, eventId: number, since: Date): Promise<string | undefined>;
}

export class SlackRateLimitedError extends Error {
  constructor(readonly retryAfterSec: number) {
    super(`Slack rate limited the call; retry after ${retryAfterSec} s`);
  }
}

export const AUDIT_METADATA_EVENT = 'duo_desk_audit_event';

export interface RelayOptions {
  channel: string | undefined;
  poster: ChannelPoster;
  render: (row: AuditRow) => RenderedAuditMessage;
  clock: Clock;
  paceMs?: number;
  idleMs?: number;
  batch?: number;
  sleep?: (ms: number) => Promise<void>;
}

export function createAuditRelay(opts: RelayOptions): JobHandler {
  const paceMs = opts.paceMs ?? 1100;
  const idleMs = opts.idleMs ?? 2000;
  const batch = opts.batch ?? 20;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const later = (ms: number) => ({ runAgainAt: new Date(opts.clock.now().getTime() + ms) });

  return async (payload, { em, logger, signal }) => {
    const teamId = String(payload.teamId);
    const channel = opts.channel;
    if (!channel) return later(60_000);
    for (let i = 0; i < batch && !signal.aborted; i++) {
      const next = await nextOutboxRow(em, teamId);
      if (!next) return later(idleMs);
      const event = await auditRowById(em, next.eventId);
      if (!event) {
        await setOutbox(em, next.eventId, { status: 'skipped', lastError: 'event row missing' });
        continue;
      }
      if (next.status === 'sending') {
        let ts: string | undefined;
        try {
          ts = await opts.poster.findPosted(channel, event.id, new Date(next.updatedAt.getTime() - 60_000));
        } catch (e) {
          // Not a job failure (those run out of attempts during a long Slack outage): try again later.
          logger.warn('audit relay could not check for an earlier post; will retry', { err: e, eventId: event.id });
          return later(Math.min(60_000, 1000 * 2 ** Math.min(next.attempts, 6)));
        }
        if (ts) {
          await setOutbox(em, event.id, { status: 'posted', postedTs: ts, postedChannel: channel });
          continue;
        }
      }
      await setOutbox(em, event.id, { status: 'sending', attempt: true });
      try {
        const message = opts.render(event);
        const { ts } = await opts.poster.post(channel, {
          ...message,
          metadata: { event_type: AUDIT_METADATA_EVENT, event_payload: { event_id: event.id, seq: event.seq } },
        });
        await setOutbox(em, event.id, { status: 'posted', postedTs: ts, postedChannel: channel });
      } catch (e) {
        if (e instanceof SlackRateLimitedError) {
          // A 429 means Slack did not post it: back to pending, wait as told.
          await setOutbox(em, event.id, { status: 'pending', lastError: 'rate limited' });
          logger.info('audit relay rate limited', { retryAfterSec: e.retryAfterSec });
          return later(e.retryAfterSec * 1000);
        }
        // Anything else may or may not have posted: stay "sending", look it up before the next try.
        const message = e instanceof Error ? e.message : String(e);
        await setOutbox(em, event.id, { status: 'sending', lastError: message.slice(0, 300) });
        logger.warn('audit relay post failed; will retry', { err: e, eventId: event.id });
        return later(Math.min(60_000, 1000 * 2 ** Math.min(next.attempts, 6)));
      }
      if (!signal.aborted) await sleep(paceMs);
    }
    return later(0);
  };
}

async function nextOutboxRow(em: EntityManager, teamId: string) {
  const [row] = await em
    .getConnection()
    .execute<Array<{ event_id: string; status: string; attempts: number; updated_at: Date | string }>>(
      `select event_id, status, attempts, updated_at from audit_outbox
       where team_id = ? and status in ('pending', 'sending') order by seq limit 1`,
      [teamId],
    );
  if (!row) return undefined;
  return {
    eventId: Number(row.event_id),
    status: row.status,
    attempts: row.attempts,
    updatedAt: new Date(row.updated_at),
  };
}

async function setOutbox(
  em: EntityManager,
  eventId: number,
  change: {
    status: string;
    postedTs?: string;
    postedChannel?: string;
    lastError?: string;
    attempt?: boolean;
  },
): Promise<void> {
  await em.getConnection().execute(
    `update audit_outbox set status = ?, posted_ts = coalesce(?, posted_ts), posted_channel = coalesce(?, posted_channel),
       last_error = ?, attempts = attempts + ?, updated_at = now() where event_id = ?`,
    [
      change.status,
      change.postedTs ?? null,
      change.postedChannel ?? null,
      change.lastError ?? null,
      change.attempt ? 1 : 0,
      eventId,
    ],
  );
}
