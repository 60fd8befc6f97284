import { looksLikeSecret } from '../audit/secrets-guard.js';
import type { AuditRecord } from '../audit/trail.js';
import { isDuoError } from '../duo/errors.js';
import { fail, isAppError } from '../errors.js';
import type { Deps, EntityManager } from './deps.js';

/**
 * What the flows repeat: the audited Duo mutation, free-text checks, progress, best-effort side effects.
 */

/** What a free-text field is for: the sentence that asks for it again depends on who reads it. */
export type FreeTextPurpose = 'change_reason' | 'bypass_reason' | 'deny_reason' | 'ticket';

declare module '../errors.js' {
  interface Problems {
    'input.text_required': { purpose: FreeTextPurpose };
    'input.text_too_long': { purpose: FreeTextPurpose; max: number };
    'input.text_looks_like_secret': { purpose: FreeTextPurpose };
  }
}

/**
 * A reason or ticket typed by a person: trimmed, within `max`, and never something that looks like a
 * code or a token (it goes into the audit trail and the audit channel). Errors name the form field.
 */
export function cleanFreeText(
  raw: string | null | undefined,
  opts: { field: string; purpose: FreeTextPurpose; max: number; required: boolean },
): string | null {
  const text = (raw ?? '').trim();
  const { field, purpose, max } = opts;
  if (!text) {
    if (opts.required) throw fail('INVALID_INPUT', 'input.text_required', { purpose }, { field });
    return null;
  }
  if (text.length > max) throw fail('INVALID_INPUT', 'input.text_too_long', { purpose, max }, { field });
  if (looksLikeSecret(text)) throw fail('INVALID_INPUT', 'input.text_looks_like_secret', { purpose }, { field });
  return text;
}

/** Called once every check that needs no Duo call has passed: the listener acks and shows a working state. */
export interface Progress {
  accepted?: () => Promise<void>;
}

/**
 * Runs a Duo mutation after its audit intent and records its outcome: success (with facts from the
 * result), failed, or unknown when Duo's answer was lost. The error is rethrown for the translator.
 */
export async function auditedDuoCall<T>(
  deps: Deps,
  em: EntityManager,
  intent: AuditRecord,
  call: () => Promise<T>,
  params: (result: T) => Record<string, string | number | boolean | null> = () => ({}),
): Promise<T> {
  let result: T;
  try {
    result = await call();
  } catch (e) {
    await deps.audit.complete(em, intent, {
      outcome: isDuoError(e) && e.outcomeUnknown ? 'unknown' : 'failed',
      duoRef: isAppError(e) ? e.code : 'error',
    });
    throw e;
  }
  await deps.audit.complete(em, intent, { outcome: 'success', params: params(result) });
  return result;
}

/** Runs a notification whose failure must not undo or block a change already committed (Slack being down). */
export async function safely<T>(deps: Deps, what: string, fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (e) {
    deps.logger.warn(`could not ${what}`, { code: (e as { code?: string }).code ?? 'unknown' });
    return null;
  }
}
