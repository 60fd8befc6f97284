import type { StoredView } from '@duo-desk/slack-testbed';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { TotpEnrollment, Verification } from '../../src/db/entities.js';
import { applyTotpReset, checkStepUp, totpStatus } from '../../src/usecases/step-up.js';
import { VIEWS } from '../../views/ids.js';
import { auditRows } from '../support/audit.js';
import { callerOf, enrollTotp, eventually, nextStep, viewText, waitForView } from '../support/bypass-kit.js';
import { runCli } from '../support/cli.js';
import { type Harness, PEOPLE, startHarness, TEAM } from '../support/harness.js';
import { base32Candidates, scanForSecrets } from '../support/secret-scan.js';

const clock = new ManualClock();
let h: Harness;
/** Every key shown in this file: none may appear in a log line, the audit trail, a table or a message. */
const keys: string[] = [];
/** A responder whose Slack email matches no Duo user. */
const NO_DUO = 'U0NODUO1';
const USERNAMES: Record<string, string> = { [PEOPLE.owner]: 'olga', [PEOPLE.helpDesk]: 'hank' };

beforeAll(async () => {
  h = await startHarness({ clock, users: [{ id: NO_DUO, name: 'nina', email: 'nina.nobody@example.com' }] });
  await h.grant(NO_DUO, 'help_desk', true);
});
afterAll(async () => {
  await h?.close();
});

const code = (secret: string) => generate({ secret, epoch: Math.floor(clock.now().getTime() / 1000) });
const statusOf = async (userId: string) => (await totpStatus(h.runtime.db.em.fork(), TEAM, userId)).status;

interface ShownEnrollment {
  view: StoredView;
  key: string;
  qrFileId: string;
  enrollmentId: string;
}

/** The key and QR file as the enrollment modal shows them, and the attempt behind it. */
async function shownEnrollment(userId: string, before: number): Promise<ShownEnrollment> {
  const view = await waitForView(h, userId, VIEWS.mfaEnroll, before);
  const text = viewText(view);
  const key = /enter this key manually: `([A-Z2-7 ]+)`/.exec(text)?.[1]?.replace(/ /g, '');
  expect(key).toMatch(/^[A-Z2-7]{16,}$/);
  keys.push(key!);
  const image = (view.definition.blocks as Array<{ type: string; slack_file?: { id: string } }>).find(
    (b) => b.type === 'image',
  );
  const em = h.runtime.db.em.fork();
  const enrollment = await em.findOneOrFail(
    TotpEnrollment,
    { teamId: TEAM, userId, status: 'pending' },
    { orderBy: { createdAt: 'desc' } },
  );
  return { view, key: key!, qrFileId: image!.slack_file!.id, enrollmentId: enrollment.id };
}

/** Runs `/duo mfa` (no active enrollment) and returns what the modal shows. */
async function startEnrollment(userId: string): Promise<ShownEnrollment> {
  const before = h.slack.views(userId).length;
  await h.driver.command(userId, 'mfa');
  return shownEnrollment(userId, before);
}

/** The responder (or whoever holds their phone) answers the push sent to their own Duo account. */
async function answerOwnPush(userId: string, enrollmentId: string, result: 'approve' | 'deny' | 'fraud') {
  const em = h.runtime.db.em.fork();
  const enrollment = await em.findOneOrFail(TotpEnrollment, { id: enrollmentId });
  const push = h.duo.pendingPushes().find((p) => p.username === USERNAMES[userId]);
  expect(push).toBeDefined();
  h.duo.answerPush(push!.pushId, result);
  await eventually(async () => {
    // The follower job polls on the app's clock, which this file moves by hand.
    clock.advance(h.runtime.deps.tuning.verificationPollMs);
    const v = await h.runtime.db.em.fork().findOne(Verification, { id: enrollment.verificationId! });
    return v && v.status !== 'waiting';
  }, 'the follower saw the answer');
}

const submitCode = (view: StoredView, userId: string, value: string) =>
  h.driver.submitView(view, userId, { 'Code from your authenticator app': value });

/** Waits until the clean-up job deleted the file. */
const fileDeleted = (fileId: string) =>
  h.slack.waitFor(() => h.slack.files().find((f) => f.id === fileId)?.deleted, {
    description: `file ${fileId} deleted`,
  });

/**
 * Everything the holder of a Slack session can still read as `userId`: messages in their DM or sent to them,
 * messages in channels, the modals still open on their screen, and files that are shared somewhere or that a
 * surface still shows.
 */
function readableInSlack(userId: string): { texts: string[]; fileIds: string[] } {
  const dm = h.slack.dmChannelFor(userId);
  const messages = h.slack
    .messages()
    .filter((m) => !m.ephemeralUser || m.ephemeralUser === userId)
    .filter((m) => !m.channel.startsWith('D') || m.channel === dm);
  const views = h.slack.views(userId).filter((v) => v.open);
  const texts = [
    ...messages.map((m) => JSON.stringify([m.text, m.blocks, m.attachments])),
    ...views.map((v) => JSON.stringify(v.definition)),
  ];
  const shown = new Set(texts.flatMap((t) => [...t.matchAll(/"id":"(F[A-Z0-9]+)"/g)].map((m) => m[1]!)));
  const fileIds = h.slack
    .files()
    .filter((f) => !f.deleted && (f.channelId || shown.has(f.id)))
    .map((f) => f.id);
  return { texts, fileIds };
}

describe('/duo mfa', () => {
  it('when a responder runs /duo mfa, then a push goes to their own Duo account, the key is shown only in their modal, and step-up turns on after the push is approved and a first valid code', async () => {
    const dmBefore = h.slack.messages(h.slack.dmChannelFor(PEOPLE.helpDesk)).length;
    const shown = await startEnrollment(PEOPLE.helpDesk);
    expect(await statusOf(PEOPLE.helpDesk)).toBe('pending');
    // The QR file is shared with no channel: only the modal shows it.
    const qr = h.slack.files().find((f) => f.id === shown.qrFileId)!;
    expect(qr.channelId).toBeUndefined();
    expect(qr.bytes!.subarray(1, 4).toString()).toBe('PNG');
    expect(h.slack.messages(h.slack.dmChannelFor(PEOPLE.helpDesk))).toHaveLength(dmBefore);

    // Before the push is approved, a right code does not turn step-up on (and is not counted).
    const early = await submitCode(shown.view, PEOPLE.helpDesk, await code(shown.key));
    expect(JSON.stringify(early.body)).toContain('First approve the Duo Push');
    await answerOwnPush(PEOPLE.helpDesk, shown.enrollmentId, 'approve');

    const wrong = (await code(shown.key)) === '000000' ? '111111' : '000000';
    const refused = await submitCode(shown.view, PEOPLE.helpDesk, wrong);
    expect(refused.body).toMatchObject({ response_action: 'errors' });
    expect(await statusOf(PEOPLE.helpDesk)).toBe('pending');

    const ok = await submitCode(shown.view, PEOPLE.helpDesk, await code(shown.key));
    expect(JSON.stringify(ok.body)).toContain('Step-up is on');
    expect(JSON.stringify(ok.body)).not.toContain(shown.key.slice(0, 4));
    expect(await statusOf(PEOPLE.helpDesk)).toBe('active');
    await fileDeleted(shown.qrFileId);
  });

  it('when someone holding the Slack session reads everything left in Slack after step-up was confirmed, then nothing holds the key in any grouping and no code derived from it passes step-up', async () => {
    const key = keys[0]!;
    // What the enrollment sent does contain the key: the reader below would find it there.
    const traffic = h.slack.everythingReceived();
    expect(base32Candidates(traffic)).toContain(key);

    const left = readableInSlack(PEOPLE.helpDesk);
    expect(left.fileIds).toEqual([]);
    const candidates = [...new Set(left.texts.flatMap(base32Candidates))];
    expect(candidates).not.toContain(key);
    const em = h.runtime.db.em.fork();
    for (const candidate of candidates) {
      // A string an authenticator app would not take as a key yields no code to try.
      const derived = await Promise.resolve(code(candidate)).catch(() => null);
      if (!derived) continue;
      nextStep(clock);
      await expect(
        checkStepUp(h.runtime.deps, em, callerOf(PEOPLE.helpDesk), derived, 'approve'),
      ).rejects.toMatchObject({ code: expect.stringMatching(/^STEP_UP_/) });
    }
    // The guesses above locked step-up; its lock ends before the next test.
    clock.advance(16 * 60_000);
    // Notification texts never carried it either.
    for (const call of h.slack.calls.filter((c) => typeof c.args.text === 'string'))
      expect(base32Candidates(String(call.args.text))).not.toContain(key);
  });

  it('when an enrolled responder runs /duo mfa again, then a current code is asked first and the new authenticator replaces the old one', async () => {
    const oldKey = keys[0]!;
    nextStep(clock);
    const before = h.slack.views(PEOPLE.helpDesk).length;
    await h.driver.command(PEOPLE.helpDesk, 'mfa');
    const modal = await waitForView(h, PEOPLE.helpDesk, VIEWS.mfaConfirm, before, 'already have an authenticator');
    await submitCode(modal, PEOPLE.helpDesk, await code(oldKey));
    const shown = await shownEnrollment(PEOPLE.helpDesk, before);
    expect(shown.key).not.toBe(oldKey);
    await answerOwnPush(PEOPLE.helpDesk, shown.enrollmentId, 'approve');
    nextStep(clock);
    await submitCode(shown.view, PEOPLE.helpDesk, await code(shown.key));
    nextStep(clock);
    const em = h.runtime.db.em.fork();
    await expect(
      checkStepUp(h.runtime.deps, em, callerOf(PEOPLE.helpDesk), await code(oldKey), 'approve'),
    ).rejects.toMatchObject({ code: 'STEP_UP_INVALID' });
    nextStep(clock);
    await expect(
      checkStepUp(h.runtime.deps, em, callerOf(PEOPLE.helpDesk), await code(shown.key), 'approve'),
    ).resolves.toBeUndefined();
  });

  it('when someone holding only the Slack session starts /duo mfa and the real responder denies the push on their phone, then the enrollment is not activated and the key is withdrawn', async () => {
    const shown = await startEnrollment(PEOPLE.owner);
    await answerOwnPush(PEOPLE.owner, shown.enrollmentId, 'deny');
    const r = await submitCode(shown.view, PEOPLE.owner, await code(shown.key));
    expect(r.body).toMatchObject({ response_action: 'update' });
    expect(JSON.stringify(r.body)).toContain('Step-up was not turned on');
    expect(JSON.stringify(r.body)).not.toContain(shown.key.slice(0, 4));
    expect(await statusOf(PEOPLE.owner)).toBe('none');
    await fileDeleted(shown.qrFileId);
    const [ended] = await auditRows(h, "action = 'stepup.enrolled' and outcome = 'failed' and actor_user_id = ?", [
      PEOPLE.owner,
    ]);
    expect(ended!.params).toMatchObject({ phase: 'refused', push: 'denied' });
  });

  it('when a responder has no Duo user with their Slack email, then /duo mfa says they cannot set up step-up or approve, and nothing is enrolled', async () => {
    const before = h.slack.views(NO_DUO).length;
    await h.driver.command(NO_DUO, 'mfa');
    const modal = await h.slack.waitFor(() => {
      const v = h.slack.lastView(NO_DUO);
      return h.slack.views(NO_DUO).length > before && viewText(v).includes('No Duo user has that email') && v;
    });
    expect(viewText(modal)).toContain('nina.nobody@example.com');
    expect(viewText(modal)).toContain('cannot approve requests');
    expect(await statusOf(NO_DUO)).toBe('none');
    expect(h.duo.pendingPushes().filter((p) => p.username === 'nina')).toHaveLength(0);
  });

  it('when the enrollment modal is closed without confirming, then the pending key is dropped and the QR file deleted', async () => {
    const shown = await startEnrollment(PEOPLE.owner);
    await h.driver.closeView(shown.view, PEOPLE.owner);
    await fileDeleted(shown.qrFileId);
    expect(await statusOf(PEOPLE.owner)).toBe('none');
    await answerOwnPush(PEOPLE.owner, shown.enrollmentId, 'approve');
  });

  it('when an enrollment is left open for 10 minutes, then a job deletes the QR file and takes the key out of the modal', async () => {
    const shown = await startEnrollment(PEOPLE.owner);
    clock.advance(10 * 60_000);
    await fileDeleted(shown.qrFileId);
    const modal = await h.slack.waitFor(() => {
      const v = h.slack.view(shown.view.id);
      return v && viewText(v).includes('withdrawn') && v;
    });
    expect(viewText(modal)).not.toContain(shown.key.slice(0, 4));
    expect(await statusOf(PEOPLE.owner)).toBe('none');
  });

  it('when /duo mfa status is used, then the responder sees their state', async () => {
    const r = await h.driver.command(PEOPLE.readOnly, 'mfa status');
    expect(JSON.stringify(r.body)).toContain('no authenticator set up');
  });

  it("when a non-owner asks to reset an enrollment, then it is refused; the only owner's reset needs their step-up and waits out the announced delay", async () => {
    const refused = await h.driver.command(PEOPLE.userManager, `mfa reset <@${PEOPLE.helpDesk}|hank>`);
    expect(JSON.stringify(refused.body)).toContain('needs the Owner role');
    expect(await statusOf(PEOPLE.helpDesk)).toBe('active');

    const ownerSecret = await enrollTotp(h, PEOPLE.owner);
    nextStep(clock);
    const before = h.slack.views(PEOPLE.owner).length;
    await h.driver.command(PEOPLE.owner, `mfa reset <@${PEOPLE.helpDesk}|hank>`);
    const modal = await waitForView(h, PEOPLE.owner, 'mfa_reset_modal', before);
    const r = await h.driver.submitView(modal, PEOPLE.owner, {
      'Code from your authenticator app': await code(ownerSecret),
      Why: 'Lost their phone, INC-7',
    });
    expect(JSON.stringify(r.body)).toContain('unless an Owner cancels');
    expect(await statusOf(PEOPLE.helpDesk)).toBe('active');
    const [requested] = await auditRows(h, "action = 'stepup_reset.requested'");
    expect(requested).toMatchObject({ actor_user_id: PEOPLE.owner, params: { alert: true, policy: 'delay' } });

    clock.advance(24 * 3600_000 + 60_000);
    await eventually(async () => (await statusOf(PEOPLE.helpDesk)) === 'none', 'the delayed reset');
    const [reset] = await auditRows(h, "action = 'stepup.reset'");
    expect(reset).toMatchObject({ actor_user_id: 'duo-desk', request_ref: requested!.request_ref });
    // The next test enrolls the owner from scratch.
    await applyTotpReset(h.runtime.deps, h.runtime.db.em.fork(), { system: 'cli' }, TEAM, PEOPLE.owner, 'test');
  });

  it('when Slack names the person as <@U…|name>, <@U…> or a bare id (should_escape), then each form opens the reset for them', async () => {
    for (const form of [`<@${PEOPLE.userManager}|mona>`, `<@${PEOPLE.userManager}>`, PEOPLE.userManager]) {
      const before = h.slack.views(PEOPLE.owner).length;
      await h.driver.command(PEOPLE.owner, `mfa reset ${form}`);
      const modal = await waitForView(h, PEOPLE.owner, 'mfa_reset_modal', before);
      expect(JSON.parse(String(modal.definition.private_metadata))).toMatchObject({ userId: PEOPLE.userManager });
    }
    const unescaped = await h.driver.command(PEOPLE.owner, 'mfa reset @mona');
    expect(JSON.stringify(unescaped.body)).toContain('Say whose enrollment to reset');
  });

  it('when the only owner lost their authenticator, then the installer resets it from the command line, audited as cli', async () => {
    const shown = await startEnrollment(PEOPLE.owner);
    await answerOwnPush(PEOPLE.owner, shown.enrollmentId, 'approve');
    await submitCode(shown.view, PEOPLE.owner, await code(shown.key));
    expect(await statusOf(PEOPLE.owner)).toBe('active');
    const r = await runCli(h.runtime.db.url, ['mfa', 'reset', PEOPLE.owner, '--team', TEAM]);
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toContain('enroll again with /duo mfa');
    expect(await statusOf(PEOPLE.owner)).toBe('none');
    const resets = await auditRows(h, "action = 'stepup.reset' and actor_user_id = 'cli' and correlation_id <> 'test'");
    expect(resets).toHaveLength(1);
  });

  it('when someone who is not a responder runs /duo mfa, then nothing is enrolled', async () => {
    const r = await h.driver.command(PEOPLE.stranger, 'mfa');
    expect(JSON.stringify(r.body)).toContain('not a duo-desk responder');
    expect(h.slack.views(PEOPLE.stranger)).toHaveLength(0);
  });

  it('when all of the above has run, then no key appears in a log line, the audit trail, a table or a message', async () => {
    const findings = await scanForSecrets(h, keys, (where) => where.startsWith('slack views.update'));
    expect(findings).toEqual([]);
  });
});
