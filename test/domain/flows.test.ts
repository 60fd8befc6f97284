import { describe, expect, it } from 'vitest';
import type { User } from '../../src/domain/duo-objects.js';
import { CARD_FLOWS, cardFlows, FLOW_NAMES, mayStart } from '../../src/domain/flows.js';
import type { Role } from '../../src/domain/roles.js';
import { defaultSettings } from '../../src/domain/settings.js';

const actor = (role: Role) => ({ teamId: 'T1', userId: 'U1', role, approver: false });
const user = (over: Partial<User>): User => ({
  user_id: 'DU0000000000000000001',
  username: 'u',
  status: 'active',
  phones: [],
  tokens: [],
  webauthncredentials: [],
  groups: [],
  ...over,
});
const pushPhone = { phone_id: 'DP1', activated: true, capabilities: ['push', 'sms'], type: 'Mobile' };

describe('flow descriptors (core half)', () => {
  it('when a read-only responder asks which flows they may start, then only lookup, verify, audit, mfa, users and help', () => {
    const allowed = FLOW_NAMES.filter((f) => mayStart(actor('read_only'), f, defaultSettings()).allowed);
    expect(allowed).toEqual(['help', 'lookup', 'verify', 'audit', 'mfa', 'users']);
  });

  it('when an owner asks, then every flow may be started', () => {
    expect(FLOW_NAMES.every((f) => mayStart(actor('owner'), f, defaultSettings()).allowed)).toBe(true);
  });

  it('when a locked-out user with a push phone is shown to help desk, then verify, unlock, status, bypass, codes and edit are offered', () => {
    const flows = cardFlows(
      actor('help_desk'),
      user({ status: 'locked out', phones: [pushPhone], is_enrolled: true }),
      defaultSettings(),
    );
    expect(flows).toEqual(['verify', 'unlock', 'status', 'bypass', 'codes', 'edit']);
  });

  it('when an unenrolled user with an email is shown, then the enrollment email is offered and bypass codes are not', () => {
    const flows = cardFlows(
      actor('user_manager'),
      user({ is_enrolled: false, email: 'u@example.com' }),
      defaultSettings(),
    );
    expect(flows).toContain('enroll');
    expect(flows).not.toContain('bypass');
  });

  it('when a read-only responder sees any user, then only verify is offered (and only with a push phone)', () => {
    expect(
      cardFlows(actor('read_only'), user({ status: 'locked out', phones: [pushPhone] }), defaultSettings()),
    ).toEqual(['verify']);
    expect(cardFlows(actor('read_only'), user({}), defaultSettings())).toEqual([]);
  });

  it('when the card flows are listed, then they are the flows that declare a card rule, in the flow order', () => {
    expect(CARD_FLOWS).toEqual(['verify', 'unlock', 'status', 'bypass', 'enroll', 'codes', 'edit', 'restore']);
  });
});
