import { makePhone, makeUser } from '@duo-desk/duo-sim';
import { describe, expect, it } from 'vitest';
import { authorize } from '../../src/domain/authorize.js';
import { type DeviceAction, deviceFacts, deviceKind, deviceRefusal } from '../../src/domain/devices.js';
import type { Phone, User } from '../../src/domain/duo-objects.js';
import { guardsFor } from '../../src/domain/guards.js';
import { ROLES, type Role } from '../../src/domain/roles.js';
import { defaultSettings } from '../../src/domain/settings.js';

/** Which device actions each device and user allow (Duo's rules), and who may ask for them. */
const phone = (kind: Parameters<typeof makePhone>[2], number = '+15555550100') =>
  makePhone('x', 1, kind, kind === 'tablet' ? '' : number, '2026-01-01T00:00:00') as unknown as Phone;
const user = (p: Phone, extra: Record<string, unknown> = {}) =>
  makeUser({ username: 'x', email: 'x@example.com', phones: [p as never], ...extra }) as unknown as User;

const offered = (u: User, p: Phone) =>
  (['reactivate', 'sms_passcodes', 'remove'] as DeviceAction[]).filter((a) => !deviceRefusal(a, deviceFacts(u, p)));

describe('which device actions a device allows', () => {
  it('when the device is a smartphone with a number, then all three are offered', () => {
    const p = phone('iphone');
    expect(deviceKind(p)).toBe('smartphone');
    expect(offered(user(p), p)).toEqual(['reactivate', 'sms_passcodes', 'remove']);
  });

  it('when the device is a tablet, then activation (by email) and removal, never SMS passcodes', () => {
    const p = phone('tablet');
    expect(deviceKind(p)).toBe('tablet');
    expect(offered(user(p), p)).toEqual(['reactivate', 'remove']);
    expect(deviceRefusal('reactivate', deviceFacts(user(p, { email: '' }), p))).toBe('no_email');
  });

  it('when the device is a landline, then only removal', () => {
    const p = phone('landline');
    expect(offered(user(p), p)).toEqual(['remove']);
    expect(deviceRefusal('sms_passcodes', deviceFacts(user(p), p))).toBe('no_number');
    expect(deviceRefusal('reactivate', deviceFacts(user(p), p))).toBe('not_smartphone');
  });

  it('when the user is in the Trash or disabled, then nothing is offered', () => {
    const p = phone('iphone');
    expect(offered(user(p, { status: 'pending deletion' }), p)).toEqual([]);
    expect(offered(user(p, { status: 'disabled' }), p)).toEqual([]);
    expect(deviceRefusal('remove', deviceFacts(user(p, { status: 'pending deletion' }), p))).toBe(
      'user_pending_deletion',
    );
  });

  it('when the user is directory-synced, then removal is explained instead of offered, the rest stays', () => {
    const p = phone('android');
    const synced = user(p, { external_id: 'ad-123' });
    expect(offered(synced, p)).toEqual(['reactivate', 'sms_passcodes']);
    expect(deviceRefusal('remove', deviceFacts(synced, p))).toBe('directory_synced');
  });
});

describe('who may ask for device help', () => {
  const allowedRoles = (action: 'device.reactivate' | 'device.sms_passcodes' | 'device.remove', p: Phone) =>
    ROLES.filter(
      (role) =>
        authorize(
          { teamId: 'T', userId: 'U', role: role as Role, approver: false },
          action,
          { kind: 'device', facts: deviceFacts(user(p), p) },
          defaultSettings(),
        ).allowed,
    );

  it("when roles are asked, then Owner, Administrator, User Manager and Help Desk may (Duo's Manage Users)", () => {
    for (const a of ['device.reactivate', 'device.sms_passcodes', 'device.remove'] as const)
      expect(allowedRoles(a, phone('iphone'))).toEqual(['owner', 'administrator', 'user_manager', 'help_desk']);
  });

  it('when a forged request asks SMS passcodes for a landline, then even an owner is refused by the device rule', () => {
    const p = phone('landline');
    const d = authorize(
      { teamId: 'T', userId: 'U', role: 'owner', approver: false },
      'device.sms_passcodes',
      { kind: 'device', facts: deviceFacts(user(p), p) },
      defaultSettings(),
    );
    expect(d).toEqual({ allowed: false, rule: 'device', roles: [], device: 'no_number' });
  });
});

describe('guards of device help', () => {
  const ctx = (role: Role, overrides = {}) => ({
    role,
    settings: { ...defaultSettings(), ...overrides },
    otherOwners: 1,
  });
  it('when a reactivation is asked, then a verification and a second person are needed unless the role is exempt', () => {
    expect(guardsFor('device_reactivate', ctx('help_desk'))).toMatchObject({
      verificationMinutes: 10,
      approval: 'second_person',
      stepUp: false,
    });
    expect(
      guardsFor('device_reactivate', ctx('owner', { device_reactivation_approval_required: 'all_but_owner' })).approval,
    ).toBe('none');
  });
  it('when a device removal is asked, then a second person always approves, even for owners', () => {
    expect(
      guardsFor('device_remove', ctx('owner', { device_reactivation_approval_required: 'all_but_owner' })).approval,
    ).toBe('second_person');
  });
  it('when SMS passcodes are asked, then a verification but no approval', () => {
    expect(guardsFor('device_sms_passcodes', ctx('help_desk'))).toMatchObject({
      verificationMinutes: 10,
      approval: 'none',
    });
  });
});
