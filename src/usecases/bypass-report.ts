import type { BypassCodeMeta } from '../domain/duo-objects.js';
import { authorizeOrThrow, requireActor } from './access.js';
import type { Caller, Deps, EntityManager } from './deps.js';

/**
 * The bypass-code report (Duo's Users → Bypass Codes page): the organisation's valid codes from
 * GET /admin/v1/bypass_codes (metadata only: Duo never lists a code, and neither does this), how many are "weak"
 * (no expiry), by user and by creator. Duo names the creating administrator, or "API" for codes made through the
 * Admin API, which is every code duo-desk makes; duo-desk's own records (the `bypass.issued` outcome of each approved
 * request) say which responder asked for them: a code of that user created within the issue's window is theirs.
 */
export const REPORT_ROWS = 20;
/** A code counts as issued by a duo-desk request when Duo's `created` is this close before the recorded outcome. */
const ISSUE_WINDOW_SECS = 120;

export type Creator = { kind: 'responder'; userId: string } | { kind: 'admin'; email: string } | { kind: 'api' };

export interface CodeGroup {
  total: number;
  weak: number;
}

export interface WeakCode {
  id: string;
  duoUserId: string;
  username: string;
}

export interface BypassReport {
  total: number;
  weak: number;
  users: number;
  byUser: Array<CodeGroup & { duoUserId: string; username: string }>;
  byCreator: Array<CodeGroup & { creator: Creator }>;
  /** The weak codes' ids (what a bulk deletion names; never the codes). */
  weakCodes: WeakCode[];
}

export const isWeak = (c: Pick<BypassCodeMeta, 'expiration'>): boolean =>
  c.expiration === null || c.expiration === undefined;

interface Issue {
  duoUserId: string;
  at: number;
  requester: string;
}

async function issuesOf(em: EntityManager, teamId: string): Promise<Map<string, Issue[]>> {
  const rows = (await em.getConnection().execute(
    `select a.target_duo_user_id as duo_user_id, a.occurred_at, r.requester_user_id
     from audit_event a join approval_request r on r.id::text = a.request_ref
     where a.action = 'bypass.issued' and a.phase = 'outcome' and a.outcome in ('success', 'unknown')
       and a.team_id = ? and r.team_id = ?`,
    [teamId, teamId],
    'all',
    em.getTransactionContext(),
  )) as Array<{ duo_user_id: string | null; occurred_at: Date | string; requester_user_id: string }>;
  const out = new Map<string, Issue[]>();
  for (const r of rows) {
    if (!r.duo_user_id) continue;
    const list = out.get(r.duo_user_id) ?? [];
    list.push({
      duoUserId: r.duo_user_id,
      at: Math.floor(new Date(r.occurred_at).getTime() / 1000),
      requester: r.requester_user_id,
    });
    out.set(r.duo_user_id, list);
  }
  return out;
}

function creatorOf(c: BypassCodeMeta, issues: Map<string, Issue[]>): Creator {
  const userId = c.user?.user_id;
  const created = typeof c.created === 'number' ? c.created : null;
  if (userId && created !== null) {
    const hit = (issues.get(userId) ?? [])
      .filter((i) => created <= i.at + 5 && created >= i.at - ISSUE_WINDOW_SECS)
      .sort((a, b) => Math.abs(a.at - created) - Math.abs(b.at - created))[0];
    if (hit) return { kind: 'responder', userId: hit.requester };
  }
  return c.admin_email ? { kind: 'admin', email: c.admin_email } : { kind: 'api' };
}

const creatorKey = (c: Creator) =>
  c.kind === 'responder' ? `r:${c.userId}` : c.kind === 'admin' ? `a:${c.email}` : 'api';

export function buildReport(codes: readonly BypassCodeMeta[], issues: Map<string, Issue[]>): BypassReport {
  const byUser = new Map<string, CodeGroup & { duoUserId: string; username: string }>();
  const byCreator = new Map<string, CodeGroup & { creator: Creator }>();
  const weakCodes: WeakCode[] = [];
  for (const c of codes) {
    const weak = isWeak(c);
    const duoUserId = c.user?.user_id ?? '';
    const username = c.user?.username ?? duoUserId;
    const u = byUser.get(duoUserId) ?? { duoUserId, username, total: 0, weak: 0 };
    u.total++;
    if (weak) u.weak++;
    byUser.set(duoUserId, u);
    const creator = creatorOf(c, issues);
    const g = byCreator.get(creatorKey(creator)) ?? { creator, total: 0, weak: 0 };
    g.total++;
    if (weak) g.weak++;
    byCreator.set(creatorKey(creator), g);
    if (weak) weakCodes.push({ id: c.bypass_code_id, duoUserId, username });
  }
  const order = (a: CodeGroup, b: CodeGroup) => b.weak - a.weak || b.total - a.total;
  return {
    total: codes.length,
    weak: weakCodes.length,
    users: byUser.size,
    byUser: [...byUser.values()].sort((a, b) => order(a, b) || (a.username < b.username ? -1 : 1)),
    byCreator: [...byCreator.values()].sort(order),
    weakCodes,
  };
}

/** `/duo users codes`: the report, for whoever may list bypass codes; audited with its counts. */
export async function bypassReport(deps: Deps, em: EntityManager, caller: Caller): Promise<BypassReport> {
  const actor = await requireActor(deps, em, caller);
  await authorizeOrThrow(
    deps,
    em,
    caller,
    actor,
    'bypass_codes.list',
    { kind: 'none' },
    { attempted: 'bypass_codes.report' },
  );
  const codes = await deps.duo.listBypassCodes();
  const report = buildReport(codes, await issuesOf(em, actor.teamId));
  await deps.audit.record(em, {
    teamId: actor.teamId,
    actor: { userId: actor.userId, role: actor.role },
    action: 'bypass_codes.reported',
    outcome: 'success',
    correlationId: caller.correlationId,
    params: { total: report.total, weak: report.weak, users: report.users },
  });
  return report;
}
