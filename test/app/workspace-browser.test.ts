import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'otplib';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LocalModeHarness, startLocalModeHarness } from '../support/local-mode.js';

/**
 * A help-desk day in the local workspace page, in a real browser (Debian's chromium through playwright-core), against
 * local mode as `npm start` runs it. Only what a person does in the page: no API calls, no simulator port.
 * Screenshots of the main states go to test-output/screenshots (git-ignored).
 */
const SHOTS = join(process.cwd(), 'test-output', 'screenshots');
const AGENT = 'U234';
const MANAGER = 'U345';

function findBrowser(): string | undefined {
  const named = process.env.CHROMIUM_PATH;
  if (named) return existsSync(named) ? named : undefined;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome']) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
    if (found) return found;
  }
  return undefined;
}

const browserPath = findBrowser();
if (!browserPath)
  console.warn(
    'workspace-browser.test.ts skipped: no chromium found (apt-get install chromium, as .ci/run does, or set CHROMIUM_PATH)',
  );

describe.skipIf(!browserPath)('a help-desk day in the local workspace page', { timeout: 90_000 }, () => {
  let h: LocalModeHarness;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const errors: string[] = [];

  beforeAll(async () => {
    h = await startLocalModeHarness();
    profile = mkdtempSync(join(tmpdir(), 'duo-desk-chromium-'));
    mkdirSync(SHOTS, { recursive: true });
    context = await chromium.launchPersistentContext(profile, {
      executablePath: browserPath!,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
      viewport: { width: 1400, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${h.base}/?as=${AGENT}`);
    await page.getByRole('status').getByText('live').waitFor();
  }, 60_000);

  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail')
      console.log(
        h.logger.lines
          .filter((l) => /verif|job|warn|error/i.test(l))
          .slice(-30)
          .join('\n'),
      );
    if (task.result?.state === 'fail') await shot(`failed-${task.name.slice(0, 40).replace(/\W+/g, '-')}`);
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await h?.close();
  });

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });
  const form = () => page.getByRole('dialog');
  const composer = () => page.locator('#composer-input');
  const messages = () => page.getByRole('log');

  async function as(person: string) {
    await page.getByLabel('You are').selectOption(person);
    await page.getByRole('status').getByText('live').waitFor();
  }
  async function openConversation(name: string) {
    // The name, and an unread badge ("2 new") when there is one.
    const exact = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( \\d+ new)?$`);
    await page.getByRole('navigation', { name: 'Conversations' }).getByRole('button', { name: exact }).click();
  }
  async function type(command: string) {
    await composer().fill(command);
    await composer().press('Enter');
  }
  /** Waits until `where` shows `text` (the page updates from server-sent events). */
  const shows = (where: Locator, text: string) => where.getByText(text, { exact: false }).first().waitFor();
  /** The newest message that contains `text`. */
  const message = (text: string | RegExp): Locator => messages().getByRole('article').filter({ hasText: text }).last();

  it('when the agent unlocks bob, then the page walks through the verification push on the phone and shows the refreshed card', async () => {
    await type('/duo lookup bob');
    const card = message('Bob Brown (bob)');
    await shows(card, 'Locked out (Failed Attempts)');
    await shot('01-user-card');
    await card.getByRole('button', { name: 'Unlock', exact: true }).click();
    await shows(form(), 'Not verified.');
    await form().getByRole('button', { name: 'Send verification push' }).click();
    await form()
      .getByRole('radio', { name: /iPhone/ })
      .check();
    await form().getByRole('button', { name: 'Send push' }).click();
    await shows(form(), 'Duo Push sent to');

    // The phone shows the code the DM tells the agent to read out: the same one.
    await page.getByLabel('Duo user', { exact: true }).selectOption('bob');
    const push = page.getByRole('group', { name: 'Duo Push for bob' });
    const code = ((await push.getByLabel(/^Confirmation code/).textContent()) ?? '').trim();
    expect(code).toMatch(/^\d{6}$/);
    await shot('02-phone-push');
    await push.getByRole('button', { name: 'Approve' }).click();
    await form().getByRole('button', { name: 'Done' }).click();

    await form().getByLabel('Reason').fill('Caller locked out after a holiday; verified with Duo Push');
    // duo-desk learns the answer when it next polls Duo (a job in the interactive lane, about every second): until
    // then the form says "verify first", and the agent submits again, as it says to.
    const done = form().getByText('is now Active');
    for (let attempt = 0; attempt < 40 && !(await done.isVisible()); attempt++) {
      await form().getByRole('button', { name: 'Unlock', exact: true }).click();
      await done.or(form().getByText('Verify the caller first')).first().waitFor();
      if (!(await done.isVisible())) await page.waitForTimeout(1000);
    }
    await done.waitFor();
    await form().getByRole('button', { name: 'Close' }).click();
    await form().waitFor({ state: 'hidden' });
    const refreshed = message('Bob Brown (bob)');
    await shows(refreshed, 'Active');
    expect(await refreshed.textContent()).not.toContain('Locked out');
    await shot('03-unlocked');
    // The DM that updated by itself with the answer.
    await openConversation('duo-desk');
    await shows(message('Verify bob'), 'bob approved');
  });

  it('when the agent sends erin the enrollment email, then it is in the outbox on the phone panel', async () => {
    await openConversation('# help-desk');
    await type('/duo enroll erin');
    await form().getByRole('button', { name: 'Send email' }).click();
    await shows(form(), 'Duo sent the enrollment email');
    await form().getByRole('button', { name: 'Close' }).click();
    await shows(page.locator('#outbox'), 'erin.evans@example.com');
  });

  it("when the manager changes frank's status, then the form takes the pick and the reason", async () => {
    await as(MANAGER);
    await type('/duo status frank');
    await form().getByLabel('New status').selectOption({ label: 'Disabled (cannot log in)' });
    await form().getByLabel('Reason').fill('Left the company today');
    await form().getByRole('button', { name: 'Change status' }).click();
    await shows(form(), 'is now Disabled');
    await form().getByRole('button', { name: 'Close' }).click();
  });

  let stepUpKey = '';
  it("when the manager enrolls step-up, then the modal shows the QR code and the key, and after the manager's own push a first code turns it on", async () => {
    await type('/duo mfa');
    await shows(form(), 'Approve the Duo Push sent to your phone');
    const qr = form().getByRole('img', { name: /QR code/ });
    await qr.waitFor();
    await expect
      .poll(() => qr.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth))
      .toBeGreaterThan(0);
    stepUpKey = ((await form().locator('code').first().textContent()) ?? '').replace(/\s+/g, '');
    expect(stepUpKey).toMatch(/^[A-Z2-7]{16,}$/);
    await shot('04-step-up-modal');
    // The key is in the modal only: no conversation carries it.
    expect(await messages().textContent()).not.toContain(stepUpKey.slice(0, 8));
    // In local mode the staff phones approve their own pushes after 3 s; until duo-desk has polled the answer the
    // form asks to approve the push first, and the manager submits again, as it says to.
    const on = form().getByText('Step-up is on');
    for (let attempt = 0; attempt < 30 && !(await on.isVisible()); attempt++) {
      await form()
        .getByLabel('Code from your authenticator app')
        .fill(await generate({ secret: stepUpKey }));
      await form().getByRole('button', { name: 'Turn on' }).click();
      await on.or(form().getByText('First approve the Duo Push')).first().waitFor();
      if (!(await on.isVisible())) await page.waitForTimeout(1000);
    }
    await on.waitFor();
    await form().getByRole('button', { name: 'Close' }).click();
  });

  it('when the agent asks for bypass codes and the manager approves in the approvals channel, then only the agent sees the codes', async () => {
    await as(AGENT);
    await openConversation('# help-desk');
    await type('/duo bypass bob');
    await form().getByLabel('Reason').fill('Caller lost the phone; verified with Duo Push');
    await form().getByRole('button', { name: 'Request' }).click();
    await shows(form(), 'is waiting for approval');
    await form().getByRole('button', { name: 'Close' }).click();

    await as(MANAGER);
    await openConversation('# duo-desk-approvals');
    const card = message('Bypass codes requested');
    await shot('05-approval-card');
    await card.getByRole('button', { name: 'Approve' }).click();
    // The enrollment used this step's code; codes work once, so the next step's (accepted within ±1 step).
    const next = await generate({ secret: stepUpKey, epoch: Math.floor(Date.now() / 1000) + 30 });
    await form().getByLabel('Code from your authenticator app').fill(next);
    await form().getByRole('button', { name: 'Approve' }).click();
    await shows(form(), 'delivered to');
    await form().getByRole('button', { name: 'Close' }).click();
    await shows(card, 'Codes issued');

    const codes = h.local.duoSim!.issuedBypassCodes().map((c) => c.code);
    expect(codes).toHaveLength(1);
    expect(await page.content()).not.toContain(codes[0]);

    await as(AGENT);
    await openConversation('# help-desk');
    const delivery = message('Bypass codes for bob');
    await shows(delivery, codes[0]!);
    await shows(delivery, 'Only visible to you');
    await shot('06-codes-for-the-agent');
  });

  it("when the agent deletes bob's codes, then the confirm dialog asks first and the list is empty", async () => {
    await type('/duo codes bob');
    const list = message('Bypass codes of Bob Brown');
    await list.getByRole('button', { name: 'Delete all 1' }).click();
    await page.getByRole('dialog', { name: 'Delete all codes?' }).getByRole('button', { name: 'Delete all' }).click();
    await shows(message('Bypass codes of Bob Brown'), 'No active bypass codes');
    expect(h.local.duoSim!.bypassCodesOf(h.local.duoSim!.getUser('bob')!.user_id)).toEqual([]);
  });

  it('when the day is over, then the page raised no script error and the wire panel shows signed requests', async () => {
    await shows(page.locator('#wire'), 'slash command: /duo codes bob');
    await page.locator('#wire li').first().getByRole('button', { name: 'Show payload' }).click();
    await shows(page.locator('#wire li').first(), 'x-slack-signature: v0=');
    expect(errors).toEqual([]);
  });
});
