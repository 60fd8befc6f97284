import { z } from 'zod';
import type { Settings } from './settings.js';

/**
 * Duo's own account settings (GET /admin/v1/settings, needs the Admin API "settings" grant), as far as
 * they restrict what an administrator role may do. Duo applies them to people in its Admin Panel, never
 * to Admin API calls: duo-desk acts through the API, so it applies them itself, as a ceiling over its
 * own settings. Where Duo is stricter, Duo wins.
 */
export const DuoSettingsSchema = z.looseObject({
  /** "allow": Help Desk creates bypass codes freely; "limit": only with the set expiration; "deny": not at all. */
  helpdesk_bypass: z.enum(['allow', 'limit', 'deny']).optional(),
  /** Minutes Help Desk bypass codes last when helpdesk_bypass is "limit". */
  helpdesk_bypass_expiration: z.number().int().nullish(),
  helpdesk_can_send_enroll_email: z.boolean().optional(),
  user_managers_can_put_users_in_bypass: z.boolean().optional(),
  lockout_threshold: z.number().int().nullish(),
  lockout_expire_duration: z.number().int().nullish(),
});
export type DuoSettings = z.infer<typeof DuoSettingsSchema>;

/** The four of Duo's settings that cap duo-desk's, by Duo's names. */
export const DUO_CEILING_NAMES = [
  'helpdesk_bypass',
  'helpdesk_bypass_expiration',
  'helpdesk_can_send_enroll_email',
  'user_managers_can_put_users_in_bypass',
] as const;
export type DuoCeilingName = (typeof DUO_CEILING_NAMES)[number];

/** What Duo allows, as read; `null` while it has never been read (then duo-desk allows none of it). */
export interface DuoCeiling {
  helpdeskBypass: 'allow' | 'limit' | 'deny';
  /** Minutes; only meaningful for 'limit'. */
  helpdeskBypassExpirationMinutes: number | null;
  helpdeskCanSendEnrollEmail: boolean;
  userManagersCanPutUsersInBypass: boolean;
  readAt: Date;
}

/**
 * Settings as authorize() reads them: duo-desk's own, and Duo's ceiling when the caller loaded it.
 * `duo` absent: no ceiling in play (pure rules, tests of duo-desk's own settings); `null`: Duo's settings
 * were never read, so nothing Duo could forbid is allowed; an object: Duo's values as last read.
 * The use cases' loadSettings always sets it.
 */
export type Policy = Settings & { duo?: DuoCeiling | null };

/**
 * Duo's documented defaults for a field it leaves out (allow; expiration unset; enrollment email by
 * Help Desk off; user managers may apply bypass).
 */
export function ceilingFrom(s: DuoSettings, readAt: Date): DuoCeiling {
  return {
    helpdeskBypass: s.helpdesk_bypass ?? 'allow',
    helpdeskBypassExpirationMinutes: s.helpdesk_bypass_expiration ?? null,
    helpdeskCanSendEnrollEmail: s.helpdesk_can_send_enroll_email ?? false,
    userManagersCanPutUsersInBypass: s.user_managers_can_put_users_in_bypass ?? true,
    readAt,
  };
}

/** Duo's value of a ceiling setting, as Duo's Admin Panel would name it (for /duo roles and refusals). */
export function duoValue(c: DuoCeiling, name: DuoCeilingName): string {
  switch (name) {
    case 'helpdesk_bypass':
      return c.helpdeskBypass;
    case 'helpdesk_bypass_expiration':
      return c.helpdeskBypassExpirationMinutes === null ? 'not set' : `${c.helpdeskBypassExpirationMinutes} minutes`;
    case 'helpdesk_can_send_enroll_email':
      return c.helpdeskCanSendEnrollEmail ? 'true' : 'false';
    case 'user_managers_can_put_users_in_bypass':
      return c.userManagersCanPutUsersInBypass ? 'true' : 'false';
  }
}

/** Which of Duo's settings caps which of duo-desk's (shown side by side in /duo roles). */
export const DUO_COUNTERPART: Partial<Record<keyof Settings, readonly DuoCeilingName[]>> = {
  help_desk_can_create_bypass_codes: ['helpdesk_bypass'],
  help_desk_can_customize_bypass_codes: ['helpdesk_bypass', 'helpdesk_bypass_expiration'],
  help_desk_can_send_enrollment_email: ['helpdesk_can_send_enroll_email'],
  user_managers_can_apply_bypass_status: ['user_managers_can_put_users_in_bypass'],
};

/** Longest validity (seconds) Duo lets Help Desk give a bypass code; null when Duo sets no limit. */
export function helpDeskMaxValiditySecs(c: DuoCeiling): number | null {
  if (c.helpdeskBypass !== 'limit') return null;
  return c.helpdeskBypassExpirationMinutes !== null && c.helpdeskBypassExpirationMinutes > 0
    ? c.helpdeskBypassExpirationMinutes * 60
    : 3600; // "limit" without an expiration: Duo's default of 60 minutes
}
