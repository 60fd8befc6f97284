import type { Clock } from '../clock.js';
import type { EntityManager } from '../db/database.js';
import type { JobHandler } from '../jobs/queue.js';
import type { Logger } from '../log.js';
import { shortLink } from './chain.js';
import { type Checkpoint, signCheckpoint } from './checkpoint.js';
import { type AuditRow, auditRowById } from './store.js';
import type { AuditTrail } from './trail.js';

/**
 * The audit-channel mirror (transactional outbox). One relay job per installation holds the lease,
 * and posts one message per run: alerts first, then checkpoints, then the backlog in seq order. It
 * paces itself with its next run time (about one message per second per channel; Slack's Retry-After
 * honoured), so it never holds a runner while it waits.
 *
 * Exactly once: an outbox row is marked "sending" before the post and "posted" with the message ts
 * after it; a row found in "sending" (a crash or an ambiguous error in between) is first looked up in
 * the channel by its metadata before being posted again. Checkpoints go through the same steps.
 *
 * Gaps: before posting event #n of the backlog, the relay checks that #n-1 exists and was mirrored. An
 * event some writer left without an outbox row gets one (and is posted); a missing event is reported
 * as an `audit.gap_detected` alert, once.
 */
export interface RenderedAuditMessage {
  text: string;
  blocks?: unknown[];
}

export type AuditMetadata = { event_type: string; event_payload: Record<string, string | number> };

export interface ChannelPoster {
  post(channel: string, message: RenderedAuditMessage & { metadata: AuditMetadata }): Promise<{ ts: string }>;
  /** The ts of a message this app already posted whose metadata has `field` = `value`, if any. */
  findPosted(
    channel: string,
    match: { eventType: string; field: string; value: number },
    since: Date,
  ): Promise<string | undefined>;
}

export class SlackRateLimitedError extends Error {
  constructor(readonly retryAfterSec: number) {
    super(`Slack rate limited the call; retry after ${retryAfterSec} s`);
  }
}

export const AUDIT_METADATA_EVENT = 'duo_desk_audit_event';
export const CHECKPOINT_METADATA_EVENT = 'duo_desk_audit_checkpoint';

export const CHECKPOINT_EVERY_EVENTS = 100;
export const CHECKPOINT_MAX_AGE_MS = 3_600_000;

export interface RelayOptions {
  channel: string | undefined;
  poster: ChannelPoster;
  render: (row: AuditRow) => RenderedAuditMessage;
  renderCheckpoint: (checkpoint: Checkpoint) => RenderedAuditMessage;
  /** Writes the gap alerts; its keyring signs the checkpoints. */
  audit: AuditTrail;
  clock: Clock;
  paceMs?: number;
  idleMs?: number;
}

type Kind = 'event' | 'checkpoint';

interface NextItem {
  kind: Kind;
  id: number;
  seq: number;
  status: string;
  attempts: number;
  updatedAt: Date;
  alert: boolean;
  gapReported: boolean;
}

const TABLE: Record<Kind, { table: string; key: string; eventType: string; field: string }> = {
  event: { table: 'audit_outbox', key: 'event_id', eventType: AUDIT_METADATA_EVENT, field: 'event_id' },
  checkpoint: { table: 'audit_checkpoint', key: 'id', eventType: CHECKPOINT_METADATA_EVENT, field: 'checkpoint_id' },
};

export function createAuditRelay(opts: RelayOptions): JobHandler {
  const paceMs = opts.paceMs ?? 1100;
  const idleMs = opts.idleMs ?? 2000;
  /** Per installation: no post before this time (pace or Retry-After), whoever brought the job forward. */
  const notBefore = new Map<string, number>();
  const lastCheckpointAt = new Map<string, number>();
  const now = () => opts.clock.now().getTime();
  const later = (ms: number) => ({ runAgainAt: new Date(now() + ms) });
  const backoff = (attempts: number) => later(Math.min(60_000, 1000 * 2 ** Math.min(attempts, 6)));

  async function checkpoint(em: EntityManager, teamId: string, at: { seq: number; hash: string }): Promise<void> {
    const cp = signCheckpoint(opts.audit.keyring.current, {
      teamId,
      seq: at.seq,
      link: at.hash,
      signedAt: opts.clock.now(),
    });
    await em.getConnection().execute(
      `insert into audit_checkpoint (team_id, seq, link, key_id, signed_at, signature, status, attempts, updated_at)
       values (?, ?, ?, ?, ?, ?, 'pending', 0, ?)`,
      [cp.teamId, cp.seq, cp.link, cp.keyId, cp.signedAt, cp.signature, cp.signedAt],
    );
    lastCheckpointAt.set(teamId, cp.signedAt.getTime());
  }

  /**
   * At least hourly, even when nothing happened: "still at #n" is what makes a deleted tail visible.
   * The first one is due an hour after the chain's first event.
   */
  async function hourlyCheckpoint(em: EntityManager, teamId: string): Promise<void> {
    if (!lastCheckpointAt.has(teamId)) {
      const [row] = await em
        .getConnection()
        .execute<Array<{ last: Date | string | null; first: Date | string | null }>>(
          `select (select max(signed_at) from audit_checkpoint where team_id = ?) as last,
                (select min(occurred_at) from audit_event where team_id = ?) as first`,
          [teamId, teamId],
        );
      const since = row?.last ?? row?.first;
      lastCheckpointAt.set(teamId, since ? new Date(since).getTime() : now());
    }
    if (now() - lastCheckpointAt.get(teamId)! < CHECKPOINT_MAX_AGE_MS) return;
    const [latest] = await em
      .getConnection()
      .execute<Array<{ seq: string; hash: string }>>(
        'select seq, hash from audit_event where team_id = ? order by seq desc limit 1',
        [teamId],
      );
    if (latest) await checkpoint(em, teamId, { seq: Number(latest.seq), hash: latest.hash });
    else lastCheckpointAt.set(teamId, now());
  }

  async function markPosted(em: EntityManager, item: NextItem, ts: string, channel: string, row?: AuditRow) {
    await setStatus(em, item, { status: 'posted', postedTs: ts, postedChannel: channel });
    if (row && row.seq % CHECKPOINT_EVERY_EVENTS === 0) await checkpoint(em, row.teamId, row);
  }

  async function deliver(em: EntityManager, channel: string, teamId: string, item: NextItem, logger: Logger) {
    const { eventType, field } = TABLE[item.kind];
    const row = item.kind === 'event' ? await auditRowById(em, item.id) : undefined;
    const cp = item.kind === 'checkpoint' ? await checkpointById(em, item.id) : undefined;
    if (item.kind === 'event' && !row) {
      await setStatus(em, item, { status: 'skipped', lastError: 'event row missing' });
      return later(0);
    }
    if (item.kind === 'checkpoint' && !cp) return later(0);
    if (item.status === 'sending') {
      let ts: string | undefined;
      try {
        const since = new Date(item.updatedAt.getTime() - 60_000);
        ts = await opts.poster.findPosted(channel, { eventType, field, value: item.id }, since);
      } catch (e) {
        // Not a job failure (those run out of attempts during a long Slack outage): try again later.
        logger.warn('audit relay could not check for an earlier post; will retry', { err: e, [field]: item.id });
        return backoff(item.attempts);
      }
      if (ts) {
        await markPosted(em, item, ts, channel, row);
        return later(0);
      }
    }
    const payload: Record<string, string | number> = row
      ? { event_id: row.id, team_id: row.teamId, seq: row.seq, link: shortLink(row.hash) }
      : {
          checkpoint_id: item.id,
          team_id: cp!.teamId,
          seq: cp!.seq,
          link: cp!.link,
          signed_at: cp!.signedAt.toISOString(),
          key_id: cp!.keyId,
          signature: cp!.signature,
        };
    const message = {
      ...(row ? opts.render(row) : opts.renderCheckpoint(cp!)),
      metadata: { event_type: eventType, event_payload: payload },
    };
    await setStatus(em, item, { status: 'sending', attempt: true });
    try {
      const { ts } = await opts.poster.post(channel, message);
      notBefore.set(teamId, now() + paceMs);
      await markPosted(em, item, ts, channel, row);
      return later(paceMs);
    } catch (e) {
      if (e instanceof SlackRateLimitedError) {
        // A 429 means Slack did not post it: back to pending, wait as told.
        await setStatus(em, item, { status: 'pending', lastError: 'rate limited' });
        notBefore.set(teamId, now() + e.retryAfterSec * 1000);
        logger.info('audit relay rate limited', { retryAfterSec: e.retryAfterSec });
        return later(e.retryAfterSec * 1000);
      }
      // Anything else may or may not have posted: stay "sending", look it up before the next try.
      const text = e instanceof Error ? e.message : String(e);
      await setStatus(em, item, { status: 'sending', lastError: text.slice(0, 300) });
      logger.warn('audit relay post failed; will retry', { err: e, [field]: item.id });
      return backoff(item.attempts);
    }
  }

  /** True when event `item` follows a gap, which it has now reported (or repaired). */
  async function reportGap(em: EntityManager, teamId: string, item: NextItem, logger: Logger): Promise<boolean> {
    if (item.seq <= 1 || item.gapReported) return false;
    const conn = em.getConnection();
    const [before] = await conn.execute<Array<{ present: boolean; mirrored: boolean }>>(
      `select exists (select 1 from audit_event where team_id = ? and seq = ?) as present,
              exists (select 1 from audit_outbox where team_id = ? and seq = ? and status in ('posted', 'skipped')) as mirrored`,
      [teamId, item.seq - 1, teamId, item.seq - 1],
    );
    if (before?.present && before.mirrored) return false;
    // Events some writer left without an outbox row: give them one, so they are posted after all.
    const restored = await conn.execute<Array<{ seq: string }>>(
      `insert into audit_outbox (event_id, team_id, seq, status, attempts, alert, updated_at)
       select e.id, e.team_id, e.seq, 'pending', 0, false, ? from audit_event e
       where e.team_id = ? and e.seq < ? and not exists (select 1 from audit_outbox o where o.event_id = e.id)
       returning seq`,
      [opts.clock.now(), teamId, item.seq],
    );
    const [prev] = await conn.execute<Array<{ seq: string | null }>>(
      'select max(seq) as seq from audit_event where team_id = ? and seq < ?',
      [teamId, item.seq],
    );
    const previous = Number(prev?.seq ?? 0);
    const seqs = restored.map((r) => Number(r.seq));
    const params = {
      beforeSeq: item.seq,
      ...(previous < item.seq - 1 ? { missingFrom: previous + 1, missingTo: item.seq - 1 } : {}),
      ...(seqs.length ? { unmirrored: seqs.length, unmirroredFrom: Math.min(...seqs) } : {}),
    };
    logger.warn('audit trail gap before an event', { teamId, ...params });
    await opts.audit.record(em, {
      teamId,
      actor: { system: 'duo-desk' },
      action: 'audit.gap_detected',
      outcome: 'failed',
      params: {
        ...params,
        alert:
          previous < item.seq - 1
            ? 'events are missing from the database: they were deleted behind duo-desk'
            : 'events were written without being mirrored: they are posted now',
      },
    });
    await conn.execute('update audit_outbox set gap_reported = true where event_id = ?', [item.id]);
    return true;
  }

  return async (payload, { em, logger }) => {
    const teamId = String(payload.teamId);
    const channel = opts.channel;
    if (!channel) return later(60_000);
    const wait = (notBefore.get(teamId) ?? 0) - now();
    if (wait > 0) return later(wait);
    await hourlyCheckpoint(em, teamId);
    const item = await nextItem(em, teamId);
    if (!item) return later(idleMs);
    if (item.kind === 'event' && !item.alert && (await reportGap(em, teamId, item, logger))) return later(0);
    return deliver(em, channel, teamId, item, logger);
  };
}

/** Alerts first, then checkpoints, then the oldest event waiting. */
async function nextItem(em: EntityManager, teamId: string): Promise<NextItem | undefined> {
  const [row] = await em.getConnection().execute<
    Array<{
      kind: Kind;
      id: string;
      seq: string;
      status: string;
      attempts: number;
      updated_at: Date | string;
      alert: boolean;
      gap_reported: boolean;
    }>
  >(
    `select * from (
       (select 0 as prio, 'event' as kind, event_id as id, seq, status, attempts, updated_at, alert, gap_reported
        from audit_outbox where team_id = ? and alert and status in ('pending', 'sending') order by seq limit 1)
       union all
       (select 1, 'checkpoint', id, seq, status, attempts, updated_at, false, false
        from audit_checkpoint where team_id = ? and status in ('pending', 'sending') order by id limit 1)
       union all
       (select 2, 'event', event_id, seq, status, attempts, updated_at, alert, gap_reported
        from audit_outbox where team_id = ? and status in ('pending', 'sending') order by seq limit 1)
     ) next order by prio limit 1`,
    [teamId, teamId, teamId],
  );
  if (!row) return undefined;
  return {
    kind: row.kind,
    id: Number(row.id),
    seq: Number(row.seq),
    status: row.status,
    attempts: row.attempts,
    updatedAt: new Date(row.updated_at),
    alert: row.alert,
    gapReported: row.gap_reported,
  };
}

async function checkpointById(em: EntityManager, id: number): Promise<Checkpoint | undefined> {
  const [r] = await em
    .getConnection()
    .execute<
      Array<{ team_id: string; seq: string; link: string; signed_at: Date | string; key_id: string; signature: string }>
    >('select team_id, seq, link, signed_at, key_id, signature from audit_checkpoint where id = ?', [id]);
  return r
    ? {
        teamId: r.team_id,
        seq: Number(r.seq),
        link: r.link,
        signedAt: new Date(r.signed_at),
        keyId: r.key_id,
        signature: r.signature,
      }
    : undefined;
}

async function setStatus(
  em: EntityManager,
  item: NextItem,
  change: { status: string; postedTs?: string; postedChannel?: string; lastError?: string; attempt?: boolean },
): Promise<void> {
  const { table, key } = TABLE[item.kind];
  await em.getConnection().execute(
    `update ${table} set status = ?, posted_ts = coalesce(?, posted_ts), posted_channel = coalesce(?, posted_channel),
       last_error = ?, attempts = attempts + ?, updated_at = now() where ${key} = ?`,
    [
      change.status,
      change.postedTs ?? null,
      change.postedChannel ?? null,
      change.lastError ?? null,
      change.attempt ? 1 : 0,
      item.id,
    ],
  );
}
