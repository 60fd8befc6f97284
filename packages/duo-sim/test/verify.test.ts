/**
 * The simulator's signature check against Duo's published vectors (the same ones test/duo/sign.test.ts holds the
 * app's signer to): the simulator has its own canonicalization, so these are what keep it honest.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { verifySignature } from '../src/verify.js';

interface Vector {
  name: string;
  ikey: string;
  skey: string;
  date: string;
  method: string;
  host: string;
  path: string;
  query?: Array<[string, string]>;
  form?: Record<string, string>;
  json?: string;
  /** Sent besides the date (x-duo-* ones are signed in v5). */
  headers?: Record<string, string>;
  /** v5 vectors carry the date in X-Duo-Date; the others in Date. */
  xDuoDate?: boolean;
  signature: string;
  version: 2 | 5;
}

const DOC = {
  ikey: 'DIWJ8X6AEYOR5OMC6TQ1',
  skey: 'Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep',
  date: 'Tue, 21 Aug 2012 17:29:18 -0000',
  method: 'POST',
  host: 'api-XXXXXXXX.duosecurity.com',
  path: '/accounts/v1/account/list',
};
const UNICODE = {
  ikey: 'test_ikey',
  skey: 'gtdfxv9YgVBYcF6dl2Eq17KUQJN2PLM2ODVTkvoT',
  date: 'Fri, 07 Dec 2012 17:18:00 -0000',
  method: 'POST',
  host: 'foO.BAr52.cOm',
  path: '/Foo/BaR2/qux',
  form: {
    '\u469a\u287b\u35d0\u8ef3\u6727\u502a\u0810\ud091\u00c8\uc170':
      '\u0f45\u1a76\u341a\u654c\uc23f\u9b09\uabe2\u8343\u1b27\u60d0',
    '\u7449\u7e4b\uccfb\u59ff\ufe5f\u83b7\uadcc\u900c\ucfd1\u7813':
      '\u8db7\u5022\u92d3\u42ef\u207d\u8730\uacfe\u5617\u0946\u4e30',
    '\u7470\u9314\u901c\u9eae\u40d8\u4201\u82d8\u8c70\u1d31\ua042':
      '\u17d9\u0ba8\u9358\uaadf\ua42a\u48be\ufb96\u6fe9\ub7ff\u32f3',
    '\uc2c5\u2c1d\u2620\u3617\u96b3F\u8605\u20e8\uac21\u5934':
      '\ufba9\u41aa\ubd83\u840b\u2615\u3e6e\u652d\ua8b5\ud56bU',
  },
};
const PYTHON_V5 = {
  ikey: 'DIABCDEFGHIJKLMNOPQR',
  skey: 'testtesttesttesttesttesttesttesttesttest',
  date: 'Fri, 24 May 2024 12:00:00 -0000',
  host: 'api-xxxxxxxx.duosecurity.com',
  path: '/api/path',
  headers: { 'x-duo-foo': 'bar', 'x-duo-bar': 'foo', 'x-not-duo': 'ignored' },
  xDuoDate: true,
  version: 5 as const,
};

const VECTORS: Vector[] = [
  {
    name: '§2.1 documentation example, v2 HMAC-SHA1',
    ...DOC,
    form: { realname: 'First Last', username: 'root' },
    signature: '2d97d6166319781b5a3a07af39d366f491234edc',
    version: 2,
  },
  {
    name: '§2.1 documentation example, v2 HMAC-SHA512',
    ...DOC,
    form: { realname: 'First Last', username: 'root' },
    signature:
      '1bffb8924348f7db7da9e7d7d749ded93aafd02d8e904960da7b96c57510220185a64a2827ee8f24ac5d30802a9ee97e59de44b304b18242f0d596d15a8122af',
    version: 2,
  },
  {
    name: '§2.2 Go TestSignV5: query params and a JSON body',
    ...DOC,
    query: [['realname', 'First Last']],
    json: '{"txid":"f22b1678-252a-4070-b176-0ca2be7319fd"}',
    signature:
      '78f4327f831173cc78d0907e913e3c5a28fe72dd4545a342586bb67181f2ba393d20911e870362f6faba3dc6f7e9db5e93aed2f3bfc110c6dadaff4dc6179e0b',
    version: 5,
  },
  {
    name: '§2.4 unicode params, v2 HMAC-SHA1',
    ...UNICODE,
    signature: 'f01811cbbf9561623ab45b893096267fd46a5178',
    version: 2,
  },
  {
    name: '§2.4 unicode params, v2 HMAC-SHA512',
    ...UNICODE,
    signature:
      '0508065035a03b2a1de2f453e629e791d180329e157f65df6b3e0f08299d4321e1c5c7a7c7ee6b9e5fc80d1fb6fbf3ad5eb7c44dd3b3985a02c37aca53ec3698',
    version: 2,
  },
  {
    name: '§2.5 v5 GET with params and extra x-duo headers',
    ...PYTHON_V5,
    method: 'GET',
    query: [
      ['foo', 'bar'],
      ['one', '1'],
      ['bool', 'true'],
    ],
    signature:
      'd46556726800415dc78cefc3fb4e11dcf3ee1342904f276ed5c8e3427878bd5376ea6c5551b90bf707fab53f6f1d20a114898898705d28268824edd0be5f1d53',
  },
  {
    name: '§2.5 v5 POST JSON with extra x-duo headers',
    ...PYTHON_V5,
    method: 'POST',
    json: '{"bool":"true","foo":"bar","one":"1"}',
    signature:
      'def7b7359b0399543b61d3d1a4252c1908eb486039168aa7d1c93545f052e121062e4d0d3cae80f0f125dc497c43c53b62c9db58cacd21394a3b17ad972e3793',
  },
];

/** The request as Node hands it to the simulator: lower-cased header names, the raw body bytes. */
function received(v: Vector, change: Partial<Vector> = {}) {
  const r = { ...v, ...change };
  const body = r.json ?? (r.form ? new URLSearchParams(r.form).toString() : '');
  const headers: IncomingHttpHeaders = {
    host: r.host.toLowerCase(),
    authorization: `Basic ${Buffer.from(`${r.ikey}:${r.signature}`).toString('base64')}`,
    [r.xDuoDate ? 'x-duo-date' : 'date']: r.date,
    ...r.headers,
  };
  if (r.json) headers['content-type'] = 'application/json';
  else if (r.form) headers['content-type'] = 'application/x-www-form-urlencoded';
  return {
    request: { method: r.method, path: r.path, headers, queryPairs: r.query ?? [], body: Buffer.from(body) },
    options: { ikey: v.ikey, skey: v.skey, nowMs: Date.parse(v.date) },
  };
}

describe("the simulator's signature check against Duo's vectors", () => {
  for (const v of VECTORS) {
    it(`when ${v.name} arrives, then it is accepted as v${v.version}`, () => {
      const { request, options } = received(v);
      expect(verifySignature(request, options)).toMatchObject({ ok: true, version: v.version });
    });

    it(`when ${v.name} arrives with its path changed, then it is refused`, () => {
      const { request, options } = received(v, { path: `${v.path}x` });
      expect(verifySignature(request, options)).toEqual({ ok: false, reason: 'signature mismatch' });
    });
  }

  it('when a v5 request arrives with a signed x-duo header changed, then it is refused', () => {
    const v = VECTORS.at(-1)!;
    const { request, options } = received(v, { headers: { ...v.headers, 'x-duo-foo': 'baz' } });
    expect(verifySignature(request, options)).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('when a v5 request arrives with an unsigned header changed, then it is still accepted', () => {
    const v = VECTORS.at(-1)!;
    const { request, options } = received(v, { headers: { ...v.headers, 'x-not-duo': 'changed' } });
    expect(verifySignature(request, options)).toMatchObject({ ok: true, version: 5 });
  });
});
