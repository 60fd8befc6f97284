import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
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
