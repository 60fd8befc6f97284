import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

const good = {
  SLACK_SIGNING_SECRET: 'sekrit-signing',
  SLACK_BOT_TOKEN: 'xoxb-123-abc',
  DUO_IKEY: 'DIXXXXXXXXXXXXXXXXXX',
  DUO_SKEY: 'super-secret-skey-value-0123456789abcdef',
  DUO_HOST: 'api-1234abcd.duosecurity.com',
};

const problems = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
    return '';
  } catch (e) {
    return (e as Error).message;
  }
};

describe('configuration', () => {
  it('when the environment is empty, then local mode starts with defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      slackMode: 'local',
      port: 3000,
      duo: undefined,
      databaseUrl: undefined,
      dataDir: '.data',
    });
  });

  it('when Slack and Duo are configured, then HTTP mode is chosen; an app token switches to Socket Mode', () => {
    expect(loadConfig(good).slackMode).toBe('http');
    expect(loadConfig({ ...good, SLACK_APP_TOKEN: 'xapp-1-abc' }).slackMode).toBe('socket');
  });

  it('when several variables are wrong, then every problem is reported at once, by name, without echoing secrets', () => {
    const msg = problems({
      ...good,
      PORT: 'eighty',
      SLACK_BOT_TOKEN: 'xoxp-user-token-not-bot',
      DUO_HOST: 'not a host',
      DUO_DESK_AUDIT_CHANNEL: '#audit',
      DUO_DESK_ENCRYPTION_KEY: 'short',
    });
    for (const name of ['PORT', 'SLACK_BOT_TOKEN', 'DUO_HOST', 'DUO_DESK_AUDIT_CHANNEL', 'DUO_DESK_ENCRYPTION_KEY'])
      expect(msg).toContain(name);
    expect(msg).not.toContain('xoxp-user-token-not-bot');
    expect(msg).not.toContain(good.DUO_SKEY);
  });

  it('when DUO_HOST uses plain http to a host that is not loopback, then it is refused; loopback http and https URLs are accepted', () => {
    expect(problems({ ...good, DUO_HOST: 'http://duo.example.com:8080' })).toMatch(/DUO_HOST uses plain http/);
    expect(problems({ ...good, DUO_HOST: 'http://127.0.0.1:8443' })).toBe('');
    expect(problems({ ...good, DUO_HOST: 'https://duo.example.com:8443' })).toBe('');
    expect(problems({ ...good, DUO_HOST: 'https://duo.example.com/admin' })).toMatch(/DUO_HOST must be a bare host/);
  });

  it('when only part of the Duo credentials is set, then the missing ones are named', () => {
    const msg = problems({ DUO_IKEY: 'DIX' });
    expect(msg).toContain('DUO_SKEY');
    expect(msg).toContain('DUO_HOST');
  });

  it('when local mode would run against a real Duo tenant without the opt-in, then it is refused naming DUO_DESK_LOCAL_REAL_DUO', () => {
    const duo = { DUO_IKEY: good.DUO_IKEY, DUO_SKEY: good.DUO_SKEY, DUO_HOST: good.DUO_HOST };
    expect(problems(duo)).toMatch(/DUO_DESK_LOCAL_REAL_DUO must be yes/);
    expect(problems(duo)).not.toContain(good.DUO_SKEY);
    expect(loadConfig({ ...duo, DUO_DESK_LOCAL_REAL_DUO: 'yes' }).slackMode).toBe('local');
    // The simulator on this machine is not a tenant.
    expect(loadConfig({ ...duo, DUO_HOST: 'http://127.0.0.1:8443' }).duo?.host).toBe('http://127.0.0.1:8443');
  });

  // `npm start` with NODE_ENV=production runs dist/ (test/app/container.test.ts runs it there, compiled); here the
  // same entry from the sources.
  it('when NODE_ENV=production npm start runs without Slack variables, then it exits non-zero naming SLACK_BOT_TOKEN instead of starting local mode', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/app/main.ts'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'production',
        DUO_DESK_DATA_DIR: '/nonexistent/x',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('SLACK_BOT_TOKEN');
    expect(r.stdout).not.toContain('local mode');
  });

  for (const [name, host, expected] of [
    ['malformed', 'api-xxx..duosecurity', /DUO_HOST is not a valid hostname/],
    ['plain http to a public host', 'http://api-1234abcd.duosecurity.com', /DUO_HOST uses plain http/],
  ] as const) {
    it(`when duo-desk starts with a ${name} DUO_HOST, then it exits non-zero naming the variable`, () => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/app/main.ts'], {
        env: { PATH: process.env.PATH, ...good, DUO_HOST: host },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(expected);
      expect(r.stderr).not.toContain(good.DUO_SKEY);
      expect(r.stderr).not.toContain(good.SLACK_SIGNING_SECRET);
    });
  }
});
