import type { Clock } from '../clock.js';
import type { EntityManager } from '../db/database.js';
import type { AuditOutcome } from '../domain/audit.js';
import { AppError } from '../errors.js';
import type { AuditAction } from './actions.js';
import { isAlertEvent } from './alerts.js';
import { type ChainedFields, GENESIS_HASH, linkAuditRow } from './chain.js';
import type { AuditKeyring } from './keys.js';
import { type AuditParams, assertAuditSafe } from './secrets-guard.js';

export type { AuditAction } from './actions.js';
export type { AuditParams } from './secrets-guard.js';

/** Who did it: a responder (role at that moment), or duo-desk itself, or the command line. */
export type AuditActor = { userId: string; role: string | null } | { system: 'duo-desk' | 'cli' };

export interface AuditEntry {
  teamId: string;
  actor: AuditActor;
  action: AuditAction;
  outcome: AuditOutcome;
  target?: { duoUserId?: string | null; username?: string | null } | undefined;
  reason?: string | null | undefined;
  ticket?: string | null | undefined;
  correlationId?: string | null | undefined;
  requestRef?: string | null | undefined;
  duoRef?: string | null | undefined;
  params?: AuditParams | undefined;
}

export interface AuditRecord extends AuditEntry {
  id: number;
  seq: number;
  phase: 'event' | 'intent' | 'outcome';
  occurredAt: Date;
  intentId: number | null;
  hash: string;
}

export const relayJobKey = (teamId: string) => `audit.relay:${teamId}`;

interface Head {
  seq: number;
  link: string;
  /** The key that linked the head row; null before the keyed chain (or for an empty chain). */
  keyId: string | null;
}

interface Pending {
  entry: AuditEntry;
  phase: AuditRecord['phase'];
  intentId: number | null;
}

type Attempt = { kind: 'done'; record?: AuditRecord } | { kind: 'again' } | { kind: 'busy' };

/**
 * The one small API every use case writes through. Events are appended to a per-installation chain
 * in the caller's transaction (when `em` has one), together with their outbox row for the channel
 * relay: every writer mirrors, whatever process it runs in.
 * For a Duo mutation: `intent()` (committed before the call), then `complete()` after it.
 *
 * One round trip per event: the link needs the previous link, and the key must stay out of the
 * database, so the last (seq, link) of each installation is kept here, appends are taken in turn per
 * installation within this process, the HMAC is computed here, and one statement moves the head only
 * if it is still where this process last saw it, inserting the event and its outbox row in the same
 * statement. When it is not (another instance appended, or a transaction that appended rolled back),
 * the head is read again and the append retried. The head row is locked with SKIP LOCKED, so an append
 * never blocks inside its turn on a transaction that has not committed yet: it gives up its turn and
 * retries shortly, and that transaction can still append again meanwhile.
 */
export class AuditTrail {
  private readonly heads = new Map<string, Head>();
  private readonly turns = new Map<string, Promise<void>>();
  private readonly watched = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    readonly keyring: AuditKeyring,
    private readonly opts: {
      maxWaitMs?: number;
      /**
       * Told of each event written, through the writer's `em` (in its transaction, if any): metrics count it,
       * and the App Home of the people it concerns is queued for a refresh.
       */
      observe?: (entry: AuditEntry, em: EntityManager) => void | Promise<void>;
    } = {},
  ) {}

  async record(em: EntityManager, entry: AuditEntry): Promise<AuditRecord> {
    const r = (await this.write(em, entry.teamId, checked({ entry, phase: 'event', intentId: null })))!;
    await this.opts.observe?.(entry, em);
    return r;
  }

  /** Writes "about to call Duo" and commits it (its own transaction when `em` has none). */
  async intent(em: EntityManager, entry: Omit<AuditEntry, 'outcome'>): Promise<AuditRecord> {
    const pending = checked({ entry: { ...entry, outcome: 'pending' }, phase: 'intent', intentId: null });
    return (await this.write(em, entry.teamId, pending))!;
  }

  async complete(
    em: EntityManager,
    intent: AuditRecord,
    result: { outcome: AuditOutcome; duoRef?: string | null; params?: AuditParams; reason?: string | null },
  ): Promise<AuditRecord> {
    const entry: AuditEntry = {
      ...intent,
      outcome: result.outcome,
      duoRef: result.duoRef ?? intent.duoRef ?? null,
      params: { ...intent.params, ...result.params },
      reason: result.reason ?? intent.reason ?? null,
    };
    const r = (await this.write(em, intent.teamId, checked({ entry, phase: 'outcome', intentId: intent.id })))!;
    await this.opts.observe?.(entry, em);
    return r;
  }

  /**
   * Brings the installation's chain under the current key now (start-up) rather than at its next
   * event: seals an unkeyed chain (`audit.chain_keyed`) or records a key rotation (`audit.key_rotated`).
   */
  async seal(em: EntityManager, teamId: string): Promise<void> {
    await this.write(em, teamId, undefined);
  }

  /**
   * Counts the events written under one correlation id until `stop()`: the /duo router writes `command.used`
   * only for a command that left no event of its own, so each command is one row, not two.
   */
  watch(correlationId: string): { stop(): number } {
    this.watched.set(correlationId, 0);
    return {
      stop: () => {
        const n = this.watched.get(correlationId) ?? 0;
        this.watched.delete(correlationId);
        return n;
      },
    };
  }

  private async write(em: EntityManager, teamId: string, pending: Pending | undefined) {
    const watching = pending?.entry.correlationId;
    if (watching && this.watched.has(watching)) this.watched.set(watching, this.watched.get(watching)! + 1);
    const deadline = Date.now() + (this.opts.maxWaitMs ?? 30_000);
    for (let waits = 0; ; ) {
      const r = await this.turn(teamId, () => this.attempt(em, teamId, pending));
      if (r.kind === 'done') return r.record;
      if (r.kind === 'busy') {
        if (Date.now() > deadline)
          throw new Error(`the audit chain head of ${teamId} stayed locked by an open transaction; event not written`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(10, 2 ** waits++)));
      }
    }
  }

  /** Takes turns per installation: this process never races itself for the head. */
  private turn<T>(teamId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.turns.get(teamId) ?? Promise.resolve();
    const run = previous.then(fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.turns.set(teamId, settled);
    void settled.then(() => {
      if (this.turns.get(teamId) === settled) this.turns.delete(teamId);
    });
    return run;
  }

  private async attempt(em: EntityManager, teamId: string, pending: Pending | undefined): Promise<Attempt> {
    const head = this.heads.get(teamId) ?? (await this.loadHead(em, teamId));
    const transition = this.transitionFor(teamId, head);
    const next = transition ?? pending;
    if (!next) return { kind: 'done' };
    const row = this.chained(next, teamId, head);
    const { id, current } = await this.insert(em, row, head);
    if (id === undefined) {
      const fresh = current ?? (await this.loadHead(em, teamId));
      this.heads.set(teamId, fresh);
      return fresh.seq === head.seq && fresh.link === head.link ? { kind: 'busy' } : { kind: 'again' };
    }
    this.heads.set(teamId, { seq: row.seq, link: row.hash, keyId: row.keyId });
    if (transition) return { kind: 'again' };
    const { entry, phase, intentId } = next;
    return {
      kind: 'done',
      record: {
        ...entry,
        id,
        seq: row.seq,
        phase,
        occurredAt: row.occurredAt,
        intentId,
        hash: row.hash,
        params: row.params as AuditParams,
      },
    };
  }

  /** The event that must come first when the head was not linked with the current key, if any. */
  private transitionFor(teamId: string, head: Head): Pending | undefined {
    const current = this.keyring.current.id;
    if (head.seq === 0 || head.keyId === current) return undefined;
    const base = { teamId, actor: { system: 'duo-desk' } as const, outcome: 'success' as const };
    if (head.keyId === null)
      return {
        entry: { ...base, action: 'audit.chain_keyed', params: { keyId: current, unkeyedThrough: head.seq } },
        phase: 'event',
        intentId: null,
      };
    if (this.keyring.isRetired(head.keyId))
      return {
        entry: { ...base, action: 'audit.key_rotated', params: { fromKeyId: head.keyId, toKeyId: current } },
        phase: 'event',
        intentId: null,
      };
    throw new AppError(
      'CONFIG_INVALID',
      `the audit chain of ${teamId} was last linked with audit key id ${head.keyId}, which is neither DUO_DESK_AUDIT_KEY nor in DUO_DESK_AUDIT_KEYS_RETIRED: to rotate the key, keep the old one in DUO_DESK_AUDIT_KEYS_RETIRED`,
    );
  }

  private chained(next: Pending, teamId: string, head: Head): ChainedFields & { hash: string } {
    const { entry, phase, intentId } = next;
    const key = this.keyring.current;
    const fields: ChainedFields = {
      teamId,
      seq: head.seq + 1,
      occurredAt: this.clock.now(),
      actorUserId: 'system' in entry.actor ? entry.actor.system : entry.actor.userId,
      actorRole: 'system' in entry.actor ? null : entry.actor.role,
      action: entry.action,
      phase,
      targetDuoUserId: entry.target?.duoUserId ?? null,
      targetUsername: entry.target?.username ?? null,
      outcome: entry.outcome,
      reason: entry.reason ?? null,
      ticket: entry.ticket ?? null,
      correlationId: entry.correlationId ?? null,
      intentId,
      requestRef: entry.requestRef ?? null,
      duoRef: entry.duoRef ?? null,
      params: entry.params ?? {},
      prevHash: head.link,
      keyId: key.id,
    };
    return { ...fields, hash: linkAuditRow(fields, key) };
  }

  /** The head as this transaction sees it; an installation's first event creates it (committed on its own). */
  private async loadHead(em: EntityManager, teamId: string): Promise<Head> {
    const conn = em.getConnection();
    const [row] = await conn.execute<Array<{ seq: string | number; hash: string; key_id: string | null }>>(
      `select h.seq, h.hash, e.key_id from audit_chain_head h
       left join audit_event e on e.team_id = h.team_id and e.seq = h.seq
       where h.team_id = ?`,
      [teamId],
      'all',
      em.getTransactionContext(),
    );
    let head: Head;
    if (row) head = { seq: Number(row.seq), link: row.hash, keyId: row.key_id };
    else {
      // In the caller's transaction, if any: a second connection could wait on it (the embedded database serves
      // one session at a time). Rolled back with it, the head is simply created again by the next event.
      await conn.execute(
        `insert into audit_chain_head (team_id, seq, hash) values (?, 0, ?) on conflict (team_id) do nothing`,
        [teamId, GENESIS_HASH],
        'run',
        em.getTransactionContext(),
      );
      head = { seq: 0, link: GENESIS_HASH, keyId: null };
    }
    this.heads.set(teamId, head);
    return head;
  }

  /**
   * The append: one statement, conditional on the head still being `head`. When it was not, nothing is
   * written and the statement returns the head as it saw it instead, so the retry needs no extra read.
   */
  private async insert(
    em: EntityManager,
    row: ChainedFields & { hash: string },
    head: Head,
  ): Promise<{ id?: number; current?: Head }> {
    const now = this.clock.now();
    const rows = await em
      .getConnection()
      .execute<Array<{ id: string | number | null; seq: string | null; hash: string | null; key_id: string | null }>>(
        `with head as (
         update audit_chain_head set seq = ?, hash = ?
         where team_id = (select team_id from audit_chain_head where team_id = ? and seq = ? and hash = ? for update skip locked)
         returning team_id
       ), event as (
         insert into audit_event (team_id, seq, occurred_at, actor_user_id, actor_role, action, phase, target_duo_user_id,
           target_username, outcome, reason, ticket, correlation_id, intent_id, request_ref, duo_ref, params, prev_hash, hash, key_id)
         select team_id, ?::bigint, ?::timestamptz, ?::varchar, ?::varchar, ?::varchar, ?::text, ?::varchar, ?::varchar,
           ?::text, ?::text, ?::varchar, ?::varchar, ?::bigint, ?::varchar, ?::varchar, ?::jsonb, ?::varchar, ?::varchar,
           ?::varchar
         from head
         returning id, team_id, seq
       ), outbox as (
         insert into audit_outbox (event_id, team_id, seq, status, attempts, alert, updated_at)
         select id, team_id, seq, 'pending', 0, ?::boolean, ?::timestamptz from event
       ), wake as (
         -- the relay of whichever instance runs it, brought forward when it is idle (as JobQueue.poke does)
         update job set run_at = ?::timestamptz
         where dedupe_key = ? and status = 'queued' and run_at > ?::timestamptz and exists (select 1 from event)
       )
       select id, null::bigint as seq, null::varchar as hash, null::varchar as key_id from event
       union all
       select null, h.seq, h.hash, e.key_id from audit_chain_head h
       left join audit_event e on e.team_id = h.team_id and e.seq = h.seq
       where h.team_id = ? and not exists (select 1 from event)`,
        [
          row.seq,
          row.hash,
          row.teamId,
          head.seq,
          head.link,
          row.seq,
          row.occurredAt,
          row.actorUserId,
          row.actorRole,
          row.action,
          row.phase,
          row.targetDuoUserId,
          row.targetUsername,
          row.outcome,
          row.reason,
          row.ticket,
          row.correlationId,
          row.intentId,
          row.requestRef,
          row.duoRef,
          JSON.stringify(row.params),
          row.prevHash,
          row.hash,
          row.keyId,
          isAlertEvent(row),
          now,
          now,
          relayJobKey(row.teamId),
          now,
          row.teamId,
        ],
        'all',
        em.getTransactionContext(),
      );
    const [r] = rows;
    if (!r) return {};
    if (r.id !== null) return { id: Number(r.id) };
    return { current: { seq: Number(r.seq), link: r.hash!, keyId: r.key_id } };
  }
}

function checked(p: Pending): Pending {
  assertAuditSafe(p.entry.params ?? {}, [p.entry.reason, p.entry.ticket]);
  return p;
}
