/** The simulated /admin/* endpoints (already authenticated). Returns a status and a Duo envelope. */
import { activationUrl, disassociatePhone, sendSmsActivation, sendSmsPasscodes } from './devices.js';
import { invalidParam, missingParam, notFound, SimFail, type SimState } from './state.js';
import type { SimBypassCode, SimUser } from './types.js';

export type Params = Record<string, string | string[]>;
export interface RouteResult {
  status: number;
  body: unknown;
}

const ok = (response: unknown, metadata?: Record<string, unknown>): RouteResult => ({
  status: 200,
  body: metadata ? { stat: 'OK', response, metadata } : { stat: 'OK', response },
});

function one(params: Params, name: string): string | undefined {
  const v = params[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

function required(params: Params, name: string): string {
  const v = one(params, name);
  if (v === undefined || v === '') throw missingParam(name);
  return v;
}

function intParam(params: Params, name: string, dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = one(params, name);
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw)) throw invalidParam(name);
  const n = Number(raw);
  if (n < min || n > max) throw invalidParam(name);
  return n;
}

function boolParam(params: Params, name: string, dflt: boolean): boolean {
  const raw = one(params, name);
  if (raw === undefined || raw === '') return dflt;
  const v = raw.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw invalidParam(name);
}

/**
 * limit/offset paging; a limit above the endpoint's maximum is clamped, as Duo does. `wire` turns the page's
 * items into their wire shape (only the page's: a listing of 100,000 users does not copy all of them per page).
 */
function paged<T>(
  items: T[],
  params: Params,
  defaultLimit: number,
  maxLimit: number,
  wire: (item: T) => unknown = (x) => x,
): RouteResult {
  const limit = Math.min(intParam(params, 'limit', defaultLimit, 1), maxLimit);
  const offset = intParam(params, 'offset', 0, 0);
  const page = items.slice(offset, offset + limit).map(wire);
  const metadata: Record<string, unknown> = { total_objects: items.length };
  if (offset + limit < items.length) metadata.next_offset = offset + limit;
  if (offset > 0) metadata.prev_offset = Math.max(0, offset - limit);
  return ok(page, metadata);
}

export function userWire(u: SimUser): Record<string, unknown> {
  const { seedBypassCodes: _seed, ...wire } = u;
  return structuredClone(wire);
}

function bypassWire(c: SimBypassCode, u: SimUser): Record<string, unknown> {
  return {
    bypass_code_id: c.bypass_code_id,
    admin_email: null,
    created: c.created,
    expiration: c.expiration,
    reuse_count: c.reuse_count,
    user: {
      user_id: u.user_id,
      username: u.username,
      realname: u.realname,
      email: u.email,
      status: u.status,
      created: u.created,
      last_login: u.last_login,
    },
  };
}

const ADMINS = [
  {
    admin_id: 'DEOWNER0000000000001',
    name: 'Olga Owner',
    email: 'olga.owner@example.com',
    phone: '+15555550001',
    role: 'Owner',
    status: 'Active',
    created: 1_700_000_000,
    last_login: 1_764_000_000,
    admin_units: [],
    restricted_by_admin_units: false,
    password_change_required: false,
  },
  {
    admin_id: 'DEHELPDESK0000000002',
    name: 'Hank Helpdesk',
    email: 'hank.helpdesk@example.com',
    phone: '+15555550002',
    role: 'Help Desk',
    status: 'Active',
    created: 1_710_000_000,
    last_login: 1_764_100_000,
    admin_units: [],
    restricted_by_admin_units: false,
    password_change_required: false,
  },
];

function userRoutes(state: SimState, method: string, seg: string[], params: Params): RouteResult | undefined {
  // seg = ['users', ...]
  if (seg.length === 1 && method === 'GET') {
    const username = one(params, 'username');
    if (username !== undefined) {
      const u = state.findByUsername(username);
      return ok(u ? [userWire(u)] : [], { total_objects: u ? 1 : 0 });
    }
    const email = one(params, 'email');
    if (email !== undefined) {
      const found = state.findByEmail(email);
      return ok(found.map(userWire), { total_objects: found.length });
    }
    return paged(state.users, params, 100, 300, userWire);
  }
  if (seg.length === 1 && method === 'POST') {
    const username = required(params, 'username');
    const email = one(params, 'email');
    if (email && !/^[^@\s]+@[^@\s]+$/.test(email)) throw invalidParam('email');
    const aliases: Record<string, string> = {};
    const raw = one(params, 'aliases');
    if (raw) {
      for (const [k, v] of new URLSearchParams(raw)) {
        if (!/^alias[1-8]$/.test(k)) throw invalidParam('aliases');
        if (v) aliases[k] = v;
      }
    }
    const realname = one(params, 'realname');
    return ok(
      userWire(
        state.createUser({
          username,
          ...(realname !== undefined ? { realname } : {}),
          ...(email !== undefined ? { email } : {}),
          aliases,
        }),
      ),
    );
  }
  if (seg.length === 2 && seg[1] === 'enroll' && method === 'POST') {
    const username = required(params, 'username');
    const email = required(params, 'email');
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw invalidParam('email');
    state.enroll(username, email, intParam(params, 'valid_secs', 2_592_000, 0));
    return ok('');
  }
  if (seg.length === 2 && (seg[1] === 'bulk_send_to_trash' || seg[1] === 'bulk_restore') && method === 'POST') {
    let ids: unknown;
    try {
      ids = JSON.parse(required(params, 'user_id_list'));
    } catch {
      throw invalidParam('user_id_list');
    }
    if (!Array.isArray(ids) || ids.some((i) => typeof i !== 'string')) throw invalidParam('user_id_list');
    if (seg[1] === 'bulk_send_to_trash') state.sendToTrash(ids as string[]);
    else state.restoreFromTrash(ids as string[]);
    return ok('');
  }
  if (seg.length === 2 && method === 'DELETE' && seg[1] !== undefined) {
    state.deleteUser(seg[1]);
    return ok('');
  }
  if (seg.length === 4 && seg[1] === 'directorysync' && seg[3] === 'syncuser' && method === 'POST') {
    state.syncUser(seg[2]!, required(params, 'username'));
    return ok('');
  }
  const userId = seg[1];
  if (userId === undefined) return undefined;
  const sub = seg.slice(2).join('/');
  if (sub === '' && method === 'GET') return ok(userWire(state.userById(userId)));
  if (sub === '' && method === 'POST') {
    const fields: Record<string, string> = {};
    for (const k of ['status', 'realname', 'firstname', 'lastname', 'email', 'notes']) {
      const v = one(params, k);
      if (v !== undefined) fields[k] = v;
    }
    const email = fields.email;
    if (email && !/^[^@\s]+@[^@\s]+$/.test(email)) throw invalidParam('email');
    const raw = one(params, 'aliases');
    let aliases: Record<string, string> | undefined;
    if (raw !== undefined) {
      aliases = {};
      for (const [k, v] of new URLSearchParams(raw)) {
        if (!/^alias[1-8]$/.test(k)) throw invalidParam('aliases');
        aliases[k] = v;
      }
    }
    const autoPrompt = one(params, 'enable_auto_prompt');
    if (autoPrompt !== undefined && autoPrompt !== 'true' && autoPrompt !== 'false')
      throw invalidParam('enable_auto_prompt');
    return ok(
      userWire(
        state.updateUser(userId, fields, {
          ...(aliases ? { aliases } : {}),
          ...(autoPrompt !== undefined ? { enableAutoPrompt: autoPrompt === 'true' } : {}),
        }),
      ),
    );
  }
  const user = state.userById(userId);
  if (sub === 'phones' && method === 'GET') return paged(structuredClone(user.phones), params, 100, 500);
  if (sub === 'tokens' && method === 'GET') return paged(structuredClone(user.tokens), params, 100, 500);
  if (sub === 'groups' && method === 'GET') return paged(structuredClone(user.groups), params, 100, 500);
  if (sub === 'webauthncredentials' && method === 'GET') {
    return paged(structuredClone(user.webauthncredentials), params, 100, 500);
  }
  if (sub === 'send_verification_push' && method === 'POST') {
    const push = state.sendPush(user.user_id, required(params, 'phone_id'));
    return ok({ push_id: push.pushId, confirmation_code: push.confirmationCode });
  }
  if (sub === 'verification_push_response' && method === 'GET') {
    const p = state.livePush(required(params, 'push_id'));
    if (!p || p.userId !== user.user_id) throw notFound();
    return ok({ push_id: p.pushId, result: p.result });
  }
  if (sub === 'bypass_codes' && method === 'POST') {
    const customCodes = one(params, 'codes');
    if (customCodes !== undefined && one(params, 'count') !== undefined) throw invalidParam('count');
    const codes = customCodes?.split(',').map((c) => c.trim());
    if (codes && (codes.length < 1 || codes.length > 10 || codes.some((c) => !/^\d{1,20}$/.test(c)))) {
      throw invalidParam('codes');
    }
    const created = state.createBypassCodes(user.user_id, {
      count: intParam(params, 'count', 10, 1, 10),
      reuseCount: intParam(params, 'reuse_count', 1, 0),
      validSecs: intParam(params, 'valid_secs', 0, 0),
      preserveExisting: boolParam(params, 'preserve_existing', false),
      ...(codes ? { codes } : {}),
    });
    return ok(created);
  }
  const phoneMatch = sub.match(/^phones\/([^/]+)$/);
  if (phoneMatch && method === 'DELETE') {
    disassociatePhone(state, user.user_id, phoneMatch[1]!);
    return ok('');
  }
  if (sub === 'bypass_codes' && method === 'GET') {
    return paged(
      state.bypassCodesOf(user.user_id).map((c) => bypassWire(c, user)),
      params,
      100,
      500,
    );
  }
  return undefined;
}

/** POST /admin/v1/phones/[phone_id]/… : Duo Mobile activation and SMS passcodes (devices.ts). */
function phoneRoutes(state: SimState, phoneId: string, what: string, params: Params): RouteResult | undefined {
  const validSecs = one(params, 'valid_secs') === undefined ? undefined : intParam(params, 'valid_secs', 86_400, 1);
  const install = boolParam(params, 'install', false);
  switch (what) {
    case 'activation_url':
      return ok(activationUrl(state, phoneId, { ...(validSecs === undefined ? {} : { validSecs }), install }));
    case 'send_sms_activation': {
      const activationMsg = one(params, 'activation_msg');
      const installationMsg = one(params, 'installation_msg');
      return ok(
        sendSmsActivation(state, phoneId, {
          ...(validSecs === undefined ? {} : { validSecs }),
          install,
          ...(activationMsg === undefined ? {} : { activationMsg }),
          ...(installationMsg === undefined ? {} : { installationMsg }),
        }),
      );
    }
    case 'send_sms_passcodes':
      sendSmsPasscodes(state, phoneId);
      return ok('');
    default:
      return undefined;
  }
}

/** Dispatches an authenticated /admin request. `seg` are the decoded path segments after /admin/v1/. */
export function handleAdmin(state: SimState, method: string, path: string, params: Params): RouteResult {
  try {
    const m = path.match(/^\/admin\/v1\/(.*)$/);
    const seg = m ? m[1]!.split('/').map((s) => decodeURIComponent(s)) : [];
    let res: RouteResult | undefined;
    if (seg[0] === 'users') res = userRoutes(state, method, seg, params);
    else if (seg[0] === 'bypass_codes' && seg.length === 2) {
      const id = seg[1]!;
      if (method === 'DELETE') {
        state.deleteBypassCode(id);
        res = ok('');
      } else if (method === 'GET') {
        const c = state.findBypassCode(id);
        if (!c) throw notFound();
        res = ok(bypassWire(c, state.userById(c.userId)));
      }
    } else if (seg[0] === 'bypass_codes' && seg.length === 1 && method === 'GET') {
      res = paged(
        state.allBypassCodes().map((c) => bypassWire(c, state.userById(c.userId))),
        params,
        100,
        500,
      );
    } else if (seg[0] === 'phones' && seg.length === 3 && method === 'POST') {
      res = phoneRoutes(state, seg[1]!, seg[2]!, params);
    } else if (seg[0] === 'admins' && seg.length === 1 && method === 'GET') res = paged(ADMINS, params, 100, 300);
    else if (seg.join('/') === 'info/summary' && method === 'GET') {
      res = ok({
        admin_count: ADMINS.length,
        integration_count: 4,
        telephony_credits_remaining: 480,
        user_count: state.users.length,
        user_pending_deletion_count: state.users.filter((u) => u.status === 'pending deletion').length,
      });
    } else if (seg.length === 1 && seg[0] === 'settings') {
      if (method === 'GET') res = ok({ ...state.settings });
      else if (method === 'POST') {
        const changes: Record<string, string> = {};
        for (const k of Object.keys(params)) changes[k] = one(params, k)!;
        res = ok(state.updateSettings(changes));
      }
    }
    if (!res) throw notFound();
    return res;
  } catch (e) {
    if (e instanceof SimFail) {
      const body: Record<string, unknown> = { stat: 'FAIL', code: e.code, message: e.message };
      if (e.detail) body.message_detail = e.detail;
      return { status: e.status, body };
    }
    if (e instanceof URIError)
      return {
        status: 400,
        body: { stat: 'FAIL', code: 40002, message: 'Invalid request parameters', message_detail: 'path' },
      };
    throw e;
  }
}
