import { describe, expect, it } from 'vitest';
import { weakens } from '../../src/domain/settings.js';

describe('weakening setting changes (audit alerts)', () => {
  it('when a change lets more people do more or switches a safeguard off, then it weakens security', () => {
    expect(weakens('help_desk_can_customize_bypass_codes', false, true)).toBe(true);
    expect(weakens('user_managers_can_apply_bypass_status', false, true)).toBe(true);
    expect(weakens('step_up_for_unlock', true, false)).toBe(true);
    expect(weakens('bypass_approval_required', 'all', 'all_but_owner')).toBe(true);
    expect(weakens('verification_valid_minutes_unlock', 10, 0)).toBe(true);
    expect(weakens('verification_valid_minutes_bypass', 10, 60)).toBe(true);
    expect(weakens('max_bypass_requests_per_responder_per_day', 20, 100)).toBe(true);
  });

  it('when a change tightens a safeguard or changes nothing, then it is not an alert', () => {
    expect(weakens('help_desk_can_customize_bypass_codes', true, false)).toBe(false);
    expect(weakens('step_up_for_unlock', false, true)).toBe(false);
    expect(weakens('bypass_approval_required', 'all_but_owner', 'all')).toBe(false);
    expect(weakens('verification_valid_minutes_unlock', 0, 10)).toBe(false);
    expect(weakens('verification_valid_minutes_unlock', 10, 5)).toBe(false);
    expect(weakens('approval_timeout_minutes', 30, 30)).toBe(false);
  });
});
