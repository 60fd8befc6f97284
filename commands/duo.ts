import type { App } from '@slack/bolt';
import { z } from 'zod';
import { AppError } from '../src/errors.js';
import { commandListener } from '../src/slack/listener.js';
import { SLASH_COMMAND } from '../views/ids.js';
import { audit } from './audit.js';
import { bypass } from './bypass.js';
import { codes } from './codes.js';
import { help } from './help.js';
import type { CommandEnv, SubcommandHandler } from './kit.js';
import { lookup } from './lookup.js';
import { mfa } from './mfa.js';
import { roles } from './roles.js';
import { enroll, status, unlock } from './status.js';
import { verify } from './verify.js';

/**
 * `/duo <subcommand> …`: one listener that parses the text and hands the rest to the subcommand.
 * Every subcommand is listed here (views/help.ts describes them; src/usecases/help.ts gates them).
 */
export const SUBCOMMANDS: Record<string, SubcommandHandler> = {
  help,
  lookup,
  bypass,
  codes,
  mfa,
  roles,
  audit,
  unlock,
  status,
  enroll,
  verify,
};

export const commandTextSchema = z
  .string()
  .max(500, 'That command is too long.')
  .transform((s) => {
    const trimmed = s.trim();
    const [head = '', ...rest] = trimmed.split(/\s+/);
    return { sub: head.toLowerCase() || 'help', rest: trimmed.slice(head.length).trim(), words: rest };
  });

export function registerDuoCommand(app: App, env: CommandEnv): void {
  app.command(
    SLASH_COMMAND,
    commandListener(env.deps, async (c, args) => {
      const parsed = commandTextSchema.safeParse(args.command.text);
      if (!parsed.success)
        throw new AppError('INVALID_INPUT', 'command text invalid', {
          userMessage: parsed.error.issues[0]?.message ?? 'Invalid command.',
        });
      const { sub, rest } = parsed.data;
      const handler = Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined;
      await env.deps.audit.record(c.em, {
        teamId: c.teamId,
        actor: { userId: c.actor.userId, role: c.actor.role },
        action: 'command.used',
        outcome: handler ? 'success' : 'failed',
        correlationId: c.correlationId,
        params: { command: SLASH_COMMAND, subcommand: handler ? sub : 'unknown', channel: args.command.channel_id },
      });
      if (!handler)
        throw new AppError('UNKNOWN_SUBCOMMAND', `unknown subcommand ${sub}`, {
          userMessage: `I don't know \`${SLASH_COMMAND} ${sub.slice(0, 30)}\`. Try \`${SLASH_COMMAND} help\` for what you can do.`,
        });
      await handler(c, args, rest, env);
    }),
  );
}
