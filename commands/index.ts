import type { App } from '@slack/bolt';
import { registerAudit } from './audit.js';
import { registerBypass } from './bypass.js';
import { registerCodes } from './codes.js';
import { registerDuoCommand } from './duo.js';
import type { CommandEnv } from './kit.js';
import { registerLookup } from './lookup.js';
import { registerMfa } from './mfa.js';
import { registerRoles } from './roles.js';
import { registerStatus } from './status.js';
import { registerVerify } from './verify.js';

/** Every listener the app registers: the slash command, then the actions, views and options of each flow. */
export function registerListeners(app: App, env: CommandEnv): void {
  registerDuoCommand(app, env);
  registerLookup(app, env);
  registerBypass(app, env);
  registerCodes(app, env);
  registerMfa(app, env);
  registerRoles(app, env);
  registerAudit(app, env);
  registerStatus(app, env);
  registerVerify(app, env);
}
