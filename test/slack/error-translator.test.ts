import { describe, expect, it } from 'vitest';
import { DuoError } from '../../src/duo/errors.js';
import { AppError, fail } from '../../src/errors.js';
import { describeError, errorField } from '../../src/slack/error-translator.js';

describe('the error translator', () => {
  it('when an error has a code, then the person reads its plain-words message, and a specific one when given', () => {
    expect(describeError(new AppError('NOT_A_RESPONDER', 'internal detail'), 'c1')).toMatchObject({
      known: true,
      code: 'NOT_A_RESPONDER',
    });
    const specific = describeError(
      fail('NOT_FOUND', 'lookup.no_match', { query: 'bob<x>' }, { message: 'internal' }),
      'c1',
    );
    expect(specific.text).toContain('No Duo user matches `bob&lt;x&gt;`');
    expect(specific.text).not.toContain('internal');
  });

  it('when the error is unknown, then the message is short, carries the correlation id and no detail', () => {
    const d = describeError(
      new TypeError('cannot read properties of undefined (reading "x") at /srv/app.ts:12'),
      'abc123',
    );
    expect(d).toMatchObject({ known: false, code: 'UNKNOWN' });
    expect(d.text).toContain('abc123');
    expect(d.text).not.toContain('undefined');
    expect(d.text).not.toContain('app.ts');
  });

  it('when Duo may or may not have applied a change, then the message says to look before retrying', () => {
    const e = new DuoError('DUO_TIMEOUT', 'POST /admin/v1/users/DU… timed out', { outcomeUnknown: true });
    expect(describeError(e, 'c1').text).toContain('look the user up before retrying');
  });

  it('when an error names a form field, then it can be shown on that input', () => {
    expect(errorField(new AppError('STEP_UP_INVALID', 'x', { field: 'totp' }))).toBe('totp');
    expect(errorField(new Error('x'))).toBeUndefined();
  });
});
