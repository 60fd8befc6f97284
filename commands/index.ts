import type { App } from '@slack/bolt';
import { registerDuoCommand } from './duo.js';
import type { CommandEnv } from './kit.js';
import { registerLookup } from './lookup.js';

/** Every listener the app registers: the slash command, then the actions, views and options of each flow. */
export function registerListeners(app: App, env: CommandEnv): void {
  registerDuoCommand(app, env);
  registerLookup(app, env);
}
