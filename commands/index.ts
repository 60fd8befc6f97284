import type { App } from '@slack/bolt';
import { slackApprovalNotices } from '../src/slack/approval-notices.js';
import type { Notifier } from '../src/slack/notifier.js';
import type { Deps } from '../src/usecases/deps.js';
import { registerApprovals } from './approvals.js';
import { registerDeviceHelp } from './devices.js';
import { registerFlows } from './flows.js';
import { registerHome } from './home.js';

/** Every listener the app registers; called by the composition root (src/app/runtime.ts). */
export function registerListeners(app: App, base: { deps: Deps; notifier: Notifier }): void {
  const env = { ...base, approvals: slackApprovalNotices(base.deps, base.notifier) };
  registerFlows(app, env);
  registerApprovals(app, env);
  registerDeviceHelp(app, env);
  registerHome(app, env);
}
