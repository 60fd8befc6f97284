/** JSON handlers for the unsigned /__sim control API (routes documented in server.ts). */
import type { DuoSimulator, FaultKind, FaultSpec, PushAnswer, SimGrant, SimUser } from './types.js';

export interface ControlResult {
  status: number;
  body: unknown;
}

const FAULT_KINDS: readonly FaultKind[] = ['rate_limit', 'server_error', 'latency', 'html', 'malformed_json', 'drop'];

class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function obj(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new ControlError(400, 'body must be a JSON object');
  return body as Record<string, unknown>;
}

function parseFault(b: Record<string, unknown>): FaultSpec {
  const kind = b.kind as FaultKind;
  if (!FAULT_KINDS.includes(kind)) throw new ControlError(400, `kind must be one of ${FAULT_KINDS.join(', ')}`);
  const spec: FaultSpec = { kind };
  if (typeof b.method === 'string') spec.method = b.method;
  if (typeof b.pathRegex === 'string') spec.path = new RegExp(b.pathRegex);
  else if (typeof b.path === 'string') spec.path = b.path;
  if (typeof b.times === 'number') spec.times = b.times;
  if (typeof b.latencyMs === 'number') spec.latencyMs = b.latencyMs;
  return spec;
}

export function handleControl(sim: DuoSimulator, method: string, path: string, rawBody: unknown): ControlResult {
  const seg = path
    .replace(/^\/__sim\/?/, '')
    .split('/')
    .filter(Boolean)
    .map((s) => decodeURIComponent(s));
  const route = `${method} ${seg.map((s, i) => (i % 2 === 1 && seg[0] !== 'faults' ? ':id' : s)).join('/')}`;
  try {
    const b = obj(rawBody);
    switch (route) {
      case 'GET pushes':
        return { status: 200, body: sim.pendingPushes() };
      case 'POST pushes/:id/answer':
        sim.answerPush(seg[1]!, b.result as PushAnswer);
        return { status: 200, body: { ok: true } };
      case 'PUT auto-answer/:id':
        sim.setAutoAnswer(seg[1]!, { result: b.result as PushAnswer, afterMs: Number(b.afterMs ?? 0) });
        return { status: 200, body: { ok: true } };
      case 'DELETE auto-answer/:id':
        sim.setAutoAnswer(seg[1]!, null);
        return { status: 200, body: { ok: true } };
      case 'POST users':
        if (typeof b.username !== 'string') throw new ControlError(400, 'username is required');
        return { status: 201, body: sim.addUser(b as Partial<SimUser> & { username: string }) };
      case 'GET users/:id': {
        const u = sim.getUser(seg[1]!);
        if (!u) throw new ControlError(404, 'no such user');
        return { status: 200, body: u };
      }
      case 'POST users/:id/failed-auth':
        return { status: 200, body: sim.failAuthentication(seg[1]!, Number(b.times ?? 1)) };
      case 'GET users/:id/bypass-codes': {
        const u = sim.getUser(seg[1]!);
        if (!u) throw new ControlError(404, 'no such user');
        return { status: 200, body: sim.bypassCodesOf(u.user_id) };
      }
      case 'POST faults':
        return { status: 201, body: { id: sim.injectFault(parseFault(b)) } };
      case 'DELETE faults':
        sim.clearFaults();
        return { status: 200, body: { ok: true } };
      case 'GET outbox':
        return { status: 200, body: sim.enrollmentOutbox() };
      case 'GET sms':
        return { status: 200, body: sim.smsOutbox() };
      case 'POST phones/:id/activate':
        return { status: 200, body: { activated: sim.completeActivation(seg[1]!) } };
      case 'GET requests':
        return { status: 200, body: sim.requests() };
      case 'GET settings':
        return { status: 200, body: sim.settings() };
      case 'PATCH settings':
        return { status: 200, body: sim.setSettings(b) };
      case 'PUT grants':
        if (!Array.isArray(b.missing)) throw new ControlError(400, 'missing (a list of grants) is required');
        sim.setMissingGrants(b.missing as SimGrant[]);
        return { status: 200, body: { ok: true } };
      case 'PUT clock':
        if (typeof b.skewMs !== 'number') throw new ControlError(400, 'skewMs (a number) is required');
        sim.setClockSkew(b.skewMs);
        return { status: 200, body: { ok: true } };
      case 'POST reset':
        sim.reset();
        return { status: 200, body: { ok: true } };
      default:
        return { status: 404, body: { error: `unknown control route ${method} ${path}` } };
    }
  } catch (e) {
    if (e instanceof ControlError) return { status: e.status, body: { error: e.message } };
    const status = (e as { status?: number }).status;
    return { status: typeof status === 'number' ? status : 400, body: { error: (e as Error).message } };
  }
}
