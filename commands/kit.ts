import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { z } from 'zod';
import { AppError } from '../src/errors.js';
import type { ListenerCtx } from '../src/slack/listener.js';
import type { Notifier } from '../src/slack/notifier.js';
import type { Deps } from '../src/usecases/deps.js';

export type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

/** What a subcommand handler gets: the request (actor enforced), Bolt's args, and the text after the subcommand. */
export type SubcommandHandler = (c: ListenerCtx, args: CommandArgs, rest: string, env: CommandEnv) => Promise<void>;

export interface CommandEnv {
  deps: Deps;
  notifier: Notifier;
}

/**
 * A modal's private_metadata, parsed with its schema. It is a reference Slack hands back (the user can
 * alter it), so anything that does not parse is refused; the use case authorizes whatever it names.
 */
export function parsePrivateMetadata<T>(schema: z.ZodType<T>, raw: string, reopen: string): T {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    json = undefined;
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new AppError('INVALID_INPUT', 'bad private_metadata', {
      userMessage: `This form is no longer valid. ${reopen}`,
    });
  return parsed.data;
}
