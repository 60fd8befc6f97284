import { z } from 'zod';
import { fail } from '../errors.js';

/**
 * Product settings, per Slack installation. Stored only when changed from the default; changed only
 * by owners; every change audited (src/usecases/settings.ts). Each setting says which direction of
 * change weakens the controls (`weakens`): such a change is a guarded action (step-up, and a second
 * owner or an announced delay), never a plain edit.
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

/** From the strictest to the most exempting: moving right weakens the two-person rule. */
export const APPROVAL_REQUIRED_FOR = ['all', 'all_but_owner', 'all_but_owner_and_administrator'] as const;

/**
 * Which change of a setting weakens the controls: turning it on or off, raising or lowering it
 * ('raise_or_zero': raising it, or setting it to 0, which switches the check off), or moving along
 * APPROVAL_REQUIRED_FOR to more exemptions.
 */
export type Weakening = 'on' | 'off' | 'raise' | 'lower' | 'raise_or_zero' | 'more_exemptions';

export const settingDefinitions = {
  help_desk_can_create_bypass_codes: {
    schema: z.boolean(),
    default: true,
    describe: 'Help desk responders may request bypass codes',
    weakens: 'on',
  },
  help_desk_can_customize_bypass_codes: {
    schema: z.boolean(),
    default: false,
    describe: 'Help desk responders may ask for more than one code, longer validity or more uses',
    weakens: 'on',
  },
  help_desk_can_send_enrollment_email: {
    schema: z.boolean(),
    default: true,
    describe: 'Help desk responders may send enrollment emails',
    weakens: 'on',
  },
  user_managers_can_apply_bypass_status: {
    schema: z.boolean(),
    default: false,
    describe: 'User managers may set a user to bypass status',
    weakens: 'on',
  },
  bypass_approval_required: {
    schema: z.enum(APPROVAL_REQUIRED_FOR),
    default: 'all' as (typeof APPROVAL_REQUIRED_FOR)[number],
    describe:
      'Whose bypass requests (codes and status) need a second person: all, all_but_owner, all_but_owner_and_administrator',
    weakens: 'more_exemptions',
  },
  verification_valid_minutes_unlock: {
    schema: z.number().int().min(0).max(1440),
    default: 10,
    describe: 'Minutes a Duo Push verification stays valid for an unlock (0: no verification required)',
    weakens: 'raise_or_zero',
  },
  verification_valid_minutes_bypass: {
    schema: z.number().int().min(0).max(1440),
    default: 10,
    describe:
      'Minutes a Duo Push verification stays valid for bypass codes and bypass status (0: no verification required)',
    weakens: 'raise_or_zero',
  },
  approval_timeout_minutes: {
    schema: z.number().int().min(1).max(1440),
    default: 30,
    describe: 'Minutes before an undecided approval request expires',
    weakens: 'raise',
  },
  max_bypass_requests_per_responder_per_day: {
    schema: z.number().int().min(1).max(1000),
    default: 20,
    describe: 'Bypass requests one responder may make in 24 hours',
    weakens: 'raise',
  },
  step_up_for_unlock: {
    schema: z.boolean(),
    default: false,
    describe: 'Unlocking asks the responder for a TOTP code',
    weakens: 'off',
  },
  step_up_for_bypass_request: {
    schema: z.boolean(),
    default: false,
    describe: 'Requesting bypass codes asks the responder for a TOTP code',
    weakens: 'off',
  },
  bypass_status_max_minutes: {
    schema: z.number().int().min(15).max(1440),
    default: 240,
    describe: 'Longest time a user may be put in bypass status (it ends by itself; never unlimited)',
    weakens: 'raise',
  },
  weakening_delay_hours: {
    schema: z.number().int().min(1).max(168),
    default: 24,
    describe: 'Hours a weakening change waits (announced, cancellable) when there is no second owner to approve it',
    weakens: 'lower',
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
  device_activation_valid_hours: {
    schema: z.number().int().min(1).max(24),
    default: 24,
    describe: 'Hours a Duo Mobile activation link sent by device help stays valid (24 at most)',
    weakens: 'raise',
  },
  verification_valid_minutes_device: {
    schema: z.number().int().min(0).max(1440),
    default: 10,
    describe:
      'Minutes a verification (Duo Push, or the employee confirming in their own Slack) stays valid for device help (0: no verification required)',
    weakens: 'raise_or_zero',
  },
  device_reactivation_approval_required: {
    schema: z.enum(APPROVAL_REQUIRED_FOR),
    default: 'all' as (typeof APPROVAL_REQUIRED_FOR)[number],
    describe:
      'Whose Duo Mobile reactivations need a second person: all, all_but_owner, all_but_owner_and_administrator',
    weakens: 'more_exemptions',
  },
  step_up_for_device_help: {
    schema: z.boolean(),
    default: false,
    describe: 'Device help (reactivation, SMS passcodes, removing a device) asks the responder for a TOTP code',
    weakens: 'off',
  },
} as const satisfies Record<string, { schema: z.ZodType; default: unknown; describe: string; weakens: Weakening }>;

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

/** Whether changing `name` from `before` to `after` weakens the controls (a guarded change). */
export function weakens<N extends SettingName>(name: N, before: Settings[N], after: Settings[N]): boolean {
  if (before === after) return false;
  const rule: Weakening = settingDefinitions[name].weakens;
  switch (rule) {
    case 'on':
      return after === true;
    case 'off':
      return after === false;
    case 'raise':
      return Number(after) > Number(before);
    case 'lower':
      return Number(after) < Number(before);
    case 'raise_or_zero':
      // 0 switches the check off; from 0, any window switches it back on (stronger).
      if (Number(after) === 0) return true;
      return Number(before) !== 0 && Number(after) > Number(before);
    case 'more_exemptions':
      return (
        APPROVAL_REQUIRED_FOR.indexOf(after as (typeof APPROVAL_REQUIRED_FOR)[number]) >
        APPROVAL_REQUIRED_FOR.indexOf(before as (typeof APPROVAL_REQUIRED_FOR)[number])
      );
  }
}
