import { authorize, type Target } from '../domain/authorize.js';
import { DEVICE_ACTIONS, type DeviceAction, deviceFacts } from '../domain/devices.js';
import type { Phone, User } from '../domain/duo-objects.js';
import { phoneLabel } from '../domain/duo-user.js';
import type { Actor } from '../domain/roles.js';
import type { Settings } from '../domain/settings.js';

/** Device help's permissions per device, for the user card (lookup) and the device-help use cases. */
export const DEVICE_AUTHORIZE = {
  reactivate: 'device.reactivate',
  sms_passcodes: 'device.sms_passcodes',
  remove: 'device.remove',
} as const;
export const DEVICE_GUARD = {
  reactivate: 'device_reactivate',
  sms_passcodes: 'device_sms_passcodes',
  remove: 'device_remove',
} as const;

export const deviceTarget = (user: User, phone: Phone): Target => ({ kind: 'device', facts: deviceFacts(user, phone) });

/** The actions this responder may take on each of the user's phones (for the user card's buttons). */
export function deviceButtons(
  actor: Actor,
  user: User,
  settings: Settings,
): Array<{ phoneId: string; label: string; actions: DeviceAction[] }> {
  return (user.phones ?? []).map((p) => ({
    phoneId: p.phone_id,
    label: phoneLabel(p),
    actions: DEVICE_ACTIONS.filter(
      (a) => authorize(actor, DEVICE_AUTHORIZE[a], deviceTarget(user, p), settings).allowed,
    ),
  }));
}
