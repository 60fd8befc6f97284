import { describe, expect, it } from 'vitest';
import { fail } from '../../src/errors.js';
import { mrkdwn, plainWords } from '../../views/format.js';
import { CODE_TEXT, explain } from '../../views/problems.js';

/** The sentences people read: the same facts, formatted for Slack or for the terminal. */
describe('problem sentences', () => {
  it('when a fact comes from Duo, then Slack gets it escaped and the terminal gets it verbatim', () => {
    const e = fail('INVALID_STATE', 'status.already', { username: 'bob<script>&', status: 'active' });
    expect(explain(e, mrkdwn)).toBe('*bob&lt;script&gt;&amp;* is already Active: nothing was changed.');
    expect(explain(e, plainWords)).toBe('bob<script>& is already Active: nothing was changed.');
  });

  it('when the CLI explains a problem about a Slack user, then it prints plain words, not Slack markup', () => {
    const text = explain(fail('NOT_FOUND', 'responders.not_a_responder', { userId: 'U0NOPE' }), plainWords);
    expect(text).toBe('U0NOPE is not a responder.');
    const cmd = explain(fail('INVALID_INPUT', 'command.no_user', { example: 'unlock bob' }), plainWords);
    expect(cmd).toBe('Say which Duo user, e.g. "/duo unlock bob".');
    expect(cmd).not.toMatch(/[`*]|<@/);
  });

  it('when a denial names roles and a setting, then the sentence says what would allow it', () => {
    const e = fail('PERMISSION_DENIED', 'access.denied', {
      action: 'user.enroll',
      role: 'help_desk',
      rule: 'setting',
      roles: ['owner', 'administrator', 'user_manager'],
      setting: 'help_desk_can_send_enrollment_email',
    });
    expect(explain(e, mrkdwn)).toBe(
      'Help Desk responders may not send enrollment emails here. This needs the setting `help_desk_can_send_enrollment_email`, or the Owner, Administrator, User Manager role.',
    );
  });

  it('when a status change is denied, then the sentence names the status asked for', () => {
    const e = fail('PERMISSION_DENIED', 'access.denied', {
      action: 'user.set_status',
      role: 'help_desk',
      rule: 'role',
      roles: ['owner', 'administrator'],
      toStatus: 'bypass',
    });
    expect(explain(e, plainWords)).toBe(
      'Help Desk responders cannot apply bypass status. This needs the Owner, Administrator role.',
    );
  });

  it('when an error has a code and no problem, then the code has a sentence for every code', () => {
    for (const [code, text] of Object.entries(CODE_TEXT)) {
      expect(text(mrkdwn).length, code).toBeGreaterThan(10);
      expect(text(plainWords), code).not.toMatch(/`|<@/);
    }
  });
});
