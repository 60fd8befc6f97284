/**
 * What a help-desk day looks like from Slack's side, for the verify and scale benchmarks: signed slash commands,
 * button clicks and form submissions (each to the next app instance, round-robin, as a load balancer would),
 * the caller answering a Duo Push in the simulator, an approver approving with a TOTP code. Every request is
 * timed; every outcome is awaited in the test bed's own record of calls, so nothing is taken on the app's word.
 */

import type { DuoSimulator, SimPush } from '@duo-desk/duo-sim';
import type { FakeSlack, RecordedCall, SlackDriver, StoredMessage, StoredView } from '@duo-desk/slack-testbed';
import { generate } from 'otplib';
import { LOCAL_CHANNELS } from '../src/app/local-directory.js';
import { postSigned, slashCommandBody } from './support.js';

export interface Instance {
  label: string;
  eventsUrl: string;
  driver: SlackDriver;
  /** False once the instance is stopped or killed: the balancer sends it nothing more. */
  live: boolean;
}

/** Hands each request to the next live instance. */
export class RoundRobin {
  private i = 0;
  constructor(readonly instances: Instance[]) {}
  next(): Instance {
    const live = this.instances.filter((x) => x.live);
    if (!live.length) throw new Error('no live instance');
    return live[this.i++ % live.length]!;
  }
}

export interface RequestSample {
  kind: string;
  instance: string;
  ms: number;
  status: number;
  /** performance.now() when it was sent. */
  at: number;
}

/**
 * Resolves waits on the fake Slack's call log: one poller scans the calls that arrived since it last looked,
 * every millisecond while anyone waits. A wait can start from an earlier position (`since`), so a call that
 * arrived before the wait began is still found.
 */
export class CallWatcher {
  private cursor: number;
  private readonly waiting = new Set<{ test: (c: RecordedCall) => boolean; done: (c: RecordedCall) => void }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly slack: FakeSlack) {
    this.cursor = slack.calls.length;
  }

  mark(): number {
    return this.slack.calls.length;
  }

  wait(test: (c: RecordedCall) => boolean, what: string, since: number, timeoutMs = 20_000): Promise<RecordedCall> {
    const calls = this.slack.calls;
    for (let i = since; i < this.cursor && i < calls.length; i++)
      if (test(calls[i]!)) return Promise.resolve(calls[i]!);
    return new Promise((resolve, reject) => {
      const w = {
        test,
        done: (c: RecordedCall) => {
          clearTimeout(timer);
          resolve(c);
        },
      };
      const timer = setTimeout(() => {
        this.waiting.delete(w);
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.add(w);
      this.timer ??= setTimeout(() => this.poll(), 1);
    });
  }

  private poll() {
    this.timer = undefined;
    const calls = this.slack.calls;
    for (; this.cursor < calls.length; this.cursor++) {
      const call = calls[this.cursor]!;
      for (const w of this.waiting)
        if (w.test(call)) {
          this.waiting.delete(w);
          w.done(call);
        }
    }
    if (this.waiting.size) this.timer = setTimeout(() => this.poll(), 1);
  }
}

export interface FlowEnv {
  slack: FakeSlack;
  duo: DuoSimulator;
  signingSecret: string;
  balancer: RoundRobin;
  calls: CallWatcher;
  samples: RequestSample[];
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const argsOf = (c: RecordedCall) => c.args as Record<string, unknown>;
const textOf = (c: RecordedCall) => JSON.stringify([argsOf(c).text ?? '', argsOf(c).blocks ?? []]);

async function timed<T extends { status: number }>(env: FlowEnv, kind: string, send: (x: Instance) => Promise<T>) {
  const instance = env.balancer.next();
  const at = performance.now();
  const res = await send(instance);
  const ms = performance.now() - at;
  env.samples.push({ kind, instance: instance.label, ms, status: res.status, at });
  if (res.status !== 200) throw new Error(`${kind} via ${instance.label}: HTTP ${res.status}`);
  return res;
}

/** A signed `/duo …`; resolves with its response_url id (the card of a lookup comes back there). */
async function command(env: FlowEnv, kind: string, userId: string, text: string): Promise<string> {
  const { body, responseUrlId } = slashCommandBody(env.slack, userId, text);
  await timed(env, kind, (x) => postSigned(x.eventsUrl, env.signingSecret, body));
  return responseUrlId;
}

/** `/duo lookup <username>` until the card reaches Slack; returns the card time (ms from sending). */
export async function lookupFlow(env: FlowEnv, agent: string, username: string): Promise<number> {
  const since = env.calls.mark();
  const started = performance.now();
  const id = await command(env, 'lookup', agent, `lookup ${username}`);
  const card = await env.calls.wait(
    (c) => c.method === 'response_url' && String(argsOf(c).response_url_id) === id,
    `card for ${username}`,
    since,
  );
  if (!Array.isArray(argsOf(card).blocks) || !textOf(card).includes(username))
    throw new Error(`lookup ${username}: the answer was not the card: ${textOf(card).slice(0, 200)}`);
  return performance.now() - started;
}

export interface VerifyOutcome {
  pushId: string;
  dm: { channel: string; ts: string };
  /** Epoch ms: the caller answered in the simulator / the test bed received the DM's chat.update. */
  answeredAt: number;
  /** How many requests the simulator had logged when the answer was given (exact order, unlike the clock). */
  answeredAtRequest: number;
  updatedAt: number;
}

async function waitForPush(env: FlowEnv, userId: string, known: Set<string>): Promise<SimPush> {
  for (let i = 0; i < 2_000; i++) {
    const push = env.duo.pendingPushes().find((p) => p.userId === userId && !known.has(p.pushId));
    if (push) return push;
    await sleep(5);
  }
  throw new Error(`no push for ${userId} within 10 s`);
}

/**
 * `/duo verify <username>`, the caller approves after `answerAfterMs`, and the DM status message is updated.
 * The time that counts is from the answer in the simulator to the chat.update in the test bed.
 */
export async function verifyFlow(
  env: FlowEnv,
  agent: string,
  username: string,
  duoUserId: string,
  answerAfterMs: number,
): Promise<VerifyOutcome> {
  const known = new Set(env.duo.pendingPushes().map((p) => p.pushId));
  const dmChannel = env.slack.dmChannelFor(agent);
  await command(env, 'verify', agent, `verify ${username}`);
  const push = await waitForPush(env, duoUserId, known);
  // The DM carries the confirmation code: that is how the responder reads it to the caller.
  const dm = await env.slack.waitFor(
    () =>
      env.slack.messages(dmChannel).find((m) => JSON.stringify(m.blocks ?? []).includes(push.confirmationCode) && m.ts),
    { description: `verification DM for ${username}`, timeoutMs: 20_000 },
  );
  await sleep(answerAfterMs);
  const since = env.calls.mark();
  const answeredAt = Date.now();
  const answeredAtRequest = env.duo.requests().length;
  env.duo.answerPush(push.pushId, 'approve');
  const update = await env.calls.wait(
    (c) =>
      c.method === 'chat.update' &&
      argsOf(c).channel === dmChannel &&
      argsOf(c).ts === dm.ts &&
      textOf(c).includes('approved'),
    `DM update for ${username}`,
    since,
  );
  return {
    pushId: push.pushId,
    dm: { channel: dmChannel, ts: dm.ts },
    answeredAt,
    answeredAtRequest,
    updatedAt: update.at,
  };
}

/** Duo users no other flow is working on (one push per user at a time, so the push found is this flow's). */
export class UserPool<U> {
  private readonly free: U[];
  private readonly waiting: Array<(u: U) => void> = [];
  constructor(users: readonly U[]) {
    this.free = [...users];
  }
  async take(): Promise<U> {
    const u = this.free.shift();
    if (u !== undefined) return u;
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  give(u: U): void {
    const w = this.waiting.shift();
    if (w) w(u);
    else this.free.push(u);
  }
  async with<T>(fn: (u: U) => Promise<T>): Promise<T> {
    const u = await this.take();
    try {
      return await fn(u);
    } finally {
      this.give(u);
    }
  }
}

// Bypass codes with approval

export interface Approver {
  id: string;
  secret: string;
  /** The last TOTP step this approver used (codes of a used step are refused). */
  lastStep: number;
}

const STEP_MS = 30_000;
const currentStep = () => Math.floor(Date.now() / STEP_MS);

/**
 * Approvers take turns: a code is accepted for the steps one either side of now, each step once per person, so
 * each approver approves at most a few times a minute. Waits for the next step when all are used up.
 */
export class ApproverPool {
  constructor(private readonly approvers: Approver[]) {}

  async take(): Promise<{ approver: Approver; code: string }> {
    for (;;) {
      const now = currentStep();
      const free = this.approvers
        .map((a) => ({ a, step: Math.max(a.lastStep + 1, now - 1) }))
        .filter((x) => x.step <= now + 1)
        .sort((x, y) => x.step - y.step)[0];
      if (free) {
        free.a.lastStep = free.step;
        return { approver: free.a, code: await generate({ secret: free.a.secret, epoch: free.step * 30 }) };
      }
      await sleep(STEP_MS - (Date.now() % STEP_MS) + 50);
    }
  }
}

function waitForView(env: FlowEnv, userId: string, callbackId: string, before: number): Promise<StoredView> {
  return env.slack.waitFor(
    () => {
      const v = env.slack.lastView(userId);
      return env.slack.views(userId).length > before && v?.callbackId === callbackId ? v : undefined;
    },
    { description: `${callbackId} view for ${userId}`, timeoutMs: 20_000 },
  );
}

async function driverCall<T extends { status: number }>(
  env: FlowEnv,
  kind: string,
  send: (d: SlackDriver) => Promise<T>,
) {
  return timed(env, kind, (x) => send(x.driver));
}

/**
 * After a verification of the user by this agent: `/duo bypass <username>`, the form submitted, the approval
 * card approved by the next free approver with a TOTP code, until the codes are delivered to the agent.
 */
export async function bypassFlow(
  env: FlowEnv,
  agent: string,
  username: string,
  approvers: ApproverPool,
): Promise<{ requestedToDeliveredMs: number }> {
  const started = performance.now();
  const beforeViews = env.slack.views(agent).length;
  const since = env.calls.mark();
  await command(env, 'bypass', agent, `bypass ${username}`);
  const form = await waitForView(env, agent, 'bypass_modal', beforeViews);
  await driverCall(env, 'bypass submit', (d) =>
    d.submitView(form, agent, { Reason: 'Caller lost their phone, verified by push' }),
  );
  const card: StoredMessage = await env.slack.waitFor(
    () =>
      env.slack
        .messages(LOCAL_CHANNELS.approvals)
        .find(
          (m) =>
            m.ts &&
            JSON.stringify(m.blocks ?? []).includes(`\`${username}\``) &&
            JSON.stringify(m.blocks ?? []).includes('approval_approve'),
        ),
    { description: `approval card for ${username}`, timeoutMs: 20_000 },
  );
  const { approver, code } = await approvers.take();
  const beforeApproverViews = env.slack.views(approver.id).length;
  await driverCall(env, 'approve click', (d) => d.clickButton({ message: card }, 'Approve', approver.id));
  const modal = await waitForView(env, approver.id, 'approve_modal', beforeApproverViews);
  await driverCall(env, 'approve submit', (d) =>
    d.submitView(modal, approver.id, { 'Code from your authenticator app': code }),
  );
  await env.calls.wait(
    (c) => textOf(c).includes(`Your bypass codes for ${username} are ready`),
    `codes delivered for ${username}`,
    since,
  );
  return { requestedToDeliveredMs: performance.now() - started };
}

/**
 * Enrolls a responder's step-up through Slack as a person would: `/duo mfa` sends a push to their own Duo account
 * (the Duo user with their Slack email) and opens the modal with the key; the push is approved on that phone; a
 * first code turns step-up on (asked again while duo-desk has not yet polled the answer, as the form says).
 */
export async function enrollStepUp(env: FlowEnv, userId: string): Promise<Approver> {
  const username = env.slack.store.user(userId)?.email?.split('@')[0];
  if (!username || !env.duo.getUser(username)) throw new Error(`${userId} has no Duo account of their own`);
  const before = env.slack.views(userId).length;
  await command(env, 'mfa', userId, 'mfa');
  const modal = await waitForView(env, userId, 'mfa_enroll_modal', before);
  const key = /enter this key manually: `([A-Z2-7 ]+)`/.exec(JSON.stringify(modal.definition))?.[1]?.replace(/ /g, '');
  if (!key) throw new Error(`no key in the step-up modal for ${userId}`);
  const push = await env.slack.waitFor(() => env.duo.pendingPushes().find((p) => p.username === username), {
    description: `the step-up push to ${username}`,
    timeoutMs: 20_000,
  });
  env.duo.answerPush(push.pushId, 'approve');
  const deadline = Date.now() + 30_000;
  for (;;) {
    const step = currentStep();
    const res = await driverCall(env, 'mfa submit', async (d) =>
      d.submitView(env.slack.lastView(userId) ?? modal, userId, {
        'Code from your authenticator app': await generate({ secret: key, epoch: step * 30 }),
      }),
    );
    const said = JSON.stringify(res.body ?? '');
    if (said.includes('Step-up is on')) return { id: userId, secret: key, lastStep: step };
    if (!said.includes('First approve the Duo Push') || Date.now() > deadline)
      throw new Error(`step-up for ${userId} did not turn on: ${said.slice(0, 300)}`);
    await sleep(500);
  }
}
