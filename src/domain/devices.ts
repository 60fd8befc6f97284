import type { Phone, User } from './duo-objects.js';

/**
 * Device help ("I got a new phone", "I lost my phone"): which of Duo's device tools a device allows,
 * by Duo's own rules (Duo's "Manage Users" documentation):
 * - Duo Mobile activation only on a smartphone or tablet: type Mobile and a named mobile platform
 *   ("Apple iOS", "Google Android", …, or "Generic Smartphone"); by SMS when it has a number, otherwise
 *   (a tablet) by Duo's enrollment email to the address Duo already has;
 * - SMS passcodes only to a mobile phone with a number and SMS capability;
 * - nothing for a landline but removal.
 * And for the user: nothing for users in the Trash (pending deletion) or disabled; a directory-synced
 * user keeps the devices the directory gives them (duo-desk explains instead of asking Duo).
 */
export const DEVICE_ACTIONS = ['reactivate', 'sms_passcodes', 'remove'] as const;
export type DeviceAction = (typeof DEVICE_ACTIONS)[number];

export type DeviceKind = 'smartphone' | 'tablet' | 'mobile' | 'landline' | 'other';

const MOBILE_PLATFORMS = ['apple ios', 'google android', 'generic smartphone', 'windows phone', 'rim blackberry'];

export function deviceKind(p: Phone): DeviceKind {
  const type = (p.type ?? '').toLowerCase();
  if (type === 'landline') return 'landline';
  if (type !== 'mobile') return 'other';
  const smart = MOBILE_PLATFORMS.includes((p.platform ?? '').toLowerCase());
  if (smart) return p.number ? 'smartphone' : 'tablet';
  return 'mobile';
}

/** The facts about a user and one of their devices that decide which device actions exist. */
export interface DeviceFacts {
  kind: DeviceKind;
  hasNumber: boolean;
  canSms: boolean;
  userStatus: string;
  directorySynced: boolean;
  hasEmail: boolean;
  /** Devices of the user besides this one (phones, hardware tokens, security keys). */
  otherDevices: number;
}

export function deviceFacts(user: User, phone: Phone): DeviceFacts {
  const all = (user.phones ?? []).length + (user.tokens ?? []).length + (user.webauthncredentials ?? []).length;
  return {
    kind: deviceKind(phone),
    hasNumber: Boolean(phone.number),
    canSms: (phone.capabilities ?? []).includes('sms'),
    userStatus: user.status,
    // As src/domain/duo-user.ts isDirectorySynced (not imported: that module depends on authorize.ts).
    directorySynced: Boolean(user.external_id) || user.last_directory_sync != null,
    hasEmail: Boolean(user.email),
    otherDevices: Math.max(0, all - 1),
  };
}

/** Why the device (or its user) does not allow the action; null when it does. */
export type DeviceRefusal =
  | 'user_pending_deletion'
  | 'user_disabled'
  | 'not_smartphone'
  | 'no_number'
  | 'no_email'
  | 'directory_synced';

export function deviceRefusal(action: DeviceAction, d: DeviceFacts): DeviceRefusal | null {
  if (d.userStatus === 'pending deletion') return 'user_pending_deletion';
  if (d.userStatus === 'disabled') return 'user_disabled';
  switch (action) {
    case 'reactivate':
      if (d.kind !== 'smartphone' && d.kind !== 'tablet') return 'not_smartphone';
      // A tablet's activation goes by Duo's enrollment email: Duo needs an address on file.
      if (d.kind === 'tablet' && !d.hasEmail) return 'no_email';
      return null;
    case 'sms_passcodes':
      if (d.kind !== 'smartphone' && d.kind !== 'mobile') return 'no_number';
      return d.hasNumber && d.canSms ? null : 'no_number';
    case 'remove':
      // The directory gives a synced user their devices back on the next sync (and Duo refuses some
      // changes to them): the change belongs in the source directory.
      return d.directorySynced ? 'directory_synced' : null;
  }
}

/** How a reactivation reaches the person: by SMS to the number on the phone, or Duo's email to a tablet's owner. */
export const activationChannel = (d: DeviceFacts): 'sms' | 'email' => (d.kind === 'tablet' ? 'email' : 'sms');

/** The longest and the default validity of an activation link (Duo's own default is 24 hours). */
export const MAX_ACTIVATION_HOURS = 24;
