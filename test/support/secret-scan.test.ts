import { generateSecret } from 'otplib';
import { describe, expect, it } from 'vitest';
import { base32Candidates, secretPattern } from './secret-scan.js';

/** The leak scan is only as good as what it recognises: a key re-typed, re-grouped or re-cased is still the key. */
describe('the leak scanner', () => {
  const key = generateSecret();
  const groups = key.match(/.{1,4}/g)!;

  it('when a TOTP key is written in any spacing, case and grouping, or with base32 padding, then it is found', () => {
    const re = secretPattern(key);
    for (const form of [
      key,
      groups.join(' '),
      groups.join('-'),
      groups.join('\n'),
      JSON.stringify({ text: groups.join('\n') }),
      key.toLowerCase(),
      `${key.slice(0, 5)}  ${key.slice(5, 13)} ${key.slice(13)}`,
      `${key}====`,
      `enter this key: \`${groups.join(' ').toLowerCase()}\`.`,
    ])
      expect(re.test(form), form).toBe(true);
    expect(secretPattern(`${key}====`).test(key)).toBe(true);
    expect(re.test(key.slice(0, -2))).toBe(false);
  });

  it('when a code is split "123 456", then it is found; inside a timestamp or a longer number, it is not', () => {
    const re = secretPattern('123456');
    for (const form of ['code 123456', 'code 123 456', '123-456.']) expect(re.test(form), form).toBe(true);
    for (const form of ['1764331200.123456', '9123456', '1234567', '12:34:56', '2026-12-34-56'])
      expect(re.test(form), form).toBe(false);
  });

  it('when text carries a key in any grouping, then the candidates reader gives it back normalised', () => {
    expect(base32Candidates(`key: ${groups.join(' ').toLowerCase()} (30 s)`)).toContain(key);
    expect(base32Candidates('Scan this QR code with your authenticator application please')).toEqual([]);
  });
});
