import type { Clock } from '../clock.js';
import type { EntityManager } from '../db/database.js';
import type { AuditOutcome } from '../domain/audit.js';
import type { JobQueue } from '../jobs/queue.js';
import type { AuditAction } from './actions.js';
import { GENESIS_HASH, hashAuditRow } from './chain.js';
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

/**
 * The one small API every use case writes through. Events are appended to a per-installation hash
 * chain in the caller's transaction, together with their outbox row for the channel relay.
 * For a Duo mutation: `intent()` (committed before the call), then `complete()` after it.
 */
export class AuditTrail {
  constructor(
    private readonly clock: Clock,
    private readonly jobs: JobQueue,
    private readonly opts: { mirrorToChannel: boolean },
  ) {}

  record(em: EntityManager, entry: AuditEntry): Promise<AuditRecord> {
    return this.append(em, entry, 'event', null);
  }

  /** Writes "about to call Duo" and commits it (its own transaction when `em` has none). */
  intent(em: EntityManager, entry: Omit<AuditEntry, 'outcome'>): Promise<AuditRecord> {
    return this.append(em, { ...entry, outcome: 'pending' }, 'intent', null);
  }

  complete(
    em: EntityManager,
    intent: AuditRecord,
    result: { outcome: AuditOutcome; duoRef?: string | null; params?: AuditParams; reason?: string | null },
  ): Promise<AuditRecord> {
    return this.append(
      em,
      {
        ...intent,
        outcome: result.outcome,
        duoRef: result.duoRef ?? intent.duoRef ?? null,
        params: { ...intent.params, ...result.params },
        reason: result.reason ?? intent.reason ?? null,
      },
      'outcome',
      intent.id,
    );
  }

  private async append(
    em: EntityManager,
    entry: AuditEntry,
    phase: AuditRecord['phase'],
    intentId: number | null,
  ): Promise<AuditRecord> {
    const params = entry.params ?? {};
    assertAuditSafe(params, [entry.reason, entry.ticket]);
    const actorUserId = 'system' in entry.actor ? entry.actor.system : entry.actor.userId;
    const actorRole = 'system' in entry.actor ? null : entry.actor.role;
    const occurredAt = this.clock.now();
    return em.transactional(async (tem) => {
      const conn = tem.getConnection();
      const trx = tem.getTransactionContext();
      await conn.execute(
        `insert into audit_chain_head (team_id, seq, hash) values (?, 0, ?) on conflict (team_id) do nothing`,
        [entry.teamId, GENESIS_HASH],
        'run',
        trx,
      );
      const [head] = await conn.execute<Array<{ seq: string | number; hash: string }>>(
        `select seq, hash from audit_chain_head where team_id = ? for update`,
        [entry.teamId],
        'all',
        trx,
      );
      const seq = Number(head!.seq) + 1;
      const fields = {
        teamId: entry.teamId,
        seq,
        occurredAt,
        actorUserId,
        actorRole,
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
        params,
        prevHash: head!.hash,
      };
      const hash = hashAuditRow(fields);
      const [row] = await conn.execute<Array<{ id: string | number }>>(
        `insert into audit_event (team_id, seq, occurred_at, actor_user_id, actor_role, action, phase, target_duo_user_id,
           target_username, outcome, reason, ticket, correlation_id, intent_id, request_ref, duo_ref, params, prev_hash, hash)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning id`,
        [
          fields.teamId,
          seq,
          occurredAt,
          actorUserId,
          actorRole,
          fields.action,
          phase,
          fields.targetDuoUserId,
          fields.targetUsername,
          fields.outcome,
          fields.reason,
          fields.ticket,
          fields.correlationId,
          intentId,
          fields.requestRef,
          fields.duoRef,
          JSON.stringify(params),
          fields.prevHash,
          hash,
        ],
        'all',
        trx,
      );
      await conn.execute(
        `update audit_chain_head set seq = ?, hash = ? where team_id = ?`,
        [seq, hash, entry.teamId],
        'run',
        trx,
      );
      const id = Number(row!.id);
      if (this.opts.mirrorToChannel) {
        await conn.execute(
          `insert into audit_outbox (event_id, team_id, seq, status, attempts, updated_at) values (?, ?, ?, 'pending', 0, ?)`,
          [id, entry.teamId, seq, occurredAt],
          'run',
          trx,
        );
        await this.jobs.enqueue(tem, {
          kind: 'audit.relay',
          payload: { teamId: entry.teamId },
          dedupeKey: relayJobKey(entry.teamId),
        });
        await this.jobs.poke(tem, relayJobKey(entry.teamId));
      }
      return { ...entry, id, seq, phase, occurredAt, intentId, hash, params };
    });
  }
}
