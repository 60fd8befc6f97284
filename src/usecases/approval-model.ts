import type { z } from 'zod';
import type { AuditActor } from '../audit/trail.js';
import type { IApprovalRequest } from '../db/entities.js';
import type { ApprovalPolicy, ApprovalState } from '../domain/approvals.js';
import type { Deps, EntityManager } from './deps.js';

/**
 * The approval engine's vocabulary: a request as the rest of the app sees it (a plain, read-only
 * copy of its row), a kind (what is being approved: parameters, executor, optional undo), and the
 * Slack side as a port (cards, notices, one-time private deliveries).
 */

/** Small, non-secret facts: a result, a card line, an audit parameter. */
export type Facts = Readonly<Record<string, string | number | boolean | null>>;

export interface ApprovalView<P = unknown> {
  readonly id: string;
  readonly teamId: string;
  readonly kind: string;
  readonly params: P;
  readonly state: ApprovalState;
  readonly policy: ApprovalPolicy;
  readonly requesterUserId: string;
  readonly requesterRole: string;
  readonly target: { readonly duoUserId: string; readonly username: string } | null;
  readonly reason: string;
  readonly ticket: string | null;
  readonly requestChannel: string | null;
  readonly card: { readonly channel: string; readonly ts: string } | null;
  readonly decidedBy: string | null;
  readonly decidedAt: Date | null;
  readonly decisionNote: string | null;
  readonly expiresAt: Date;
  readonly executeAfter: Date | null;
  readonly activeUntil: Date | null;
  readonly result: Facts;
  readonly failureReason: string | null;
  readonly verificationId: string | null;
  readonly createdAt: Date;
}

export function toApprovalView<P>(r: IApprovalRequest, params: P): ApprovalView<P> {
  return {
    id: r.id,
    teamId: r.teamId,
    kind: r.kind,
    params,
    state: r.state,
    policy: r.policy,
    requesterUserId: r.requesterUserId,
    requesterRole: r.requesterRole,
    target: r.targetDuoUserId
      ? { duoUserId: r.targetDuoUserId, username: r.targetUsername ?? r.targetDuoUserId }
      : null,
    reason: r.reason,
    ticket: r.ticket ?? null,
    requestChannel: r.requestChannel ?? null,
    card: r.cardChannel && r.cardTs ? { channel: r.cardChannel, ts: r.cardTs } : null,
    decidedBy: r.decidedBy ?? null,
    decidedAt: r.decidedAt ?? null,
    decisionNote: r.decisionNote ?? null,
    expiresAt: r.expiresAt,
    executeAfter: r.executeAfter ?? null,
    activeUntil: r.activeUntil ?? null,
    result: r.result ?? {},
    failureReason: r.failureReason ?? null,
    verificationId: r.verificationId ?? null,
    createdAt: r.createdAt,
  };
}

/** What a kind's executor or undo has at hand. */
export interface KindContext {
  deps: Deps;
  em: EntityManager;
  notices: ApprovalNotices;
  /** Who carries the change out: the approver, the exempt requester, or duo-desk itself (a delay, a time box). */
  actor: AuditActor;
  correlationId: string | null;
  /** Where a one-time delivery may be shown at once (the requester's own open modal), when there is one. */
  deliverTo?: { viewId: string } | undefined;
}

/** How an execution ended. `active` is for time-boxed changes, which end by themselves at `activeUntil`. */
export type ExecuteOutcome =
  | { state: 'done'; result?: Facts }
  | { state: 'active'; activeUntil: Date; result?: Facts }
  | { state: 'failed'; reason: string; result?: Facts }
  | { state: 'unknown'; reason: string; result?: Facts };

/**
 * One kind of guarded change. Adding a kind needs only this (its parameters, its executor, maybe its
 * undo and card facts) and its card text in views/approvals.ts; the lifecycle, the card, the
 * notices, expiry, cancellation and the time box are the engine's.
 */
export interface ApprovalKind<P = unknown, C = unknown> {
  readonly name: string;
  /** Prefix of the engine's audit actions for this kind: `<audit>.requested`, `.approved`, `.denied`, … */
  readonly audit: string;
  readonly params: z.ZodType<P>;
  /** Whether the requester may still have exactly this done, on state loaded now (checked before executing). */
  stillAllowed?(ctx: KindContext, request: ApprovalView<P>): Promise<boolean>;
  /** What the card shows besides the request itself, read fresh (never from what the requester typed). */
  cardFacts?(ctx: KindContext, request: ApprovalView<P>): Promise<C>;
  /** Makes the change. Runs outside any transaction, once per request (the engine guarantees it). */
  execute(ctx: KindContext, request: ApprovalView<P>): Promise<ExecuteOutcome>;
  /** Undoes a time-boxed change at its end; throws to be tried again later. */
  end?(ctx: KindContext, request: ApprovalView<P>): Promise<Facts>;
}

/** A kind with its types erased, as the registry holds it. */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds kinds of every parameter type
export type AnyKind = ApprovalKind<any, any>;

/** The approval card: the request, and the facts its kind read for it just now. */
export interface ApprovalCardModel<P = unknown, C = unknown> {
  request: ApprovalView<P>;
  facts: C | null;
}

export type RequesterNotice =
  | { kind: 'submitted' }
  | { kind: 'scheduled' }
  | { kind: 'denied' }
  | { kind: 'expired' }
  | { kind: 'cancelled' }
  | { kind: 'done' }
  | { kind: 'active' }
  | { kind: 'ended' }
  | { kind: 'failed' }
  | { kind: 'unknown' };

/** Something shown once, to the requester only (bypass codes). `secrets` are never stored or logged. */
export interface PrivateDelivery {
  secrets: readonly string[];
  facts: Facts;
}

export type DeliveredVia = 'modal' | 'ephemeral' | 'dm';

/** The Slack side of the engine (src/slack/approval-notices.ts implements it). */
export interface ApprovalNotices {
  /** Posts the card to the approvals channel, or updates it in place once posted. */
  publishCard(card: ApprovalCardModel): Promise<{ channel: string; ts: string }>;
  /** Tells the requester privately: ephemeral where they asked, else a DM. */
  tellRequester(request: ApprovalView, notice: RequesterNotice): Promise<void>;
  /** Hands a secret to the requester only, once, where it does not persist. */
  deliverPrivately(
    request: ApprovalView,
    delivery: PrivateDelivery,
    deliverTo?: { viewId: string },
  ): Promise<DeliveredVia>;
}
