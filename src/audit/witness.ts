import type { EntityManager } from '../db/database.js';
import { type Checkpoint, checkCheckpoint } from './checkpoint.js';
import type { AuditKeyring } from './keys.js';
import { AUDIT_METADATA_EVENT, type AuditMetadata, CHECKPOINT_METADATA_EVENT } from './relay.js';

/**
 * `audit verify --witness`: the audit channel is a second copy the database admin cannot rewrite.
 * Every post carries its event's seq, id and short link, and checkpoints carry a signed (seq, link);
 * this compares them with the database. A row rewritten, deleted or inserted, even with every later
 * link recomputed, no longer matches what was posted when it was written.
 */
export interface ChannelMessage {
  ts: string;
  user?: string | undefined;
  botId?: string | undefined;
  metadata?: AuditMetadata | undefined;
}

export interface ChannelReader {
  history(channel: string, oldest?: Date): AsyncIterable<ChannelMessage>;
}

export interface WitnessProblem {
  seq: number;
  kind: 'event' | 'checkpoint';
  problem: string;
}

export interface WitnessReport {
  ok: boolean;
  eventsMatched: number;
  checkpointsMatched: number;
  /** Checkpoints signed with a key that is not configured (not checkable, not counted as matched). */
  checkpointsUnchecked: number;
  /** Events the relay has not posted yet (their outbox row is still waiting). */
  notPostedYet: number;
  /** Sorted by seq: the first is where the database and the channel first differ. */
  problems: WitnessProblem[];
}

interface DbRow {
  id: number;
  hash: string;
  keyed: boolean;
  outbox: string | null;
  postedChannel: string | null;
  occurredAt: Date;
}

export async function verifyWitness(
  em: EntityManager,
  keyring: AuditKeyring,
  opts: {
    teamId: string;
    channel: string;
    messages: AsyncIterable<ChannelMessage>;
    /** Only posts by this bot count (anyone in the channel can post text). */
    isOurs: (m: ChannelMessage) => boolean;
    since?: Date | undefined;
  },
): Promise<WitnessReport> {
  const { posted, checkpoints } = await readChannel(opts.messages, opts.isOurs, opts.teamId);

  const rows = await loadRows(em, opts.teamId);
  const problems: WitnessProblem[] = [];
  let eventsMatched = 0;
  for (const [seq, posts] of posted) {
    const row = rows.get(seq);
    if (!row) {
      problems.push({
        seq,
        kind: 'event',
        problem: `event #${seq} is in the audit channel but not in the database: it was deleted`,
      });
      continue;
    }
    const wrong = posts.find((p) => p.eventId !== row.id || (p.link !== undefined && !row.hash.startsWith(p.link)));
    if (!wrong) {
      eventsMatched++;
      continue;
    }
    problems.push({
      seq,
      kind: 'event',
      problem:
        wrong.eventId !== row.id
          ? `event #${seq} was posted as event id ${wrong.eventId}, the database has id ${row.id} there: rows were inserted or deleted before it`
          : `event #${seq} was posted with link ${wrong.link}, the database now has ${row.hash.slice(0, wrong.link!.length)}: the row was rewritten`,
    });
  }

  let checkpointsMatched = 0;
  let checkpointsUnchecked = 0;
  for (const cp of checkpoints) {
    const signature = checkCheckpoint(keyring, cp);
    if (signature === 'unknown key') {
      checkpointsUnchecked++;
      continue;
    }
    const row = rows.get(cp.seq);
    const when = cp.signedAt.toISOString();
    if (signature === 'invalid')
      problems.push({
        seq: cp.seq,
        kind: 'checkpoint',
        problem: `the checkpoint for event #${cp.seq} (${when}) has an invalid signature`,
      });
    else if (!row)
      problems.push({
        seq: cp.seq,
        kind: 'checkpoint',
        problem: `the checkpoint signed ${when} vouches for event #${cp.seq}, which is no longer in the database`,
      });
    else if (row.hash !== cp.link)
      problems.push({
        seq: cp.seq,
        kind: 'checkpoint',
        problem: `the checkpoint signed ${when} says event #${cp.seq} had link ${cp.link.slice(0, 16)}, the database now has ${row.hash.slice(0, 16)}: the chain was rewritten`,
      });
    else checkpointsMatched++;
  }

  // Keyed events the outbox says were posted here (or that never got an outbox row) must be in the channel.
  let notPostedYet = 0;
  for (const [seq, row] of rows) {
    if (!row.keyed || posted.has(seq) || (opts.since && row.occurredAt < opts.since)) continue;
    if (row.outbox === 'pending' || row.outbox === 'sending') notPostedYet++;
    else if (row.outbox === null || row.postedChannel === null || row.postedChannel === opts.channel)
      problems.push({
        seq,
        kind: 'event',
        problem: `event #${seq} is in the database but not in the audit channel: its post was deleted, or the row was added behind duo-desk`,
      });
  }
  problems.sort((a, b) => a.seq - b.seq);
  return { ok: problems.length === 0, eventsMatched, checkpointsMatched, checkpointsUnchecked, notPostedYet, problems };
}

export interface PostedCheckpoint extends Checkpoint {
  /** The message's ts in the channel. */
  ts: string;
}

/** What duo-desk posted for installation `teamId`: events by seq (a seq posted twice lists twice), and checkpoints. */
export async function readChannel(
  messages: AsyncIterable<ChannelMessage>,
  isOurs: (m: ChannelMessage) => boolean,
  teamId: string,
): Promise<{
  posted: Map<number, Array<{ eventId: number; link: string | undefined }>>;
  checkpoints: PostedCheckpoint[];
}> {
  const posted = new Map<number, Array<{ eventId: number; link: string | undefined }>>();
  const checkpoints: PostedCheckpoint[] = [];
  for await (const m of messages) {
    const md = m.metadata;
    if (!md || !isOurs(m)) continue;
    const p = md.event_payload;
    if (p.team_id !== undefined && String(p.team_id) !== teamId) continue;
    if (md.event_type === AUDIT_METADATA_EVENT) {
      const seq = Number(p.seq);
      const list = posted.get(seq) ?? [];
      list.push({ eventId: Number(p.event_id), link: p.link === undefined ? undefined : String(p.link) });
      posted.set(seq, list);
    } else if (md.event_type === CHECKPOINT_METADATA_EVENT) {
      checkpoints.push({
        teamId,
        seq: Number(p.seq),
        link: String(p.link),
        signedAt: new Date(String(p.signed_at)),
        keyId: String(p.key_id),
        signature: String(p.signature),
        ts: m.ts,
      });
    }
  }
  return { posted, checkpoints };
}

async function loadRows(em: EntityManager, teamId: string): Promise<Map<number, DbRow>> {
  const raw = await em.getConnection().execute<
    Array<{
      seq: string;
      id: string;
      hash: string;
      key_id: string | null;
      occurred_at: Date | string;
      status: string | null;
      posted_channel: string | null;
    }>
  >(
    `select e.seq, e.id, e.hash, e.key_id, e.occurred_at, o.status, o.posted_channel
     from audit_event e left join audit_outbox o on o.event_id = e.id
     where e.team_id = ? order by e.seq`,
    [teamId],
  );
  return new Map(
    raw.map((r) => [
      Number(r.seq),
      {
        id: Number(r.id),
        hash: r.hash,
        keyed: r.key_id !== null,
        outbox: r.status,
        postedChannel: r.posted_channel,
        occurredAt: new Date(r.occurred_at),
      },
    ]),
  );
}
