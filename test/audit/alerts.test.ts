import { describe, expect, it } from 'vitest';
import { isAlertEvent } from '../../src/audit/alerts.js';

describe('audit alerts', () => {
  it('when an event is a fraud report, a lockout, bypass status, a weakening change, a rejected secret or a gap, then it is an alert', () => {
    expect(isAlertEvent({ action: 'verification.answered', params: { result: 'fraud', alert: true } })).toBe(true);
    expect(isAlertEvent({ action: 'stepup.locked', params: {} })).toBe(true);
    expect(isAlertEvent({ action: 'user.status_changed', params: { from: 'active', to: 'bypass' } })).toBe(true);
    expect(isAlertEvent({ action: 'setting.changed', params: { alert: 'this change weakens a safeguard' } })).toBe(
      true,
    );
    expect(isAlertEvent({ action: 'stepup.secret_rejected', params: {} })).toBe(true);
    expect(isAlertEvent({ action: 'audit.gap_detected', params: {} })).toBe(true);
  });

  it('when an event is routine, then it waits its turn', () => {
    expect(isAlertEvent({ action: 'user.lookup', params: {} })).toBe(false);
    expect(isAlertEvent({ action: 'user.status_changed', params: { from: 'locked out', to: 'active' } })).toBe(false);
    expect(isAlertEvent({ action: 'verification.answered', params: { result: 'approve' } })).toBe(false);
    expect(isAlertEvent({ action: 'setting.changed', params: { alert: '' } })).toBe(false);
  });
});
