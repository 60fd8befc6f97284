import {
  DEMO_USERNAMES,
  type DuoSimulator,
  demoDirectory,
  generateDirectory,
  startDuoSimulator,
  userIdFor,
} from '@duo-desk/duo-sim';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { formatDuoDate, signRequest } from '../../src/duo/sign.js';
import { clientFor } from './helpers.js';

let sim: DuoSimulator;
const clock = new ManualClock();

beforeAll(async () => {
  sim = await startDuoSimulator({ clock, pushTimeoutMs: 120_000, lockoutThreshold: 10 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.reset();
});

const control = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as unknown };
};

describe('verification pushes', () => {
  it('when a push is sent, then it waits until answered through the control surface', async () => {
    const { client } = clientFor(sim);
    const alice = sim.getUser('alice')!;
    const sent = await client.sendVerificationPush(alice.user_id, alice.phones[0]!.phone_id);
    expect(sim.pendingPushes().map((p) => p.pushId)).toEqual([sent.pushId]);
    expect(sim.pendingPushes()[0]?.confirmationCode).toBe(sent.confirmationCode);
    expect((await client.getVerificationPushResponse(alice.user_id, sent.pushId)).result).toBe('waiting');
    sim.answerPush(sent.pushId, 'approve');
    expect((await client.getVerificationPushResponse(alice.user_id, sent.pushId)).result).toBe('approve');
    expect(sim.pendingPushes()).toEqual([]);
  });

  it('when the push window passes without an answer, then the result is timeout (404 on the wire)', async () => {
    const { client } = clientFor(sim);
    const bob = sim.getUser('bob')!;
    const sent = await client.sendVerificationPush(bob.user_id, bob.phones[1]!.phone_id);
    clock.advance(119_000);
    expect((await client.getVerificationPushResponse(bob.user_id, sent.pushId)).result).toBe('waiting');
    clock.advance(1_000);
    expect(await client.getVerificationPushResponse(bob.user_id, sent.pushId)).toEqual({
      pushId: sent.pushId,
      result: 'timeout',
    });
    expect(sim.requests().at(-1)?.status).toBe(404);
  });

  it('when an auto-answer policy is set, then the push is answered after afterMs', async () => {
    const { client } = clientFor(sim);
    const niaj = sim.getUser('niaj')!;
    sim.setAutoAnswer('niaj', { result: 'fraud', afterMs: 5_000 });
    const sent = await client.sendVerificationPush(niaj.user_id, niaj.phones[0]!.phone_id);
    expect((await client.getVerificationPushResponse(niaj.user_id, sent.pushId)).result).toBe('waiting');
    clock.advance(5_000);
    expect((await client.getVerificationPushResponse(niaj.user_id, sent.pushId)).result).toBe('fraud');
  });

  it('when answered over the HTTP control API, then the client sees the answer', async () => {
    const { client } = clientFor(sim);
    const judy = sim.getUser('judy')!;
    const sent = await client.sendVerificationPush(judy.user_id, judy.phones[0]!.phone_id);
    const pending = await control('GET', '/__sim/pushes');
    expect((pending.body as Array<{ pushId: string }>).map((p) => p.pushId)).toEqual([sent.pushId]);
    expect((await control('POST', `/__sim/pushes/${sent.pushId}/answer`, { result: 'deny' })).status).toBe(200);
    expect((await client.getVerificationPushResponse(judy.user_id, sent.pushId)).result).toBe('deny');
  });
});

describe('lockout and enrollment', () => {
  it('when failed authentications reach the threshold, then the user is locked out for Failed Attempts', async () => {
    const { client } = clientFor(sim);
    sim.failAuthentication('alice', 9);
    expect((await client.getUserById(userIdFor('alice'))).status).toBe('active');
    sim.failAuthentication('alice', 1);
    const locked = await client.getUserById(userIdFor('alice'));
    expect(locked.status).toBe('locked out');
    expect(locked.lockout_reason).toBe('Failed Attempts');
    const unlocked = await client.updateUser(locked.user_id, { status: 'active' });
    expect(unlocked.status).toBe('active');
    expect(unlocked.lockout_reason).toBeNull();
  });

  it('when failed-auth is posted over HTTP, then the counter moves the same way', async () => {
    const r = await control('POST', '/__sim/users/frank/failed-auth', { times: 10 });
    expect(r.status).toBe(200);
    expect((r.body as { status: string }).status).toBe('locked out');
  });

  it('when enrolling, then the email lands in the outbox (also visible over HTTP)', async () => {
    const { client } = clientFor(sim);
    await client.enrollUser({ username: 'frank', email: 'frank.fischer@example.com' });
    expect(sim.enrollmentOutbox()[0]).toMatchObject({ username: 'frank', validSecs: 2_592_000 });
    const outbox = await control('GET', '/__sim/outbox');
    expect((outbox.body as Array<{ email: string }>)[0]?.email).toBe('frank.fischer@example.com');
  });
});

describe('control API over HTTP', () => {
  it('when a fault is injected and cleared over HTTP, then requests see it and the log records it', async () => {
    const { client } = clientFor(sim, { readRetries: 0 });
    expect((await control('POST', '/__sim/faults', { kind: 'server_error', path: '/admin/v1/info' })).status).toBe(201);
    await expect(client.getInfoSummary()).rejects.toMatchObject({ code: 'DUO_UNAVAILABLE' });
    await control('DELETE', '/__sim/faults');
    await expect(client.getInfoSummary()).resolves.toBeTruthy();
    const log = (await control('GET', '/__sim/requests')).body as Array<{ status: number; path: string }>;
    expect(log.map((r) => r.status)).toEqual([500, 200]);
  });

  it('when a fault uses a RegExp path, then only matching paths fail', async () => {
    const { client } = clientFor(sim, { readRetries: 0 });
    sim.injectFault({ path: /\/phones$/, kind: 'server_error' });
    await expect(client.getUserPhones(userIdFor('alice'))).rejects.toMatchObject({ code: 'DUO_UNAVAILABLE' });
    await expect(client.getUserById(userIdFor('alice'))).resolves.toBeTruthy();
  });

  it('when reading a user and its bypass codes over HTTP, then plaintext codes are visible for tests', async () => {
    const u = await control('GET', '/__sim/users/peggy');
    expect((u.body as { user_id: string }).user_id).toBe(userIdFor('peggy'));
    const codes = (await control('GET', '/__sim/users/peggy/bypass-codes')).body as Array<{ code: string }>;
    expect(codes).toHaveLength(3);
    expect(codes[0]?.code).toMatch(/^\d{9}$/);
    expect((await control('GET', '/__sim/nope')).status).toBe(404);
  });
});

describe('wire protocol', () => {
  const rawGet = async (date: string, path = '/admin/v1/users', query = 'username=alice') => {
    const host = new URL(sim.url).host;
    const s = signRequest({
      ikey: sim.ikey,
      skey: sim.skey,
      version: 2,
      digest: 'sha1',
      date,
      method: 'GET',
      host,
      path,
      params: { username: 'alice' },
    });
    const res = await fetch(`${sim.url}${path}?${query}`, { headers: { Date: date, Authorization: s.authorization } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('when v2 is signed with HMAC-SHA1 and a Date header, then the simulator accepts it', async () => {
    const r = await rawGet(formatDuoDate(new Date()));
    expect(r.status).toBe(200);
    expect((r.body.response as Array<{ username: string }>)[0]?.username).toBe('alice');
  });

  it('when the date is more than 300 s off real time, then 401 40103', async () => {
    const r = await rawGet(formatDuoDate(new Date(Date.now() - 301_000)));
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ stat: 'FAIL', code: 40103, message: 'Invalid signature in request credentials' });
  });

  it('when the query differs from what was signed, then 401', async () => {
    const r = await rawGet(formatDuoDate(new Date()), '/admin/v1/users', 'username=bob');
    expect(r.status).toBe(401);
  });

  it('when a page is requested, then metadata carries next_offset, prev_offset and total_objects', async () => {
    const { client } = clientFor(sim);
    const iter = client.iterateUsers({ pageSize: 10 })[Symbol.asyncIterator]();
    await iter.next();
    await iter.next();
    const limits = sim.requests().map((r) => [r.params.limit, r.params.offset]);
    expect(limits).toEqual([
      ['10', '0'],
      ['10', '10'],
    ]);
  });

  it('when a required parameter is missing, then 400 40001 names it', async () => {
    const date = formatDuoDate(new Date());
    const host = new URL(sim.url).host;
    const path = `/admin/v1/users/${userIdFor('alice')}/send_verification_push`;
    const body = '{}';
    const s = signRequest({
      ikey: sim.ikey,
      skey: sim.skey,
      version: 5,
      date,
      method: 'POST',
      host,
      path,
      body,
      headers: { 'x-duo-date': date },
    });
    const res = await fetch(`${sim.url}${path}`, {
      method: 'POST',
      headers: { 'X-Duo-Date': date, Authorization: s.authorization, 'Content-Type': 'application/json' },
      body,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      stat: 'FAIL',
      code: 40001,
      message: 'Missing required request parameters',
      message_detail: 'phone_id',
    });
  });
});

describe('directories', () => {
  it('when the demo directory is loaded, then every documented persona is present with its state', () => {
    expect(DEMO_USERNAMES).toEqual([
      'alice',
      'bob',
      'carol',
      'dave',
      'erin',
      'frank',
      'grace',
      'heidi',
      'ivan',
      'judy',
      'mallory',
      'niaj',
      'olivia',
      'peggy',
      'trent',
      'victor',
      'walter',
    ]);
    const by = Object.fromEntries(demoDirectory().map((u) => [u.username, u]));
    expect(by.alice?.phones).toHaveLength(1);
    expect(by.bob?.phones.filter((p) => p.activated && p.capabilities.includes('push'))).toHaveLength(2);
    expect(by.erin).toMatchObject({ status: 'locked out', lockout_reason: 'Not enrolled', is_enrolled: false });
    expect(by.frank).toMatchObject({ status: 'active', is_enrolled: false, email: 'frank.fischer@example.com' });
    expect(by.grace).toMatchObject({ is_enrolled: false, email: '' });
    expect(by.heidi?.phones[0]).toMatchObject({ activated: false, capabilities: ['phone', 'sms'] });
    expect(by.ivan?.phones[0]).toMatchObject({ type: 'Landline', capabilities: ['phone'] });
    expect(by.judy?.phones[0]?.number).toBe('');
    expect(by.judy?.tokens).toHaveLength(1);
    expect(by.mallory).toMatchObject({ lockout_reason: 'Admin disabled', phones: [], is_enrolled: true });
    expect(by.niaj?.external_id).toBeTruthy();
    expect(by.olivia?.status).toBe('pending deletion');
    expect(by.trent?.lockout_reason).toBe('Admin API disabled');
    expect(by.walter).toMatchObject({ lockout_reason: 'Failed Attempts' });
    expect(by.walter?.last_directory_sync).not.toBeNull();
    expect(sim.bypassCodesOf(userIdFor('peggy'))).toHaveLength(3);
    expect(userIdFor('alice')).toMatch(/^DU[A-Z0-9]{18}$/);
    expect(by.alice?.phones[0]?.phone_id).toMatch(/^DP[A-Z0-9]{18}$/);
  });

  it('when 100,000 users are generated, then it is fast, unique and deterministic', () => {
    // CPU time rather than wall time: the suite may share a busy machine.
    const cpu = process.cpuUsage();
    const big = generateDirectory(100_000, 42);
    const used = process.cpuUsage(cpu);
    expect((used.user + used.system) / 1000).toBeLessThan(10_000);
    expect(new Set(big.map((u) => u.username)).size).toBe(100_000);
    expect(new Set(big.map((u) => u.user_id)).size).toBe(100_000);
    expect(generateDirectory(50, 42)).toEqual(big.slice(0, 50));
    expect(generateDirectory(50, 43)).not.toEqual(big.slice(0, 50));
  });

  it('when a simulator runs a generated directory, then paging walks all of it', async () => {
    const gen = await startDuoSimulator({ directory: generateDirectory(1_000, 7) });
    try {
      const { client } = clientFor(gen);
      let n = 0;
      for await (const page of client.iterateUsers()) n += page.length;
      expect(n).toBe(1_000);
      expect(gen.requests()).toHaveLength(4);
    } finally {
      await gen.close();
    }
  });
});

describe('account settings (GET /admin/v1/settings)', () => {
  it("when the client reads the settings, then Duo's field names come back and a change through the control surface shows", async () => {
    const { client } = clientFor(sim);
    expect(await client.getSettings()).toMatchObject({
      helpdesk_bypass: 'allow',
      helpdesk_bypass_expiration: null,
      helpdesk_can_send_enroll_email: true,
      user_managers_can_put_users_in_bypass: true,
      lockout_threshold: 10,
    });
    expect(
      (await control('PATCH', '/__sim/settings', { helpdesk_bypass: 'limit', helpdesk_bypass_expiration: 30 })).status,
    ).toBe(200);
    expect(await client.getSettings()).toMatchObject({ helpdesk_bypass: 'limit', helpdesk_bypass_expiration: 30 });
  });

  it('when an unknown value is set, then Duo answers 400 40002 naming the parameter', async () => {
    const r = await control('PATCH', '/__sim/settings', { helpdesk_bypass: 'sometimes' });
    expect(r.status).toBe(400);
    expect(() => sim.setSettings({ helpdesk_bypass: 'sometimes' as 'allow' })).toThrow();
    expect(sim.settings().helpdesk_bypass).toBe('allow');
  });
});

describe('Trash and permanent deletion', () => {
  it('when users are sent to the Trash and restored, then they are pending deletion, then Disabled; a synced user gets Duo’s 400 and nothing changes', async () => {
    const { client } = clientFor(sim);
    const alice = sim.getUser('alice')!;
    const niaj = sim.getUser('niaj')!;
    await client.sendUsersToTrash([alice.user_id]);
    expect(sim.getUser('alice')!.status).toBe('pending deletion');
    await client.restoreUsers([alice.user_id]);
    expect(sim.getUser('alice')!.status).toBe('disabled');
    await expect(client.sendUsersToTrash([alice.user_id, niaj.user_id])).rejects.toMatchObject({ httpStatus: 400 });
    expect(sim.getUser('alice')!.status).toBe('disabled');
    expect(sim.getUser('niaj')!.status).toBe('active');
    await expect(client.restoreUsers([alice.user_id])).rejects.toMatchObject({ httpStatus: 400 });
  });

  it('when a user is deleted through the API, then it is gone at once with its aliases and codes (not the Trash)', async () => {
    const { client } = clientFor(sim);
    const victor = sim.getUser('victor')!;
    await client.deleteUser(victor.user_id);
    expect(sim.getUser('victor')).toBeUndefined();
    expect(sim.bypassCodesOf(victor.user_id)).toEqual([]);
    await expect(client.getUserById(victor.user_id)).rejects.toMatchObject({ code: 'DUO_NOT_FOUND' });
  });
});
