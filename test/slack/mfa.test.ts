import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { checkStepUp, totpStatus } from '../../src/usecases/step-up.js';
import { auditRows } from '../support/audit.js';
import { callerOf, nextStep, privateMessages, viewText, waitForView } from '../support/bypass-kit.js';
import { runCli } from '../support/cli.js';
import { type Harness, PEOPLE, startHarness, TEAM } from '../support/harness.js';
import { scanForSecrets } from '../support/secret-scan.js';

const clock = new ManualClock();
let h: Harness;
/** Every key DMed in this file: none may appear in a log line or an audit row. */
const keys: string[] = [];

beforeAll(async () => {
  h = await startHarness({ clock });
});
afterAll(async () => {
  await h?.close();
});

const code = (secret: string) => generate({ secret, epoch: Math.floor(clock.now().getTime() / 1000) });
const statusOf = async (userId: string) => (await totpStatus(h.runtime.db.em.fork(), TEAM, userId)).status;

/** Waits for the n-th enrollment DM of this user and reads the key for manual entry from it. */
async function enrollmentKey(userId: string, n: number): Promise<string> {
  const dm = await h.slack.waitFor(() => privateMessages(h, userId, 'enter this key manually')[n - 1]);
  const key = /enter this key manually: ([A-Z2-7 ]+)\./.exec(dm.text ?? '')?.[1]?.replace(/ /g, '');
  expect(key).toMatch(/^[A-Z2-7]{16,}$/);
  keys.push(key!);
  return key!;
}

async function submitCode(userId: string, text: string | undefined, value: string) {
  const before = h.slack.views(userId).length;
  const dm = privateMessages(h, userId, 'mfa_start').at(-1)!;
  await h.driver.clickButton({ message: dm }, 'Confirm with a code', userId);
  const modal = await waitForView(h, userId, 'mfa_confirm_modal', before, text);
  return h.driver.submitView(modal, userId, { 'Code from your authenticator app': value });
}

describe('/duo mfa', () => {
  it('when a responder runs /duo mfa, then they get the QR code and key by DM, and step-up turns on after a first valid code', async () => {
    const files = h.slack.files().length;
    await h.driver.command(PEOPLE.helpDesk, 'mfa');
    const key = await enrollmentKey(PEOPLE.helpDesk, 1);
    const qr = h.slack.files().slice(files);
    expect(qr).toHaveLength(1);
    expect(qr[0]!.bytes!.subarray(1, 4).toString()).toBe('PNG');
    expect(await statusOf(PEOPLE.helpDesk)).toBe('pending');

    const wrong = (await code(key)) === '000000' ? '111111' : '000000';
    const refused = await submitCode(PEOPLE.helpDesk, 'turn on step-up', wrong);
    expect(refused.body).toMatchObject({ response_action: 'errors' });
    expect(await statusOf(PEOPLE.helpDesk)).toBe('pending');

    const ok = await submitCode(PEOPLE.helpDesk, 'turn on step-up', await code(key));
    expect(JSON.stringify(ok.body)).toContain('Step-up is on');
    expect(await statusOf(PEOPLE.helpDesk)).toBe('active');
  });

  it('when an enrolled responder runs /duo mfa again, then a current code is asked first and the new authenticator replaces the old one', async () => {
    const oldKey = keys[0]!;
    nextStep(clock);
    const before = h.slack.views(PEOPLE.helpDesk).length;
    await h.driver.command(PEOPLE.helpDesk, 'mfa');
    const modal = await waitForView(h, PEOPLE.helpDesk, 'mfa_confirm_modal', before, 'already have an authenticator');
    const res = await h.driver.submitView(modal, PEOPLE.helpDesk, {
      'Code from your authenticator app': await code(oldKey),
    });
    expect(JSON.stringify(res.body)).toContain('direct message');
    const newKey = await enrollmentKey(PEOPLE.helpDesk, 2);
    expect(newKey).not.toBe(oldKey);
    nextStep(clock);
    await submitCode(PEOPLE.helpDesk, 'turn on step-up', await code(newKey));
    nextStep(clock);
    const em = h.runtime.db.em.fork();
    await expect(
      checkStepUp(h.runtime.deps, em, callerOf(PEOPLE.helpDesk), await code(oldKey), 'approve'),
    ).rejects.toMatchObject({ code: 'STEP_UP_INVALID' });
    nextStep(clock);
    await expect(
      checkStepUp(h.runtime.deps, em, callerOf(PEOPLE.helpDesk), await code(newKey), 'approve'),
    ).resolves.toBeUndefined();
  });

  it('when /duo mfa status is used, then the responder sees their state', async () => {
    const r = await h.driver.command(PEOPLE.readOnly, 'mfa status');
    expect(JSON.stringify(r.body)).toContain('no authenticator set up');
  });

  it('when a non-owner asks to reset an enrollment, then it is refused; an owner resets it', async () => {
    const refused = await h.driver.command(PEOPLE.userManager, `mfa reset <@${PEOPLE.helpDesk}|hank>`);
    expect(JSON.stringify(refused.body)).toContain('needs the Owner role');
    expect(await statusOf(PEOPLE.helpDesk)).toBe('active');
    const done = await h.driver.command(PEOPLE.owner, `mfa reset <@${PEOPLE.helpDesk}|hank>`);
    expect(JSON.stringify(done.body)).toContain('was reset');
    expect(await statusOf(PEOPLE.helpDesk)).toBe('none');
    const [reset] = await auditRows(h, "action = 'stepup.reset'");
    expect(reset).toMatchObject({ actor_user_id: PEOPLE.owner });
  });

  it('when the only owner lost their authenticator, then the installer resets it from the command line, audited as cli', async () => {
    await h.driver.command(PEOPLE.owner, 'mfa');
    const key = await enrollmentKey(PEOPLE.owner, 1);
    await submitCode(PEOPLE.owner, 'turn on step-up', await code(key));
    expect(await statusOf(PEOPLE.owner)).toBe('active');
    const r = await runCli(h.runtime.db.url, ['mfa', 'reset', PEOPLE.owner, '--team', TEAM]);
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toContain('enroll again with /duo mfa');
    expect(await statusOf(PEOPLE.owner)).toBe('none');
    const resets = await auditRows(h, "action = 'stepup.reset' and actor_user_id = 'cli'");
    expect(resets).toHaveLength(1);
  });

  it('when someone who is not a responder runs /duo mfa, then nothing is enrolled', async () => {
    const r = await h.driver.command(PEOPLE.stranger, 'mfa');
    expect(JSON.stringify(r.body)).toContain('not a duo-desk responder');
    expect(privateMessages(h, PEOPLE.stranger, 'enter this key manually')).toHaveLength(0);
  });

  it('when all of the above has run, then no key appears in a log line, the audit trail or a table', async () => {
    const findings = await scanForSecrets(h, keys, (where) => where.startsWith('slack '));
    expect(findings).toEqual([]);
    expect(viewText(h.slack.lastView(PEOPLE.helpDesk))).not.toContain(keys[0]!);
  });
});
