import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, PEOPLE, startHarness, TEAM } from '../support/harness.js';
import { assertNoSecretLeaks, scanForSecrets } from '../support/secret-scan.js';

/** Credentials never reach logs, the database, the audit trail or Slack; and the scanner itself finds what is there. */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const replies = () => h.slack.callsTo('response_url').length;

describe('secrets', () => {
  it('when responders use several commands (including a Duo failure and an export), then the Duo skey, bot token and signing secret appear nowhere', async () => {
    const before = replies();
    await h.driver.command(PEOPLE.helpDesk, 'help');
    await h.driver.command(PEOPLE.helpDesk, 'lookup bob');
    h.duo.injectFault({ kind: 'server_error', path: '/admin/v1/users' });
    await h.driver.command(PEOPLE.helpDesk, 'lookup alice');
    await h.slack.waitFor(() => replies() >= before + 2);
    h.duo.clearFaults();
    await h.driver.command(PEOPLE.stranger, 'lookup bob');
    await h.driver.command(PEOPLE.owner, 'audit');
    await h.driver.command(PEOPLE.owner, 'audit export json');
    await h.slack.waitFor(() => h.slack.files().find((f) => f.completed));
    await h.slack.waitFor(() => h.slack.messages().some((m) => m.metadata));

    const { config } = h.runtime.deps;
    const secrets = [config.duo!.skey, config.slack.botToken!, config.slack.signingSecret!];
    expect(await scanForSecrets(h, secrets, () => false)).toEqual([]);
    // the scan really covered something
    expect(h.logger.lines.length).toBeGreaterThan(10);
  });

  it('when a value is planted in the audit trail, a log line and Slack traffic, then the scan reports each place', async () => {
    const planted = 'planted-value-7f3a9c';
    await h.runtime.deps.audit.record(h.runtime.db.em.fork(), {
      teamId: TEAM,
      actor: { system: 'duo-desk' },
      action: 'setting.changed',
      outcome: 'success',
      reason: `note ${planted}`,
    });
    h.logger.info('test line', { value: planted });
    const before = replies();
    await h.driver.command(PEOPLE.helpDesk, `lookup ${planted}`);
    await h.slack.waitFor(() => replies() > before);

    const found = await scanForSecrets(h, ['unrelated-secret-000', planted]);
    const places = found.map((f) => `${f.secret}: ${f.where.replace(/ (seq|row|line|#)\s?\d+/g, '')}`);
    expect(places).toEqual(expect.arrayContaining(['1: audit_event', '1: log', '1: slack response_url']));
    expect(found.every((f) => f.secret === 1)).toBe(true);
    // allow() drops expected places
    expect(await scanForSecrets(h, [planted], (where) => !where.startsWith('log'))).toEqual([
      expect.objectContaining({ where: expect.stringMatching(/^log line \d+$/) }),
    ]);
  });

  it('when a code is all digits, then it only matches as a whole number', async () => {
    h.logger.info('digits', { inside: 'x9123456789012x', whole: 'code 555111222 end' });
    const found = await scanForSecrets(h, ['123456789', '555111222']);
    expect(found.map((f) => f.secret)).toEqual([1]);
  });

  it('when an issued bypass code reaches a log line, then the suite-wide leak check fails and says what leaked where', async () => {
    const alice = h.duo.getUser('alice')!;
    const [code] = await h.runtime.deps.duo.createBypassCodes(alice.user_id, {
      count: 1,
      reuseCount: 1,
      validSecs: 3600,
    });
    await expect(assertNoSecretLeaks(h)).resolves.toBeUndefined();
    h.logger.info(`oops ${code}`);
    await expect(assertNoSecretLeaks(h)).rejects.toThrow(/bypass code #\d+ found in log line/);
    h.logger.lines.splice(
      h.logger.lines.findIndex((l) => l.includes('oops')),
      1,
    );
    await expect(assertNoSecretLeaks(h)).resolves.toBeUndefined();
  });
});
