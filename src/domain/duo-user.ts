import type { Action, Target } from './authorize.js';
import type { Phone, User } from './duo-objects.js';

/** Facts about a Duo user that several flows need, from Duo's own object. */
export const canTakePush = (p: Phone): boolean => p.activated === true && (p.capabilities ?? []).includes('push');
export const pushCapablePhones = (u: User): Phone[] => (u.phones ?? []).filter(canTakePush);
export const isDirectorySynced = (u: User): boolean => Boolean(u.external_id) || u.last_directory_sync != null;
export const isLockedOut = (u: User): boolean => u.status === 'locked out';
export const hasEnrolledDevice = (u: User): boolean =>
  u.is_enrolled === true ||
  (u.phones?.length ?? 0) > 0 ||
  (u.tokens?.length ?? 0) > 0 ||
  (u.webauthncredentials?.length ?? 0) > 0;

export function phoneLabel(p: Phone): string {
  // Only the last four digits: enough to tell phones apart on a call, no more of the number than needed.
  const kind = p.number ? `••• ${p.number.replace(/\D/g, '').slice(-4)}` : 'no number (tablet)';
  const model = [p.platform, p.model].filter((x) => x && x !== 'Unknown').join(' ');
  return [p.name, model || p.type, kind].filter(Boolean).join(' · ');
}

/** Which permission a status change needs: unlock and re-enable are distinct from other changes. */
export function statusChangeAction(from: string, to: 'active' | 'bypass' | 'disabled'): Action {
  if (to === 'active' && from === 'locked out') return 'user.unlock';
  if (to === 'active' && from === 'disabled') return 'user.reenable';
  return 'user.set_status';
}

/** The exact target of a status change on this user as Duo shows it now (status, lockout reason, sync). */
export function statusTarget(u: User, to: 'active' | 'bypass' | 'disabled'): Target {
  return {
    kind: 'status',
    toStatus: to,
    directorySynced: isDirectorySynced(u),
    from: u.status,
    lockoutReason: u.lockout_reason ?? null,
  };
}

export const STATUS_LABELS: Record<string, string> = {
  active: 'Active',
  bypass: 'Bypass',
  disabled: 'Disabled',
  'locked out': 'Locked out',
  'pending deletion': 'Pending deletion',
};
