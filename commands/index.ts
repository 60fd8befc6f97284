import type { App } from '@slack/bolt';
import { registerFlows } from './flows.js';
import type { CommandEnv } from './kit.js';

/** Every listener the app registers; called by the composition root (src/app/runtime.ts). */
export function registerListeners(app: App, env: CommandEnv): void {
  registerFlows(app, env);
}
