import { randomUUID } from 'node:crypto';
import type { AuditAction, AuditActor, AuditEntry, AuditParams } from '../audit/trail.js';
import { ApprovalRequest, type IApprovalRequest } from '../db/entities.js';
import type { ApprovalPolicy, ApprovalState } from '../domain/approvals.js';
import type { Actor } from '../domain/roles.js';
import { fail } from '../errors.js';
import { authorizeOrThrow, requireActor } from './access.js';
import type {
  AnyKind,
  ApprovalCardModel,
  ApprovalNotices,
  ApprovalView,
  ExecuteOutcome,
  Facts,
  KindContext,
  RequesterNotice,
} from './approval-model.js';
import { toApprovalView } from './approval-model.js';
import { loadRow, setCardLocation, type Transition, transition } from './approval-store.js';
import type { Caller, Deps, EntityManager } from './deps.js';
import { cleanFreeText, type Progress, safely } from './kit.js';
import { loadSettings } from './settings.js';
import { checkStepUp, totpStatus } from './step-up.js';

/**
 * The one lifecycle of every guarded change (states and transitions in src/domain/approvals.ts):
 * submit (with the policy the guards chose), decide (approve after step-up, deny, cancel), expire,
 * wait out a delay, execute exactly once, and end a time-boxed change. Every path re-loads the
 * request and the responder and authorizes again; ids that come back from Slack are references.
 */
declare module '../errors.js' {
  interface Problems {
    /** A decision came too late: someone decided first, the requester cancelled, or it expired. */
    'approval.not_open': { state: ApprovalState; decidedBy: string | null; decidedAt: Date | null };
    'approval.expired': NoFacts;
    'approval.approver_not_enrolled': NoFacts;
    'approval.requester_no_longer_allowed': { requesterUserId: string };
    'approval.no_channel': NoFacts;
    'approval.card_not_posted': { channel: string | null };
    'approval.not_active': { state: ApprovalState };
  }
}

export const EXPIRE_JOB = 'approval.expire';
export const EXECUTE_JOB = 'approval.execute';
export const END_JOB = 'approval.end';
const jobKey = (job: string, id: string) => `${job}:${id}`;

/**
 * Executing follows the decision within seconds. A request still approved or executing long after
 * its decision means duo-desk stopped in between: nobody knows whether the change happened, so it is
 * closed as unknown, audited, and the requester told. Nothing is re-run automatically.
 */
export const STUCK_EXECUTION_MS = 5 * 60_000;
/** An undo (the end of a time box) that failed is tried again this much later. */
const END_RETRY_MS = 60_000;

// The registry holds every kind the composition root gave it (approval-kinds.ts and a test's own).
const kindOf = (deps: Deps, name: string): AnyKind => deps.approvals.get(name) as AnyKind;

function view(deps: Deps, row: IApprovalRequest): ApprovalView {
  return toApprovalView(row, kindOf(deps, row.kind).params.parse(row.params));
}

const who = (actor: Actor): AuditActor => ({ userId: actor.userId, role: actor.role });
const SYSTEM: AuditActor = { system: 'duo-desk' };
const targetOf = (r: ApprovalView) =>
  r.target ? { duoUserId: r.target.duoUserId, username: r.target.username } : undefined;

/** The engine's audit event for a request (`<kind audit prefix>.<what>`). */
function event(
  deps: Deps,
  r: ApprovalView,
  what: 'requested' | 'approved' | 'denied' | 'cancelled' | 'expired' | 'failed' | 'ended',
  actor: AuditActor,
  correlationId: string | null,
  extra: AuditParams = {},
  outcome: AuditEntry['outcome'] = 'success',
): AuditEntry {
  const kind = kindOf(deps, r.kind);
  return {
    teamId: r.teamId,
    actor,
    action: `${kind.audit}.${what}` as AuditAction,
    outcome,
    target: targetOf(r),
    requestRef: r.id,
    correlationId,
    params: { ...(r.params as AuditParams), requester: r.requesterUserId, policy: r.policy, ...extra },
  };
}

/** A state change and its audit event commit together, or neither (the first decision wins). */
function transitionAudited(deps: Deps, em: EntityManager, t: Transition, entry: AuditEntry | null): Promise<boolean> {
  return em.transactional(async (tem) => {
    const ok = await transition(tem, t);
    if (ok && entry) await deps.audit.record(tem, entry);
    return ok;
  });
}

async function reload(deps: Deps, em: EntityManager, r: ApprovalView): Promise<ApprovalView> {
  return view(deps, await loadRow(em, r.teamId, r.id));
}

function context(
  deps: Deps,
  em: EntityManager,
  notices: ApprovalNotices,
  actor: AuditActor,
  correlationId: string | null,
  deliverTo?: { viewId: string },
): KindContext {
  return { deps, em, notices, actor, correlationId, deliverTo };
}

/** The card, re-read from the row and the kind's fresh facts; a card that fails to update is only logged. */
export async function cardModel(ctx: KindContext, r: ApprovalView): Promise<ApprovalCardModel> {
  const kind = kindOf(ctx.deps, r.kind);
  let facts: unknown = null;
  if (kind.cardFacts)
    facts = await kind.cardFacts(ctx, r).catch((e: unknown) => {
      ctx.deps.logger.warn('approval card: facts could not be read', { id: r.id, code: (e as { code?: string }).code });
      return null;
    });
  return { request: r, facts };
}

async function refreshCard(ctx: KindContext, r: ApprovalView): Promise<void> {
  if (!r.card) return;
  const card = await cardModel(ctx, r);
  await safely(ctx.deps, 'update the approval card', () => ctx.notices.publishCard(card));
}

const tell = (ctx: KindContext, r: ApprovalView, notice: RequesterNotice) =>
  safely(ctx.deps, 'tell the requester', () => ctx.notices.tellRequester(r, notice));

// ─── submitting ────────────────────────────────────────────────────────────────────────────────

export interface NewRequest<P> {
  kind: AnyKind;
  params: P;
  policy: ApprovalPolicy;
  target: { duoUserId: string; username: string } | null;
  reason: string;
  ticket: string | null;
  requestChannel: string | null;
  verificationId: string | null;
  /** For 'delay': hours until the change takes effect. */
  delayHours: number;
  /** Facts for the `requested` audit event (what the guards asked for, …). */
  audit?: AuditParams;
  /** Marks the requested event as an alert (posted ahead of the audit channel's backlog). */
  alert?: boolean;
  /** Runs in the transaction that inserts the request (e.g. a daily limit counted under a lock). */
  beforeInsert?: (tem: EntityManager) => Promise<void>;
  /** The requester's open modal, where a one-time delivery can be shown at once (no approval needed). */
  deliverTo?: { viewId: string };
}

export interface Submitted {
  request: ApprovalView;
  /** 'pending' while a second person decides, 'scheduled' while a delay runs, else how the execution ended. */
  outcome: 'pending' | 'scheduled' | ExecuteOutcome['state'];
  via: 'modal' | 'ephemeral' | 'dm' | null;
}

/**
 * Records a guarded change as a request in the state its policy asks for, then posts its card and
 * tells the requester, or (no approval needed) executes it at once. The guards have run already
 * (src/usecases/guards.ts).
 */
export async function submitRequest<P>(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  actor: Actor,
  notices: ApprovalNotices,
  req: NewRequest<P>,
): Promise<Submitted> {
  if (req.policy !== 'none' && !deps.config.approvalChannel) throw fail('CONFIG_INVALID', 'approval.no_channel', {});
  const now = deps.clock.now();
  const settings = await loadSettings(em, actor.teamId);
  const id = randomUUID();
  const state: ApprovalState = req.policy === 'none' ? 'approved' : req.policy === 'delay' ? 'scheduled' : 'requested';
  const executeAfter = req.policy === 'delay' ? new Date(now.getTime() + req.delayHours * 3600_000) : null;
  const expiresAt = executeAfter ?? new Date(now.getTime() + settings.approval_timeout_minutes * 60_000);
  const row = await em.transactional(async (tem) => {
    await req.beforeInsert?.(tem);
    const created = tem.create(ApprovalRequest, {
      id,
      teamId: actor.teamId,
      kind: req.kind.name,
      params: req.kind.params.parse(req.params) as Record<string, unknown>,
      state,
      policy: req.policy,
      requesterUserId: actor.userId,
      requesterRole: actor.role,
      targetDuoUserId: req.target?.duoUserId ?? null,
      targetUsername: req.target?.username ?? null,
      reason: req.reason,
      ticket: req.ticket,
      requestChannel: req.requestChannel,
      decidedBy: req.policy === 'none' ? actor.userId : null,
      decidedAt: req.policy === 'none' ? now : null,
      decisionNote: req.policy === 'none' ? 'approval not required for this role by the settings' : null,
      expiresAt,
      executeAfter,
      result: {},
      verificationId: req.verificationId,
      createdAt: now,
      updatedAt: now,
    });
    await tem.flush();
    const r = view(deps, created);
    await deps.audit.record(tem, {
      ...event(deps, r, 'requested', who(actor), caller.correlationId, {
        ...req.audit,
        approvalRequired: req.policy !== 'none',
        ...(executeAfter ? { takesEffectAt: executeAfter.toISOString() } : {}),
        ...(req.alert || req.policy === 'delay' ? { alert: true } : {}),
      }),
      reason: req.reason,
      ticket: req.ticket,
    });
    if (state === 'requested')
      await deps.jobs.enqueue(tem, {
        kind: EXPIRE_JOB,
        payload: { teamId: actor.teamId, requestId: id },
        runAt: expiresAt,
        dedupeKey: jobKey(EXPIRE_JOB, id),
      });
    if (state === 'approved')
      // Settles the request as unknown should duo-desk stop before the change finished.
      await deps.jobs.enqueue(tem, {
        kind: EXPIRE_JOB,
        payload: { teamId: actor.teamId, requestId: id },
        runAt: new Date(now.getTime() + STUCK_EXECUTION_MS),
        dedupeKey: jobKey(EXPIRE_JOB, id),
      });
    if (state === 'scheduled')
      await deps.jobs.enqueue(tem, {
        kind: EXECUTE_JOB,
        payload: { teamId: actor.teamId, requestId: id },
        runAt: executeAfter!,
        dedupeKey: jobKey(EXECUTE_JOB, id),
      });
    return created;
  });
  const request = view(deps, row);
  const ctx = context(deps, em, notices, who(actor), caller.correlationId, req.deliverTo);
  if (state === 'approved') {
    const executed = await execute(ctx, request);
    return { request: executed.request, outcome: executed.request.state as Submitted['outcome'], via: executed.via };
  }
  await postCard(ctx, request);
  await tell(ctx, request, { kind: state === 'scheduled' ? 'scheduled' : 'submitted' });
  return {
    request: await reload(deps, em, request),
    outcome: state === 'scheduled' ? 'scheduled' : 'pending',
    via: null,
  };
}

/** Posts the card; a request nobody can see is withdrawn at once (failed), never left waiting. */
async function postCard(ctx: KindContext, r: ApprovalView): Promise<void> {
  try {
    const at = await ctx.notices.publishCard(await cardModel(ctx, r));
    await setCardLocation(ctx.em, r.id, at.channel, at.ts);
  } catch (e) {
    const why = 'the approval card could not be posted';
    await transitionAudited(
      ctx.deps,
      ctx.em,
      {
        id: r.id,
        teamId: r.teamId,
        from: r.state,
        to: r.state === 'scheduled' ? 'cancelled' : 'expired',
        at: ctx.deps.clock.now(),
        set: { failureReason: why },
      },
      event(
        ctx.deps,
        r,
        'failed',
        SYSTEM,
        ctx.correlationId,
        {
          why,
          slackError: String((e as { code?: string }).code ?? 'unknown').slice(0, 60),
        },
        'failed',
      ),
    );
    throw fail(
      'INVALID_STATE',
      'approval.card_not_posted',
      { channel: ctx.deps.config.approvalChannel ?? null },
      { cause: e },
    );
  }
}

// ─── executing ─────────────────────────────────────────────────────────────────────────────────

/**
 * Runs the kind's executor for an approved request, exactly once: approved → executing is one
 * conditional update, so a second caller (another instance, a retried job) finds nothing to do.
 */
async function execute(ctx: KindContext, r: ApprovalView): Promise<{ request: ApprovalView; via: Submitted['via'] }> {
  const { deps, em } = ctx;
  const claimed = await transition(em, {
    id: r.id,
    teamId: r.teamId,
    from: 'approved',
    to: 'executing',
    at: deps.clock.now(),
  });
  if (!claimed) return { request: await reload(deps, em, r), via: null };
  const kind = kindOf(deps, r.kind);
  let outcome: ExecuteOutcome;
  let via: Submitted['via'] = null;
  const delivering: KindContext = {
    ...ctx,
    notices: {
      ...ctx.notices,
      deliverPrivately: async (req, d, to) => {
        via = await ctx.notices.deliverPrivately(req, d, to);
        return via;
      },
    },
  };
  try {
    outcome = await kind.execute(delivering, { ...r, state: 'executing' });
  } catch (e) {
    // Executors record their own intent and outcome; an error that escapes is a failure of the change.
    deps.logger.error('approval: executor failed', { err: e, id: r.id, kind: r.kind });
    outcome = { state: 'failed', reason: (e as { code?: string }).code ?? 'error' };
  }
  const now = deps.clock.now();
  await transition(em, {
    id: r.id,
    teamId: r.teamId,
    from: 'executing',
    to: outcome.state,
    at: now,
    ...(outcome.result ? { result: outcome.result } : {}),
    set: {
      ...(outcome.state === 'failed' || outcome.state === 'unknown' ? { failureReason: outcome.reason } : {}),
      ...(outcome.state === 'active' ? { activeUntil: outcome.activeUntil } : {}),
    },
  });
  if (outcome.state === 'active')
    await deps.jobs.enqueue(em, {
      kind: END_JOB,
      payload: { teamId: r.teamId, requestId: r.id },
      runAt: outcome.activeUntil,
      dedupeKey: jobKey(END_JOB, r.id),
    });
  const after = await reload(deps, em, r);
  await refreshCard(ctx, after);
  // An exempt requester looks at their own result in the form; others are told privately.
  if (r.decidedBy !== r.requesterUserId || outcome.state !== 'done') await tell(ctx, after, { kind: outcome.state });
  return { request: after, via };
}

// ─── deciding ──────────────────────────────────────────────────────────────────────────────────

/** Why a request can no longer be decided (`scheduled` ones can only be cancelled, never approved). */
function notOpen(r: ApprovalView, now: Date, open: readonly ApprovalState[] = ['requested']) {
  if (!open.includes(r.state))
    return fail('INVALID_STATE', 'approval.not_open', {
      state: r.state,
      decidedBy: r.decidedBy,
      decidedAt: r.decidedAt,
    });
  if (r.state === 'requested' && r.expiresAt.getTime() <= now.getTime())
    return fail('INVALID_STATE', 'approval.expired', {});
  return null;
}

/** After a lost race: why, in the words of the state the winner left. */
const lost = (r: ApprovalView, now: Date) =>
  notOpen(r, now) ??
  fail('CONFLICT', 'approval.not_open', { state: r.state, decidedBy: r.decidedBy, decidedAt: r.decidedAt });

const approvalTarget = (r: ApprovalView) =>
  ({
    kind: 'approval',
    requesterUserId: r.requesterUserId,
    approvers: r.policy === 'second_owner' ? 'second_owner' : 'second_person',
  }) as const;

/** Loads the request (of this team) and authorizes the actor for it, on the state loaded now; a refusal is audited. */
async function loadAuthorized(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  requestId: string,
  action: 'approval.decide' | 'approval.cancel' | 'approval.end',
  verb: 'approve' | 'cancel' | 'end',
) {
  const actor = await requireActor(deps, em, caller);
  const request = view(deps, await loadRow(em, actor.teamId, requestId));
  const kind = kindOf(deps, request.kind);
  await authorizeOrThrow(deps, em, caller, actor, action, approvalTarget(request), {
    targetUser: targetOf(request),
    attempted: `${kind.audit}.${verb}`,
    requestRef: request.id,
    ...(action === 'approval.decide' ? { guard: 'approval' } : {}),
  });
  return { actor, request, kind };
}

async function authorizeDecision(deps: Deps, em: EntityManager, caller: Caller, requestId: string) {
  const { actor, request, kind } = await loadAuthorized(deps, em, caller, requestId, 'approval.decide', 'approve');
  const stale = notOpen(request, deps.clock.now());
  if (stale) throw stale;
  return { actor, request, kind };
}

/** The check behind the Approve and Deny buttons, before their modal opens. */
export async function prepareDecision(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  requestId: string,
  decision: 'approve' | 'deny',
): Promise<ApprovalView> {
  const { actor, request } = await authorizeDecision(deps, em, caller, requestId);
  if (decision === 'approve' && (await totpStatus(em, actor.teamId, actor.userId)).status !== 'active')
    throw fail('STEP_UP_NOT_ENROLLED', 'approval.approver_not_enrolled', {});
  return request;
}

export interface Decided {
  request: ApprovalView;
  via: Submitted['via'];
}

/**
 * Step-up first (outside any transaction, so a refused code is recorded), then the decision as one
 * conditional update (the first decision wins), then the executor outside the transaction.
 */
export async function approveRequest(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: ApprovalNotices,
  input: { requestId: string; totpCode: string },
): Promise<Decided> {
  const { actor, request, kind } = await authorizeDecision(deps, em, caller, input.requestId);
  const ctx = context(deps, em, notices, who(actor), caller.correlationId);
  if (kind.stillAllowed && !(await kind.stillAllowed(ctx, request)))
    throw fail('INVALID_STATE', 'approval.requester_no_longer_allowed', { requesterUserId: request.requesterUserId });
  await checkStepUp(deps, em, caller, input.totpCode, 'approve');
  const now = deps.clock.now();
  const won = await transitionAudited(
    deps,
    em,
    {
      id: request.id,
      teamId: request.teamId,
      from: 'requested',
      to: 'approved',
      at: now,
      set: { decidedBy: actor.userId, decidedAt: now },
      openAt: now,
    },
    event(deps, request, 'approved', who(actor), caller.correlationId, { stepUp: true }),
  );
  const fresh = await reload(deps, em, request);
  if (!won) throw lost(fresh, now);
  return execute(ctx, fresh);
}

export async function denyRequest(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: ApprovalNotices,
  input: { requestId: string; reason: string },
  progress: Progress = {},
): Promise<ApprovalView> {
  const reason = cleanFreeText(input.reason, {
    field: 'deny_reason',
    purpose: 'deny_reason',
    max: 500,
    required: true,
  })!;
  const { actor, request } = await authorizeDecision(deps, em, caller, input.requestId);
  const now = deps.clock.now();
  const won = await transitionAudited(
    deps,
    em,
    {
      id: request.id,
      teamId: request.teamId,
      from: 'requested',
      to: 'denied',
      at: now,
      set: { decidedBy: actor.userId, decidedAt: now, decisionNote: reason },
      openAt: now,
    },
    { ...event(deps, request, 'denied', who(actor), caller.correlationId), reason },
  );
  const fresh = await reload(deps, em, request);
  if (!won) throw lost(fresh, now);
  await progress.accepted?.();
  const ctx = context(deps, em, notices, who(actor), caller.correlationId);
  await refreshCard(ctx, fresh);
  await tell(ctx, fresh, { kind: 'denied' });
  return fresh;
}

/** The requester withdraws a request, or any owner stops one (a delay-scheduled change included). */
export async function cancelRequest(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: ApprovalNotices,
  requestId: string,
): Promise<ApprovalView> {
  const { actor, request } = await loadAuthorized(deps, em, caller, requestId, 'approval.cancel', 'cancel');
  const now = deps.clock.now();
  const stale = notOpen(request, now, ['requested', 'scheduled']);
  if (stale) throw stale;
  const won = await transitionAudited(
    deps,
    em,
    {
      id: request.id,
      teamId: request.teamId,
      from: request.state,
      to: 'cancelled',
      at: now,
      set: { decidedBy: actor.userId, decidedAt: now },
    },
    event(deps, request, 'cancelled', who(actor), caller.correlationId),
  );
  const fresh = await reload(deps, em, request);
  if (!won) throw notOpen(fresh, now, ['requested', 'scheduled']) ?? lost(fresh, now);
  const ctx = context(deps, em, notices, who(actor), caller.correlationId);
  await refreshCard(ctx, fresh);
  if (actor.userId !== request.requesterUserId) await tell(ctx, fresh, { kind: 'cancelled' });
  return fresh;
}

// ─── time boxes ────────────────────────────────────────────────────────────────────────────────

/**
 * Ends a time-boxed change: active → ending (one conditional update, so one instance does it), the
 * kind's undo, then ending → ended; an undo that fails goes back to active and is tried again.
 */
async function endChange(ctx: KindContext, r: ApprovalView, why: 'time_box' | 'early'): Promise<ApprovalView> {
  const { deps, em } = ctx;
  const now = deps.clock.now();
  const claimed = await transition(em, {
    id: r.id,
    teamId: r.teamId,
    from: 'active',
    to: 'ending',
    at: now,
    ...(why === 'time_box' ? { due: { column: 'active_until', at: now } } : {}),
  });
  if (!claimed) return reload(deps, em, r);
  const kind = kindOf(deps, r.kind);
  let facts: Facts;
  try {
    facts = kind.end ? await kind.end(ctx, { ...r, state: 'ending' }) : {};
  } catch (e) {
    deps.logger.warn('approval: ending a time-boxed change failed; will retry', {
      id: r.id,
      code: (e as { code?: string }).code,
    });
    await transition(em, { id: r.id, teamId: r.teamId, from: 'ending', to: 'active', at: deps.clock.now() });
    await deps.jobs.enqueue(em, {
      kind: END_JOB,
      payload: { teamId: r.teamId, requestId: r.id },
      runAt: new Date(deps.clock.now().getTime() + END_RETRY_MS),
      dedupeKey: jobKey(END_JOB, r.id),
    });
    throw e;
  }
  await transitionAudited(
    deps,
    em,
    {
      id: r.id,
      teamId: r.teamId,
      from: 'ending',
      to: 'ended',
      at: deps.clock.now(),
      result: { ...facts, endedBy: why },
    },
    event(deps, r, 'ended', ctx.actor, ctx.correlationId, { ...facts, why }),
  );
  const after = await reload(deps, em, r);
  await refreshCard(ctx, after);
  await tell(ctx, after, { kind: 'ended' });
  return after;
}

/** "End now": the requester, or anyone who could have approved it, ends a time-boxed change early. */
export async function endEarly(
  deps: Deps,
  em: EntityManager,
  caller: Caller,
  notices: ApprovalNotices,
  requestId: string,
): Promise<ApprovalView> {
  const { actor, request } = await loadAuthorized(deps, em, caller, requestId, 'approval.end', 'end');
  if (request.state !== 'active') throw fail('INVALID_STATE', 'approval.not_active', { state: request.state });
  return endChange(context(deps, em, notices, who(actor), caller.correlationId), request, 'early');
}

// ─── jobs ──────────────────────────────────────────────────────────────────────────────────────

type JobResult = { runAgainAt: Date } | undefined;

async function loadForJob(deps: Deps, em: EntityManager, q: { teamId: string; requestId: string }) {
  try {
    return view(deps, await loadRow(em, q.teamId, q.requestId));
  } catch {
    return null;
  }
}

/**
 * 'approval.expire': requested → expired once its time has passed (a decision that came first wins);
 * a request left approved or executing by a crash is closed as unknown after STUCK_EXECUTION_MS.
 */
export async function expireRequest(
  deps: Deps,
  em: EntityManager,
  notices: ApprovalNotices,
  q: { teamId: string; requestId: string },
): Promise<JobResult> {
  const r = await loadForJob(deps, em, q);
  if (!r) return undefined;
  const now = deps.clock.now();
  const ctx = context(deps, em, notices, SYSTEM, null);
  if (r.state === 'approved' || r.state === 'executing') {
    const stuckAt = new Date((r.decidedAt ?? now).getTime() + STUCK_EXECUTION_MS);
    if (stuckAt.getTime() > now.getTime()) return { runAgainAt: stuckAt };
    const failureReason = 'duo-desk stopped between the approval and the change: check the user in Duo';
    const won = await transitionAudited(
      deps,
      em,
      { id: r.id, teamId: r.teamId, from: r.state, to: 'unknown', at: now, set: { failureReason } },
      event(deps, r, 'failed', SYSTEM, null, { why: 'execution never finished' }, 'unknown'),
    );
    if (won) {
      const after = await reload(deps, em, r);
      await refreshCard(ctx, after);
      await tell(ctx, after, { kind: 'unknown' });
    }
    return undefined;
  }
  if (r.state !== 'requested') return undefined;
  if (r.expiresAt.getTime() > now.getTime()) return { runAgainAt: r.expiresAt };
  const won = await transitionAudited(
    deps,
    em,
    { id: r.id, teamId: r.teamId, from: 'requested', to: 'expired', at: now, due: { column: 'expires_at', at: now } },
    event(deps, r, 'expired', SYSTEM, null),
  );
  if (!won) return undefined;
  const after = await reload(deps, em, r);
  await refreshCard(ctx, after);
  await tell(ctx, after, { kind: 'expired' });
  return undefined;
}

/** 'approval.execute': a delay-scheduled change nobody cancelled takes effect when its delay is over. */
export async function runScheduled(
  deps: Deps,
  em: EntityManager,
  notices: ApprovalNotices,
  q: { teamId: string; requestId: string },
): Promise<JobResult> {
  const r = await loadForJob(deps, em, q);
  if (r?.state !== 'scheduled' || !r.executeAfter) return undefined;
  const now = deps.clock.now();
  if (r.executeAfter.getTime() > now.getTime()) return { runAgainAt: r.executeAfter };
  const won = await transitionAudited(
    deps,
    em,
    {
      id: r.id,
      teamId: r.teamId,
      from: 'scheduled',
      to: 'approved',
      at: now,
      set: { decidedAt: now },
      due: { column: 'execute_after', at: now },
    },
    event(deps, r, 'approved', SYSTEM, null, { by: 'delay', delayEndedAt: now.toISOString() }),
  );
  if (!won) return undefined;
  await deps.jobs.enqueue(em, {
    kind: EXPIRE_JOB,
    payload: { teamId: r.teamId, requestId: r.id },
    runAt: new Date(now.getTime() + STUCK_EXECUTION_MS),
    dedupeKey: jobKey(EXPIRE_JOB, r.id),
  });
  await execute(context(deps, em, notices, SYSTEM, null), await reload(deps, em, r));
  return undefined;
}

/** 'approval.end': a time-boxed change ends at its time (once, whichever instance runs the job). */
export async function endTimeBox(
  deps: Deps,
  em: EntityManager,
  notices: ApprovalNotices,
  q: { teamId: string; requestId: string },
): Promise<JobResult> {
  const r = await loadForJob(deps, em, q);
  if (r?.state !== 'active' || !r.activeUntil) return undefined;
  const now = deps.clock.now();
  if (r.activeUntil.getTime() > now.getTime()) return { runAgainAt: r.activeUntil };
  await endChange(context(deps, em, notices, SYSTEM, null), r, 'time_box').catch(() => undefined);
  return undefined;
}

/** One request as the views see it (a card refresh from outside the engine, tests). */
export async function loadRequest(deps: Deps, em: EntityManager, teamId: string, id: string): Promise<ApprovalView> {
  return view(deps, await loadRow(em, teamId, id));
}
