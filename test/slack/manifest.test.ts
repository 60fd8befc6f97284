import { readFileSync } from 'node:fs';
import { App } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { registerListeners } from '../../commands/index.js';
import { loadConfig } from '../../src/config.js';
import { SLASH_COMMAND } from '../../views/ids.js';

/**
 * The manifest is the source of truth for what Slack sends us. Registers every listener on an app
 * that never starts, then compares what was registered with manifest.yml.
 */
const manifest = parse(readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8'));

interface Registered {
  commands: string[];
  actions: string[];
  views: string[];
  options: string[];
}

function registered(): Registered {
  const r: Registered = { commands: [], actions: [], views: [], options: [] };
  const app = new App({
    token: 'xoxb-manifest-test',
    signingSecret: 'x',
    tokenVerificationEnabled: false,
    botId: 'B1',
    botUserId: 'U0BOT',
  });
  // A modal's close (view_closed) is registered under the same callback_id as its submission.
  const id = (c: unknown) =>
    typeof c === 'string'
      ? c
      : ((c as { action_id?: string; callback_id?: string }).action_id ??
        `${(c as { callback_id?: string }).callback_id}${(c as { type?: string }).type === 'view_closed' ? ' (closed)' : ''}`);
  const spy = app as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const [method, key] of [
    ['command', 'commands'],
    ['action', 'actions'],
    ['view', 'views'],
    ['options', 'options'],
  ] as const) {
    const original = spy[method]!.bind(app);
    spy[method] = (constraint: unknown, ...rest: unknown[]) => {
      r[key].push(id(constraint));
      return original(constraint, ...rest);
    };
  }
  // Registration reads only the configuration; nothing runs.
  registerListeners(app, { deps: { config: loadConfig({}) } as never, notifier: {} as never });
  return r;
}

describe('manifest.yml', () => {
  const r = registered();

  it('when the code registers slash commands, then each is declared in the manifest and vice versa', () => {
    const declared = (manifest.features.slash_commands as Array<{ command: string }>).map((c) => c.command).sort();
    expect([...new Set(r.commands)].sort()).toEqual(declared);
    expect(declared).toEqual([SLASH_COMMAND]);
  });

  it('when the code handles buttons, modals or option loads, then interactivity and the options URL are enabled', () => {
    expect(r.actions.length + r.views.length).toBeGreaterThan(0);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    if (r.options.length) expect(manifest.settings.interactivity.message_menu_options_url).toMatch(/\/slack\/events$/);
  });

  it('when ids are registered, then they are unique and within Slack limits', () => {
    for (const list of [r.actions, r.views, r.options]) {
      expect(new Set(list).size).toBe(list.length);
      for (const id of list) expect(id.length).toBeLessThanOrEqual(255);
    }
  });

  it('when the manifest is read, then it is a valid app manifest with the scopes the code uses and no more', () => {
    expect(manifest.display_information.name).toBe('duo-desk');
    expect(manifest.features.bot_user.display_name).toBeTruthy();
    expect(manifest.settings.socket_mode_enabled).toBe(false);
    expect(manifest.settings.org_deploy_enabled).toBe(true);
    const scopes: string[] = manifest.oauth_config.scopes.bot;
    expect(scopes).toEqual(
      expect.arrayContaining([
        'commands',
        'chat:write',
        'im:write',
        'files:write',
        'files:read',
        'users:read',
        'users:read.email',
        'channels:history',
        'metadata.message:read',
      ]),
    );
    const urls = [
      manifest.settings.interactivity.request_url,
      ...(manifest.features.slash_commands as Array<{ url: string }>).map((c) => c.url),
    ];
    for (const u of urls) expect(u).toMatch(/^https:\/\/.+\/slack\/events$/);
  });

  it('when someone types /duo mfa reset @name, then Slack escapes the mention into a user id (should_escape)', () => {
    expect(manifest.features.slash_commands[0].should_escape).toBe(true);
  });

  it('when the usage hint lists subcommands, then every subcommand the router knows is in it', async () => {
    const { FLOW_NAMES } = await import('../../src/domain/flows.js');
    const hint: string = manifest.features.slash_commands[0].usage_hint;
    for (const sub of FLOW_NAMES) expect(hint).toContain(sub);
  });
});
