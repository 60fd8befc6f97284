import { type DuoSimulator, startDuoSimulator } from '@duo-desk/duo-sim';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { DuoTransport } from '../../src/duo/transport.js';
import { clientFor, rejectionOf } from './helpers.js';

/**
 * Device help against the simulator, with Duo's semantics: a new activation code invalidates the old
 * Duo Mobile credentials, a passcode batch replaces the previous one, removing disassociates the phone.
 */
let sim: DuoSimulator;
const clock = new ManualClock();
beforeAll(async () => {
  sim = await startDuoSimulator({ clock, pushTimeoutMs: 120_000, lockoutThreshold: 10 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => sim.reset());

const phoneOf = (username: string, i = 0) => sim.getUser(username)!.phones[i]!;

describe('Duo Mobile activation', () => {
  it('when an activation is sent by SMS, then the phone stops taking pushes, the SMS outbox has the link for the number on file, and the client returns only the validity', async () => {
    const { client } = clientFor(sim);
    const phone = phoneOf('alice');
    const sent = await client.sendSmsActivation(phone.phone_id, { validSecs: 3600, install: true });
    expect(sent).toEqual({ validSecs: 3600 });
    const after = phoneOf('alice');
    expect(after.activated).toBe(false);
    expect(after.capabilities).not.toContain('push');
    const activation = sim.issuedActivations().at(-1);
    const sms = sim.smsOutbox();
    expect(sms.map((m) => [m.to, m.kind])).toEqual([
      [phone.number, 'installation'],
      [phone.number, 'activation'],
    ]);
    expect(sms[1]!.body).toContain(activation!.activationUrl);
    expect(JSON.stringify(sent)).not.toContain(activation!.activationBarcode);
    // The old credentials are gone: a push to the phone is refused until the new code is used.
    const e = (await rejectionOf(client.sendVerificationPush(sim.getUser('alice')!.user_id, phone.phone_id))) as {
      code: string;
    };
    expect(e.code).toBe('DUO_REQUEST_REJECTED');
    expect(sim.completeActivation(phone.phone_id)).toBe(true);
    expect(phoneOf('alice').activated).toBe(true);
  });

  it("when Duo's raw answer is read, then it carries the barcode, which the client's method drops", async () => {
    const transport = new DuoTransport({ ikey: sim.ikey, skey: sim.skey, host: sim.url });
    const phone = phoneOf('bob');
    const env = await transport.request('POST', `/admin/v1/phones/${phone.phone_id}/send_sms_activation`, {
      valid_secs: 600,
    });
    const barcode = sim.issuedActivations().at(-1)!.activationBarcode;
    expect(JSON.stringify(env.response)).toContain(barcode);
  });

  it('when a tablet (no number) gets an activation, then SMS is refused but an activation code is made and the old credentials stop working', async () => {
    const { client } = clientFor(sim);
    const tablet = phoneOf('judy');
    const e = (await rejectionOf(client.sendSmsActivation(tablet.phone_id, { validSecs: 600, install: false }))) as {
      code: string;
    };
    expect(e.code).toBe('DUO_REQUEST_REJECTED');
    expect(await client.createActivationCode(tablet.phone_id, { validSecs: 600 })).toEqual({ validSecs: 600 });
    expect(phoneOf('judy').activated).toBe(false);
    expect(sim.smsOutbox()).toEqual([]);
  });

  it('when a landline gets an activation, then Duo refuses it (no mobile platform) and nothing changes', async () => {
    const { client } = clientFor(sim);
    const desk = phoneOf('ivan');
    const before = sim.issuedActivations().length;
    const e = (await rejectionOf(client.createActivationCode(desk.phone_id, { validSecs: 600 }))) as { code: string };
    expect(e.code).toBe('DUO_REQUEST_REJECTED');
    expect(sim.issuedActivations()).toHaveLength(before);
  });

  it('when the validity is longer than Duo allows, then Duo refuses it', async () => {
    const { client } = clientFor(sim);
    const e = (await rejectionOf(
      client.sendSmsActivation(phoneOf('alice').phone_id, { validSecs: 8 * 86_400, install: false }),
    )) as { code: string };
    expect(e.code).toBe('DUO_REQUEST_REJECTED');
  });
});

describe('SMS passcodes', () => {
  it('when a second batch is sent, then the first batch stops working', async () => {
    const { client } = clientFor(sim);
    const phone = phoneOf('heidi');
    await client.sendSmsPasscodes(phone.phone_id);
    const first = sim.smsPasscodesOf(phone.phone_id);
    await client.sendSmsPasscodes(phone.phone_id);
    const second = sim.smsPasscodesOf(phone.phone_id);
    expect(second).toHaveLength(10);
    expect(second.some((c) => first.includes(c))).toBe(false);
    expect(sim.smsOutbox().map((m) => [m.to, m.kind])).toEqual([
      [phone.number, 'passcodes'],
      [phone.number, 'passcodes'],
    ]);
    expect(phoneOf('heidi').sms_passcodes_sent).toBe(true);
  });

  it('when passcodes are sent to a landline or a tablet, then Duo refuses them', async () => {
    const { client } = clientFor(sim);
    for (const username of ['ivan', 'judy']) {
      const e = (await rejectionOf(client.sendSmsPasscodes(phoneOf(username).phone_id))) as { code: string };
      expect(e.code).toBe('DUO_REQUEST_REJECTED');
    }
    expect(sim.smsOutbox()).toEqual([]);
  });
});

describe('removing a phone', () => {
  it('when a phone is removed from its user, then it is gone from the user and a second removal is 404', async () => {
    const { client } = clientFor(sim);
    const bob = sim.getUser('bob')!;
    const phone = bob.phones[0]!;
    await client.removeUserPhone(bob.user_id, phone.phone_id);
    expect(sim.getUser('bob')!.phones.map((p) => p.phone_id)).toEqual([bob.phones[1]!.phone_id]);
    const e = (await rejectionOf(client.removeUserPhone(bob.user_id, phone.phone_id))) as { code: string };
    expect(e.code).toBe('DUO_NOT_FOUND');
    const deletes = sim.requests().filter((r) => r.method === 'DELETE');
    expect(deletes.map((r) => r.path)).toEqual([
      `/admin/v1/users/${bob.user_id}/phones/${phone.phone_id}`,
      `/admin/v1/users/${bob.user_id}/phones/${phone.phone_id}`,
    ]);
  });

  it('when the last device is removed, then the user is no longer enrolled', async () => {
    const { client } = clientFor(sim);
    const alice = sim.getUser('alice')!;
    await client.removeUserPhone(alice.user_id, alice.phones[0]!.phone_id);
    expect(sim.getUser('alice')!.is_enrolled).toBe(false);
  });
});

describe('control routes', () => {
  it('when tests read the SMS outbox over HTTP, then they get what Duo sent', async () => {
    const { client } = clientFor(sim);
    await client.sendSmsPasscodes(phoneOf('alice').phone_id);
    const res = await fetch(`${sim.url}/__sim/sms`);
    const body = (await res.json()) as Array<{ kind: string }>;
    expect(body.map((m) => m.kind)).toEqual(['passcodes']);
  });
});
