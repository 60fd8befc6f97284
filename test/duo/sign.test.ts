import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  basicAuthorization,
  canonicalizeV2,
  canonParams,
  type DuoParams,
  formatDuoDate,
  hashDuoHeaders,
  hmacHex,
  sha512Hex,
  signRequest,
} from '../../src/duo/sign.js';

const require = createRequire(import.meta.url);
const duoSig = require('@duosecurity/duo_api/lib/duo_sig.js') as {
  sign(ikey: string, skey: string, method: string, host: string, path: string, params: object, date: string): string;
  signV5(
    ikey: string,
    skey: string,
    method: string,
    host: string,
    path: string,
    params: object,
    date: string,
    body: string,
  ): string;
  _canonParams(params: object): string;
};

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('§2.1 v2 documentation example', () => {
  const base = {
    ikey: 'DIWJ8X6AEYOR5OMC6TQ1',
    skey: 'Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep',
    date: 'Tue, 21 Aug 2012 17:29:18 -0000',
    method: 'POST',
    host: 'api-XXXXXXXX.duosecurity.com',
    path: '/accounts/v1/account/list',
    params: { realname: 'First Last', username: 'root' },
    version: 2 as const,
  };

  it('when canonicalized, then the five documented lines come out', () => {
    expect(canonicalizeV2(base)).toBe(
      'Tue, 21 Aug 2012 17:29:18 -0000\nPOST\napi-xxxxxxxx.duosecurity.com\n/accounts/v1/account/list\nrealname=First%20Last&username=root',
    );
  });

  it('when signed with HMAC-SHA1, then signature and Authorization match', () => {
    const s = signRequest({ ...base, digest: 'sha1' });
    expect(s.signature).toBe('2d97d6166319781b5a3a07af39d366f491234edc');
    expect(s.authorization).toBe(
      'Basic RElXSjhYNkFFWU9SNU9NQzZUUTE6MmQ5N2Q2MTY2MzE5NzgxYjVhM2EwN2FmMzlkMzY2ZjQ5MTIzNGVkYw==',
    );
  });

  it('when signed with HMAC-SHA512, then signature and Authorization match', () => {
    const s = signRequest(base);
    expect(s.signature).toBe(
      '1bffb8924348f7db7da9e7d7d749ded93aafd02d8e904960da7b96c57510220185a64a2827ee8f24ac5d30802a9ee97e59de44b304b18242f0d596d15a8122af',
    );
    expect(s.authorization).toBe(
      'Basic RElXSjhYNkFFWU9SNU9NQzZUUTE6MWJmZmI4OTI0MzQ4ZjdkYjdkYTllN2Q3ZDc0OWRlZDkzYWFmZDAyZDhlOTA0OTYwZGE3Yjk2YzU3NTEwMjIwMTg1YTY0YTI4MjdlZThmMjRhYzVkMzA4MDJhOWVlOTdlNTlkZTQ0YjMwNGIxODI0MmYwZDU5NmQxNWE4MTIyYWY=',
    );
  });
});

describe('§2.2 v5 Go TestSignV5', () => {
  it('when query params and a JSON body are signed with v5, then the Go vector matches', () => {
    const s = signRequest({
      ikey: 'DIWJ8X6AEYOR5OMC6TQ1',
      skey: 'Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep',
      date: 'Tue, 21 Aug 2012 17:29:18 -0000',
      method: 'POST',
      host: 'api-XXXXXXXX.duosecurity.com',
      path: '/accounts/v1/account/list',
      params: { realname: 'First Last' },
      body: '{"txid":"f22b1678-252a-4070-b176-0ca2be7319fd"}',
      version: 5,
    });
    expect(s.signature).toBe(
      '78f4327f831173cc78d0907e913e3c5a28fe72dd4545a342586bb67181f2ba393d20911e870362f6faba3dc6f7e9db5e93aed2f3bfc110c6dadaff4dc6179e0b',
    );
    expect(s.authorization).toBe(
      'Basic RElXSjhYNkFFWU9SNU9NQzZUUTE6NzhmNDMyN2Y4MzExNzNjYzc4ZDA5MDdlOTEzZTNjNWEyOGZlNzJkZDQ1NDVhMzQyNTg2YmI2NzE4MWYyYmEzOTNkMjA5MTFlODcwMzYyZjZmYWJhM2RjNmY3ZTlkYjVlOTNhZWQyZjNiZmMxMTBjNmRhZGFmZjRkYzYxNzllMGI=',
    );
  });
});

describe('§2.3 Node client vectors', () => {
  const base = {
    ikey: 'test_ikey',
    skey: 'test_skey',
    date: 'Tue, 21 Aug 2012 17:29:18 -0000',
    method: 'POST',
    host: 'test.duosecurity.com',
    path: '/test/v1',
  };

  it('when v2 is signed with SHA-512, then the Node vector matches', () => {
    const s = signRequest({ ...base, version: 2, params: { realname: 'First Last', username: 'root' } });
    expect(s.signature).toBe(
      '042a30c682bd836fc5ba467891a956eaa10091ca0f73a7fb396aefd56a3529e56932dea427a67213af664ba6841689ff2336b7a373766ea5ab7ab9fe2638226b',
    );
    expect(s.authorization).toBe(`Basic ${b64(`test_ikey:${s.signature}`)}`);
  });

  it('when v2 is signed with SHA-1, then the recomputed vector matches', () => {
    const s = signRequest({
      ...base,
      version: 2,
      digest: 'sha1',
      params: { realname: 'First Last', username: 'root' },
    });
    expect(s.signature).toBe('7db13501cda6278f27987468405fe8be61b5e3e3');
  });

  it('when v5 carries a JSON body, then body hash and signature match', () => {
    const body = '{"realname":"First Last","username":"root"}';
    expect(sha512Hex(body)).toBe(
      '90a87eddaf3152f88132bc650b48eba1d1a1853a780c072303cec3d4f85631a0c5ef03d8c14d805af3212b4e5b7c82420970fc2e380ad91e1283028e7c476150',
    );
    const s = signRequest({ ...base, version: 5, params: {}, body });
    expect(s.signature).toBe(
      '7d02409a152764843cccd8284da153b3fb446baad5f998886325e24bc9cd4a244de85ad4bfa7ea285d68209f160835673d8b4f1e1b23d9cd521d26bfe7f366a4',
    );
    expect(s.authorization).toBe(`Basic ${b64(`test_ikey:${s.signature}`)}`);
  });
});

describe('§2.4 unicode v2 vector', () => {
  const params = {
    '\u469a\u287b\u35d0\u8ef3\u6727\u502a\u0810\ud091\u00c8\uc170':
      '\u0f45\u1a76\u341a\u654c\uc23f\u9b09\uabe2\u8343\u1b27\u60d0',
    '\u7449\u7e4b\uccfb\u59ff\ufe5f\u83b7\uadcc\u900c\ucfd1\u7813':
      '\u8db7\u5022\u92d3\u42ef\u207d\u8730\uacfe\u5617\u0946\u4e30',
    '\u7470\u9314\u901c\u9eae\u40d8\u4201\u82d8\u8c70\u1d31\ua042':
      '\u17d9\u0ba8\u9358\uaadf\ua42a\u48be\ufb96\u6fe9\ub7ff\u32f3',
    '\uc2c5\u2c1d\u2620\u3617\u96b3F\u8605\u20e8\uac21\u5934':
      '\ufba9\u41aa\ubd83\u840b\u2615\u3e6e\u652d\ua8b5\ud56bU',
  };
  const base = {
    ikey: 'test_ikey',
    skey: 'gtdfxv9YgVBYcF6dl2Eq17KUQJN2PLM2ODVTkvoT',
    date: 'Fri, 07 Dec 2012 17:18:00 -0000',
    method: 'PoSt',
    host: 'foO.BAr52.cOm',
    path: '/Foo/BaR2/qux',
    params,
    version: 2 as const,
  };

  it('when canonicalized, then method, host and path lines are normalized and params start as documented', () => {
    const lines = canonicalizeV2(base).split('\n');
    expect(lines.slice(1, 4)).toEqual(['POST', 'foo.bar52.com', '/Foo/BaR2/qux']);
    expect(lines[4]!.startsWith('%E4%9A%9A%E2%A1%BB')).toBe(true);
  });

  it('when signed with HMAC-SHA1, then the Python vector matches', () => {
    expect(signRequest({ ...base, digest: 'sha1' }).signature).toBe('f01811cbbf9561623ab45b893096267fd46a5178');
  });

  it('when signed with HMAC-SHA512, then the Python/Java/C# vector matches', () => {
    expect(signRequest(base).signature).toBe(
      '0508065035a03b2a1de2f453e629e791d180329e157f65df6b3e0f08299d4321e1c5c7a7c7ee6b9e5fc80d1fb6fbf3ad5eb7c44dd3b3985a02c37aca53ec3698',
    );
  });
});

describe('§2.5 v5 with x-duo-date (duo_hmac_python)', () => {
  const date = 'Fri, 24 May 2024 12:00:00 -0000';
  const base = {
    ikey: 'DIABCDEFGHIJKLMNOPQR',
    skey: 'testtesttesttesttesttesttesttesttesttest',
    host: 'api-xxxxxxxx.duosecurity.com',
    path: '/api/path',
    date,
    version: 5 as const,
  };
  const extra = { 'x-duo-foo': 'bar', 'x-duo-bar': 'foo', 'x-not-duo': 'ignored' };
  const cases: Array<{
    name: string;
    method: string;
    params: DuoParams;
    body: string;
    headers: Record<string, string>;
    sig: string;
  }> = [
    {
      name: 'GET, no params',
      method: 'GET',
      params: {},
      body: '',
      headers: {},
      sig: 'c454639d75b4e3d99b8b1d5e41cd7bb2d2d8ba55f6811f786dfb0edd4facd2f3a5e6d6c837f31f6826706325b4ed7dcdc5f11164948e57a7032a524990e01583',
    },
    {
      name: 'POST, no params',
      method: 'POST',
      params: {},
      body: '{}',
      headers: {},
      sig: '12a05d783b2e58e36f37df8a6907835496fbe20fb3d04b15036c82b1694fc58d1c0451b937fb9ba6e7c2b44d89b473af708166183d216aea13e52742a57f239f',
    },
    {
      name: 'GET foo=bar',
      method: 'GET',
      params: { foo: 'bar' },
      body: '',
      headers: {},
      sig: '88fe80f3b242b992f4b301408d524a886274d3ed0c4c7bd184e1b4ff378e68ea05d9433c09938078c49517a6c4264c950be9ff5cc28ad2d448cea24bc93887ca',
    },
    {
      name: 'POST {"foo":"bar"}',
      method: 'POST',
      params: {},
      body: '{"foo":"bar"}',
      headers: {},
      sig: '643770af31006c584a758d926250e46a90d79100d21f7a0313c3e77d64fa3c5d2c94e2c9081a2b65343cc3d5f2ed21f7300ea50b00640cb1760f323192307d37',
    },
    {
      name: 'GET with params and extra x-duo headers',
      method: 'GET',
      params: { foo: 'bar', one: 1, bool: true },
      body: '',
      headers: extra,
      sig: 'd46556726800415dc78cefc3fb4e11dcf3ee1342904f276ed5c8e3427878bd5376ea6c5551b90bf707fab53f6f1d20a114898898705d28268824edd0be5f1d53',
    },
    {
      name: 'POST JSON with extra x-duo headers',
      method: 'POST',
      params: {},
      body: '{"bool":"true","foo":"bar","one":"1"}',
      headers: extra,
      sig: 'def7b7359b0399543b61d3d1a4252c1908eb486039168aa7d1c93545f052e121062e4d0d3cae80f0f125dc497c43c53b62c9db58cacd21394a3b17ad972e3793',
    },
  ];
  for (const c of cases) {
    it(`when ${c.name} is signed, then the signature and Authorization match`, () => {
      const s = signRequest({
        ...base,
        method: c.method,
        params: c.params,
        body: c.body,
        headers: { ...c.headers, 'x-duo-date': date },
      });
      expect(s.signature).toBe(c.sig);
      expect(s.authorization).toBe(basicAuthorization('DIABCDEFGHIJKLMNOPQR', c.sig));
    });
  }
});

describe('§2.6 building blocks', () => {
  it('when params are canonicalized, then every documented example matches', () => {
    expect(canonParams({})).toBe('');
    expect(canonParams({ realname: 'First Last' })).toBe('realname=First%20Last');
    expect(canonParams({ realname: 'First Last', username: 'root' })).toBe('realname=First%20Last&username=root');
    expect(canonParams({ foo_bar: '2', foo: '1' })).toBe('foo=1&foo_bar=2');
    expect(canonParams({ ip_whitelist_enroll_policy: '2', ip_whitelist: '1' })).toBe(
      'ip_whitelist=1&ip_whitelist_enroll_policy=2',
    );
    expect(canonParams({ words: 'First Last', success: true, digit: 5 })).toBe(
      'digit=5&success=true&words=First%20Last',
    );
    expect(
      canonParams({
        digits: '0123456789',
        letters: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
        punctuation: '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
        whitespace: '\t\n\x0b\x0c\r ',
      }),
    ).toBe(
      'digits=0123456789&letters=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ&punctuation=%21%22%23%24%25%26%27%28%29%2A%2B%2C-.%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E_%60%7B%7C%7D~&whitespace=%09%0A%0B%0C%0D%20',
    );
    expect(canonParams({ username: 'H ell?o', password: ['H-._~i', "A(!'*)"] })).toBe(
      'password=A%28%21%27%2A%29&password=H-._~i&username=H%20ell%3Fo',
    );
    expect(
      canonParams([
        ['b', '2'],
        ['a-b', '1'],
        ['a', '3'],
      ]),
    ).toBe('a=3&a-b=1&b=2');
  });

  it('when x-duo headers are hashed, then the documented hashes come out', () => {
    expect(hashDuoHeaders({})).toBe(
      'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e',
    );
    expect(hashDuoHeaders({ 'X-Duo-Header-1': 'header_value_1' })).toBe(
      '630b4bfe7e9abd03da2eee8f0a5d4e60a254ec880a839bcc2223bb5b9443e8ef24d58f0254f1f5934bf8c017ebd0fd5b1acf86766bdbe74185e712a4092df3ed',
    );
    expect(hashDuoHeaders({ 'x-duo-A': 'header_value_1', 'X-Duo-B': 'header_value_2' })).toBe(
      '60be11a30e0756f2ee2afdce1db849b987dcf86c1133394bd7bbbc9877920330c4d78aceacbb377ab8cbd9a8efe6a410fed4047376635ac71226ab46ca10d2b1',
    );
  });

  it('when x-duo headers contain NUL or duplicates, then hashing refuses', () => {
    expect(() => hashDuoHeaders({ 'x-duo-a': 'x\0y' })).toThrow();
    expect(() => hashDuoHeaders({ 'x-duo-a': '1', 'X-Duo-A': '2' })).toThrow();
  });

  it('when a body is hashed, then the Go vector matches', () => {
    expect(
      sha512Hex(
        '{"activation_code":"duo://x1bTAIQGWXppdi2ctPVn-YXBpLWR1bzEuZHVvLnRlc3Q","user_id":"DU439XKOX2W6LMYHWLEV"}',
      ),
    ).toBe(
      '9ddab7d898836a76fafbb0dcef7bc83f14036b39bbb1ebbe43044f7c76338fa699eba8f0d3ecb329a084f32ef23c8a1609efad25032923b651e6f3f6d2f7b773',
    );
  });

  it('when a date is formatted, then it is RFC 2822 with English names and -0000', () => {
    expect(formatDuoDate(new Date(Date.UTC(2012, 7, 21, 17, 29, 18)))).toBe('Tue, 21 Aug 2012 17:29:18 -0000');
    expect(formatDuoDate(new Date(Date.UTC(2012, 11, 7, 17, 18, 0)))).toBe('Fri, 07 Dec 2012 17:18:00 -0000');
  });
});

describe('oracle: official @duosecurity/duo_api duo_sig.js', () => {
  const ikey = 'DIWJ8X6AEYOR5OMC6TQ1';
  const skey = 'Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep';
  const date = 'Wed, 03 Jan 2024 09:08:07 -0000';
  const paramSets: Array<Record<string, string>> = [
    {},
    { username: 'alice' },
    { email: 'alice.anders+duo@example.com', limit: '300', offset: '0' },
    { realname: "O'Brien (the *real* one)!", notes: 'tab\there, ünïcødé ✓', status: 'active' },
    { foo_bar: '2', foo: '1', 'a-b': 'x', a: 'y' },
  ];

  for (const [i, params] of paramSets.entries()) {
    it(`when param set #${i} is signed, then v2 agrees with the official signer`, () => {
      for (const method of ['GET', 'POST', 'DELETE']) {
        const theirs = duoSig.sign(ikey, skey, method, 'API-x.duosecurity.com', '/admin/v1/users', params, date);
        const ours = signRequest({
          ikey,
          skey,
          version: 2,
          date,
          method,
          host: 'API-x.duosecurity.com',
          path: '/admin/v1/users',
          params,
        });
        expect(ours.authorization).toBe(theirs);
      }
      expect(canonParams(params)).toBe(duoSig._canonParams(params));
    });

    it(`when param set #${i} is signed, then v5 agrees with the official signer (GET query and POST body)`, () => {
      const host = '127.0.0.1:8443';
      const getTheirs = duoSig.signV5(ikey, skey, 'GET', host, '/admin/v1/users', params, date, '');
      const getOurs = signRequest({
        ikey,
        skey,
        version: 5,
        date,
        method: 'GET',
        host,
        path: '/admin/v1/users',
        params,
      });
      expect(getOurs.authorization).toBe(getTheirs);
      const body = JSON.stringify(params);
      const postTheirs = duoSig.signV5(ikey, skey, 'POST', host, '/admin/v1/users/DU1', {}, date, body);
      const postOurs = signRequest({
        ikey,
        skey,
        version: 5,
        date,
        method: 'POST',
        host,
        path: '/admin/v1/users/DU1',
        body,
      });
      expect(postOurs.authorization).toBe(postTheirs);
    });
  }

  it('when hmacHex is used directly, then it equals the signature inside the Authorization header', () => {
    const canon = canonicalizeV2({ date, method: 'GET', host: 'h', path: '/p', params: { a: '1' } });
    const sig = hmacHex(skey, canon);
    expect(duoSig.sign(ikey, skey, 'GET', 'h', '/p', { a: '1' }, date)).toBe(basicAuthorization(ikey, sig));
  });
});
