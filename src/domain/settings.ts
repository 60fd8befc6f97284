import { z } from 'zod';
import { fail } from '../errors.js';

/**
 * Product settings, per Slack installation. Stored only when changed from the default; changed only
 * by owners; every change audited (src/usecases/settings.ts).
 */
declare module '../errors.js' {
  interface Problems {
    'settings.unknown': { typed: string; names: readonly string[] };
    'settings.bad_value': {
      name: string;
      typed: string;
      expected: 'on_off' | 'number' | 'choice';
      choices: readonly string[];
    };
  }
}

/** The window the verification push limits count in (push bombing is a burst, not a daily total). */
export const PUSH_LIMIT_WINDOW_MINUTES = 10;

export const APPROVAL_REQUIRED_FOR = ['all', 'all_but_owner', 'all_but_owner_and_administrator'] as const;

export const settingDefinitions = {
  help_desk_can_create_bypass_codes: {
    schema: z.boolean(),
    default: true,
    describe: 'Help desk responders may request bypass codes',
  },
  help_desk_can_customize_bypass_codes: {
    schema: z.boolean(),
    default: false,
    describe: 'Help desk responders may ask for more than one code, longer validity or more uses',
  },
  help_desk_can_send_enrollment_email: {
    schema: z.boolean(),
    default: true,
    describe: 'Help desk responders may send enrollment emails',
  },
  user_managers_can_apply_bypass_status: {
    schema: z.boolean(),
    default: false,
    describe: 'User managers may set a user to bypass status',
  },
  bypass_approval_required: {
    schema: z.enum(APPROVAL_REQUIRED_FOR),
    default: 'all' as (typeof APPROVAL_REQUIRED_FOR)[number],
    describe: 'Whose bypass-code requests need a second person: all, all_but_owner, all_but_owner_and_administrator',
  },
  verification_valid_minutes_unlock: {
    schema: z.number().int().min(0).max(1440),
    default: 10,
    describe: 'Minutes a Duo Push verification stays valid for an unlock (0: no verification required)',
  },
  verification_valid_minutes_bypass: {
    schema: z.number().int().min(0).max(1440),
    default: 10,
    describe: 'Minutes a Duo Push verification stays valid for a bypass request (0: no verification required)',
  },
  approval_timeout_minutes: {
    schema: z.number().int().min(1).max(1440),
    default: 30,
    describe: 'Minutes before an undecided bypass request expires',
  },
  max_bypass_requests_per_responder_per_day: {
    schema: z.number().int().min(1).max(1000),
    default: 20,
    describe: 'Bypass requests one responder may make in 24 hours',
  },
  step_up_for_unlock: {
    schema: z.boolean(),
    default: false,
    describe: 'Unlocking asks the responder for a TOTP code',
  },
  step_up_for_bypass_request: {
    schema: z.boolean(),
    default: false,
    describe: 'Requesting bypass codes asks the responder for a TOTP code',
  },
  max_verification_pushes_per_user: {
    schema: z.number().int().min(1).max(100),
    default: 5,
    describe: `Verification pushes any responders may send to one Duo user in ${PUSH_LIMIT_WINDOW_MINUTES} minutes`,
    weakens: 'raise',
  },
  max_verification_pushes_per_responder: {
    schema: z.number().int().min(1).max(500),
    default: 20,
    describe: `Verification pushes one responder may send in ${PUSH_LIMIT_WINDOW_MINUTES} minutes`,
    weakens: 'raise',
  },
} as const;

export type SettingName = keyof typeof settingDefinitions;
export type Settings = { -readonly [K in SettingName]: z.infer<(typeof settingDefinitions)[K]['schema']> };
export const SETTING_NAMES = Object.keys(settingDefinitions) as SettingName[];

export const defaultSettings = (): Settings =>
  Object.fromEntries(SETTING_NAMES.map((n) => [n, settingDefinitions[n].default])) as Settings;

export const isSettingName = (name: string): name is SettingName => name in settingDefinitions;

/** Parses a value typed by a person ("on", "off", "true", "15", "owner") for the named setting. */
export function parseSettingValue(name: string, raw: unknown): { name: SettingName; value: Settings[SettingName] } {
  if (!isSettingName(name))
    throw fail('INVALID_INPUT', 'settings.unknown', { typed: name.slice(0, 60), names: SETTING_NAMES });
  const def = settingDefinitions[name];
  let candidate: unknown = raw;
  if (typeof raw === 'string') {
    const s = raw.trim().toLowerCase();
    if (def.default === true || def.default === false) {
      candidate = ['on', 'true', 'yes', '1'].includes(s) ? true : ['off', 'false', 'no', '0'].includes(s) ? false : s;
    } else if (typeof def.default === 'number') {
      candidate = /^-?\d+$/.test(s) ? Number(s) : s;
    } else {
      candidate = s;
    }
  }
  const parsed = def.schema.safeParse(candidate);
  if (!parsed.success)
    throw fail('INVALID_INPUT', 'settings.bad_value', {
      name,
      typed: String(raw).slice(0, 60),
      expected: typeof def.default === 'boolean' ? 'on_off' : typeof def.default === 'number' ? 'number' : 'choice',
      choices: typeof def.default === 'string' ? APPROVAL_REQUIRED_FOR : [],
    });
  return { name, value: parsed.data as Settings[SettingName] };
}

/** Reads stored values over the defaults; a stored value that no longer parses falls back to the default. */
export function mergeSettings(stored: Array<{ name: string; value: unknown }>): Settings {
  const out = defaultSettings() as Record<string, unknown>;
  for (const row of stored) {
    if (!isSettingName(row.name)) continue;
    const parsed = settingDefinitions[row.name].schema.safeParse(row.value);
    if (parsed.success) out[row.name] = parsed.data;
  }
  return out as Settings;
}

export function formatSettingValue(value: unknown): string {
  return typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value);
}
