import type { App } from '@slack/bolt';
import { z } from 'zod';
import { DuoUserIdSchema } from '../src/domain/duo-objects.js';
import { CARD_FLOWS, FLOW_NAMES, type FlowName } from '../src/domain/flows.js';
import { fail, isAppError } from '../src/errors.js';
import { actionListener, commandListener } from '../src/slack/listener.js';
import { startFlow } from '../src/usecases/flows.js';
import { cardActionId, SLASH_COMMAND } from '../views/ids.js';
import { auditFlow } from './audit.js';
import { bypassFlow } from './bypass.js';
import { codesFlow } from './codes.js';
import { createUserFlow } from './create-user.js';
import { deleteUsersFlow } from './delete-users.js';
import { editUserFlow } from './edit-user.js';
import { helpFlow } from './help.js';
import { buttonValue, type CommandEnv, type FlowCommands } from './kit.js';
import { lookupFlow } from './lookup.js';
import { mfaFlow } from './mfa.js';
import { restoreUserFlow } from './restore-user.js';
import { rolesFlow } from './roles.js';
import { enrollFlow, statusFlow, unlockFlow } from './status.js';
import { syncFlow } from './sync-user.js';
import { trashUserFlow } from './trash-user.js';
import { usersFlow } from './users.js';
import { verifyFlow } from './verify.js';

/**
 * Every flow's Slack half, by the core's flow names: the router (`/duo <flow> …`), the user card's
 * buttons and each flow's own listeners are all derived from this table.
 */
export const FLOW_COMMANDS: FlowCommands = {
  help: helpFlow,
  lookup: lookupFlow,
  verify: verifyFlow,
  unlock: unlockFlow,
  status: statusFlow,
  bypass: bypassFlow,
  enroll: enrollFlow,
  codes: codesFlow,
  audit: auditFlow,
  roles: rolesFlow,
  mfa: mfaFlow,
  users: usersFlow,
  sync: syncFlow,
  create: createUserFlow,
  edit: editUserFlow,
  restore: restoreUserFlow,
  trash: trashUserFlow,
  delete: deleteUsersFlow,
};

export const commandTextSchema = z
  .string()
  .max(500)
  .transform((s) => {
    const trimmed = s.trim();
    const [head = '', ...rest] = trimmed.split(/\s+/);
    return { sub: head.toLowerCase() || 'help', rest: trimmed.slice(head.length).trim(), words: rest };
  });

const isFlow = (sub: string): sub is FlowName => (FLOW_NAMES as readonly string[]).includes(sub);

export function registerFlows(app: App, env: CommandEnv): void {
  const { deps } = env;
  app.command(
    SLASH_COMMAND,
    commandListener(deps, async (c, args) => {
      const parsed = commandTextSchema.safeParse(args.command.text);
      if (!parsed.success) throw fail('INVALID_INPUT', 'command.invalid_text', {});
      const { sub, rest } = parsed.data;
      const flow = isFlow(sub) ? sub : undefined;
      // One row per command: the flow's own events, or `command.used` when it wrote none (help, a form opened,
      // a refusal or failure before its first event).
      const used = (outcome: 'success' | 'failed', problem?: string) =>
        deps.audit.record(c.em, {
          teamId: c.teamId,
          actor: { userId: c.actor.userId, role: c.actor.role },
          action: 'command.used',
          outcome,
          correlationId: c.correlationId,
          params: {
            command: SLASH_COMMAND,
            subcommand: flow ?? 'unknown',
            channel: args.command.channel_id,
            ...(problem ? { problem } : {}),
          },
        });
      if (!flow) {
        await used('failed');
        throw fail('UNKNOWN_SUBCOMMAND', 'command.unknown', { sub: sub.slice(0, 30) });
      }
      const events = deps.audit.watch(c.correlationId);
      try {
        await startFlow(deps, c.em, c.caller, flow);
        await FLOW_COMMANDS[flow].run(c, args, rest, env);
      } catch (e) {
        if (events.stop() === 0) await used('failed', isAppError(e) ? (e.problem?.name ?? e.code) : 'internal_error');
        throw e;
      }
      if (events.stop() === 0) await used('success');
    }),
  );

  for (const flow of CARD_FLOWS)
    app.action(
      cardActionId(flow),
      actionListener(deps, async (c, args) => {
        const duoUserId = buttonValue(DuoUserIdSchema, args.action);
        await startFlow(deps, c.em, c.caller, flow);
        await FLOW_COMMANDS[flow].onCard(c, args, duoUserId, env);
      }),
    );

  for (const flow of FLOW_NAMES) FLOW_COMMANDS[flow].register?.(app, env);
}
