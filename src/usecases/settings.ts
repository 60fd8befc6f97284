import type { AuditActor } from '../audit/trail.js';
import { Setting } from '../db/entities.js';
import type { Policy } from '../domain/duo-settings.js';
import { formatSettingValue, mergeSettings, parseSettingValue, type SettingName, weakens } from '../domain/settings.js';
import type { Deps, EntityManager } from './deps.js';
import { readDuoCeiling } from './duo-settings.js';

/**
 * Settings read once per request: the request's EntityManager (marked by the request middleware) keeps what it
 * read, so the entry check and the use case decide on the same load; every other EntityManager (jobs, the CLI,
 * transactions) reads the database each time. A change made through a request forgets it at once.
 */
const perRequest = new WeakMap<EntityManager, Map<string, Policy>>();

export function readSettingsOncePerRequest(em: EntityManager): void {
  perRequest.set(em, new Map());
}

/** duo-desk's settings for the installation, with Duo's own settings as their ceiling (`duo`). */
export async function loadSettings(em: EntityManager, teamId: string): Promise<Policy> {
  const memo = perRequest.get(em);
  const known = memo?.get(teamId);
  if (known) return known;
  const [rows, duo] = await Promise.all([em.find(Setting, { teamId }, { refresh: true }), readDuoCeiling(em)]);
  const policy = Object.freeze({
    ...mergeSettings(rows.map((r) => ({ name: r.name, value: r.value }))),
    duo,
  }) as Policy;
  memo?.set(teamId, policy);
  return policy;
}

/**
 * Changes one setting. The caller has authorized the change (owners only; the CLI is the installer);
 * the change and its audit event commit together; a change that weakens a safeguard is flagged as an alert.
 */
export async function changeSetting(
  deps: Pick<Deps, 'audit'>,
  em: EntityManager,
  by: AuditActor,
  teamId: string,
  name: string,
  raw: unknown,
  correlationId: string,
  /** The approval request this change carries out, when it was a guarded one. */
  requestRef?: string,
): Promise<{ name: SettingName; before: string; after: string }> {
  const parsed = parseSettingValue(name, raw);
  perRequest.get(em)?.delete(teamId);
  const changed = await em.transactional(async (tem) => {
    const before = (await loadSettings(tem, teamId))[parsed.name];
    const existing = await tem.findOne(Setting, { teamId, name: parsed.name });
    if (existing) existing.value = parsed.value;
    else
      tem.create(Setting, {
        teamId,
        name: parsed.name,
        value: parsed.value,
        updatedBy: 'system' in by ? by.system : by.userId,
      });
    if (existing) existing.updatedBy = 'system' in by ? by.system : by.userId;
    await tem.flush();
    await deps.audit.record(tem, {
      teamId,
      actor: by,
      action: 'setting.changed',
      outcome: 'success',
      correlationId,
      requestRef: requestRef ?? null,
      params: {
        setting: parsed.name,
        before: formatSettingValue(before),
        after: formatSettingValue(parsed.value),
        // A weakening change is an alert: the audit channel shows it ahead of any backlog.
        ...(weakens(parsed.name, before, parsed.value) ? { alert: true } : {}),
      },
    });
    return { name: parsed.name, before: formatSettingValue(before), after: formatSettingValue(parsed.value) };
  });
  perRequest.get(em)?.delete(teamId);
  return changed;
}
