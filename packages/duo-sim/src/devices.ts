/**
 * Device help on a simulated phone, with Duo's semantics (Admin API §3 "phones"):
 * - a new activation code (activation_url or send_sms_activation) invalidates the device's Duo Mobile
 *   credentials at once: the phone is no longer activated and cannot take pushes until the new code is used;
 * - send_sms_passcodes replaces the previous batch: older passcodes stop working;
 * - DELETE /users/[user_id]/phones/[phone_id] disassociates the phone from the user.
 * Every SMS is recorded in the SMS outbox (tests read it); every activation link and barcode handed out
 * is kept so tests can scan for leaks.
 */
import { randomDigits, randomSecret } from './ids.js';
import { invalidParam, notFound, type SimState } from './state.js';
import type { SimActivation, SimPhone, SimUser } from './types.js';

/** Duo's platforms that run Duo Mobile ("a named mobile platform like Android or iOS, or Generic Smartphone"). */
const MOBILE_PLATFORMS = ['apple ios', 'google android', 'generic smartphone', 'windows phone', 'rim blackberry'];
export const SMS_PASSCODES_PER_BATCH = 10;
const DEFAULT_ACTIVATION_SECS = 86_400;
/** Duo accepts an activation validity of up to 7 days (valid_secs). */
const MAX_ACTIVATION_SECS = 604_800;

const runsDuoMobile = (p: SimPhone) => p.type === 'Mobile' && MOBILE_PLATFORMS.includes(p.platform.toLowerCase());

export function findPhone(state: SimState, phoneId: string): { phone: SimPhone; owners: SimUser[] } {
  const owners = state.users.filter((u) => u.phones.some((p) => p.phone_id === phoneId));
  const phone = owners[0]?.phones.find((p) => p.phone_id === phoneId);
  if (!phone) throw notFound();
  return { phone, owners };
}

/** Every owner's copy of the phone (the simulator embeds phones in their users). */
function eachCopy(state: SimState, phoneId: string, fn: (p: SimPhone) => void) {
  for (const u of state.users) for (const p of u.phones) if (p.phone_id === phoneId) fn(p);
}

function validSecsOf(raw: number | undefined): number {
  const v = raw ?? DEFAULT_ACTIVATION_SECS;
  if (v < 1 || v > MAX_ACTIVATION_SECS) throw invalidParam('valid_secs');
  return v;
}

function newActivation(state: SimState, phone: SimPhone, validSecs: number): SimActivation {
  if (!runsDuoMobile(phone)) throw invalidParam('phone_id');
  const code = randomSecret(20).replace(/[^A-Za-z0-9]/g, 'x');
  const a: SimActivation = {
    phoneId: phone.phone_id,
    activationUrl: `https://m-sim.duosecurity.test/activate/${code}`,
    activationBarcode: `https://api-sim.duosecurity.test/frame/qr?value=${code}-${randomDigits(8)}`,
    validUntilMs: state.nowMs() + validSecs * 1000,
    used: false,
  };
  // The old credentials stop working now: no push, no Duo Mobile passcodes until the new code is used.
  eachCopy(state, phone.phone_id, (p) => {
    p.activated = false;
    p.capabilities = p.capabilities.filter((c) => c !== 'push' && c !== 'mobile_otp' && c !== 'auto');
  });
  for (const old of state.activations) if (old.phoneId === phone.phone_id) old.used = true;
  state.activations.push(a);
  return a;
}

const INSTALL_URL = 'https://m-sim.duosecurity.test/install';

export function activationUrl(state: SimState, phoneId: string, opts: { validSecs?: number; install: boolean }) {
  const { phone } = findPhone(state, phoneId);
  const validSecs = validSecsOf(opts.validSecs);
  const a = newActivation(state, phone, validSecs);
  return {
    activation_url: a.activationUrl,
    activation_barcode: a.activationBarcode,
    valid_secs: validSecs,
    ...(opts.install ? { installation_url: INSTALL_URL } : {}),
  };
}

export function sendSmsActivation(
  state: SimState,
  phoneId: string,
  opts: { validSecs?: number; install: boolean; activationMsg?: string; installationMsg?: string },
) {
  const { phone } = findPhone(state, phoneId);
  // A tablet has no number: Duo offers no SMS for it.
  if (!phone.number || !phone.capabilities.includes('sms')) throw invalidParam('phone_id');
  if (opts.activationMsg !== undefined && !opts.activationMsg.includes('<acturl>'))
    throw invalidParam('activation_msg');
  if (opts.installationMsg !== undefined && !opts.installationMsg.includes('<insturl>'))
    throw invalidParam('installation_msg');
  const validSecs = validSecsOf(opts.validSecs);
  const a = newActivation(state, phone, validSecs);
  const activationMsg = opts.activationMsg ?? 'To activate the app, tap and open this link: <acturl>';
  const installationMsg = opts.installationMsg ?? 'Welcome to Duo! Tap here to install the app: <insturl>';
  const sent = state.nowMs();
  if (opts.install)
    state.sms.push({
      to: phone.number,
      phoneId,
      kind: 'installation',
      body: installationMsg.replace('<insturl>', INSTALL_URL),
      sentAtMs: sent,
    });
  state.sms.push({
    to: phone.number,
    phoneId,
    kind: 'activation',
    body: activationMsg.replace('<acturl>', a.activationUrl),
    sentAtMs: sent,
  });
  return {
    activation_barcode: a.activationBarcode,
    activation_msg: activationMsg,
    installation_msg: opts.install ? installationMsg : '',
    valid_secs: validSecs,
  };
}

export function sendSmsPasscodes(state: SimState, phoneId: string): void {
  const { phone } = findPhone(state, phoneId);
  if (phone.type !== 'Mobile' || !phone.number || !phone.capabilities.includes('sms')) throw invalidParam('phone_id');
  const batch = Array.from({ length: SMS_PASSCODES_PER_BATCH }, () => randomDigits(7));
  // A new batch replaces the previous one: older passcodes stop working.
  state.smsPasscodes.set(phoneId, batch);
  eachCopy(state, phoneId, (p) => {
    p.sms_passcodes_sent = true;
  });
  state.sms.push({
    to: phone.number,
    phoneId,
    kind: 'passcodes',
    body: `SMS passcodes: ${batch.join(' ')}`,
    sentAtMs: state.nowMs(),
  });
}

/** Uses one SMS passcode (as a login would): true when it belongs to the current batch; each works once. */
export function useSmsPasscode(state: SimState, phoneId: string, code: string): boolean {
  const batch = state.smsPasscodes.get(phoneId) ?? [];
  const i = batch.indexOf(code);
  if (i < 0) return false;
  batch.splice(i, 1);
  return true;
}

/** The user enters the activation link in Duo Mobile: the phone is activated again (push works). */
export function completeActivation(state: SimState, phoneId: string): boolean {
  const a = [...state.activations].reverse().find((x) => x.phoneId === phoneId);
  if (!a || a.used || a.validUntilMs <= state.nowMs()) return false;
  a.used = true;
  eachCopy(state, phoneId, (p) => {
    p.activated = true;
    for (const c of ['auto', 'push', 'mobile_otp']) if (!p.capabilities.includes(c)) p.capabilities.push(c);
  });
  return true;
}

export function disassociatePhone(state: SimState, userId: string, phoneId: string): void {
  const u = state.userById(userId);
  const i = u.phones.findIndex((p) => p.phone_id === phoneId);
  // Duo answers a phone that is not (or no longer) the user's with 404.
  if (i < 0) throw notFound();
  u.phones.splice(i, 1);
  u.is_enrolled = u.phones.length + u.tokens.length + u.webauthncredentials.length > 0;
}
