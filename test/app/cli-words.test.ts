import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScratchDatabase } from '../../src/db/scratch.js';
import { runCli } from '../support/cli.js';
import { freshDatabase } from '../support/db.js';

/** The command line explains refusals in plain words: no Slack markup reaches a terminal. */
let db: ScratchDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('the CLI speaks plain words', () => {
  it('when mfa reset names someone who is not a responder, then it prints their id and no mention markup', async () => {
    const r = await runCli(db.url, ['mfa', 'reset', 'U0NOPE', '--team', 'T0CLI']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe('U0NOPE is not a responder.');
  });

  it('when a setting value is wrong, then the sentence quotes it plainly', async () => {
    const r = await runCli(db.url, ['settings', 'set', 'step_up_for_unlock', 'maybe', '--team', 'T0CLI']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe('"maybe" is not a valid value for "step_up_for_unlock": expected on or off.');
  });
});
