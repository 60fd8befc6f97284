import type { App } from '@slack/bolt';
import { z } from 'zod';
import type { CardFlow, FlowName } from '../src/domain/flows.js';
import { fail } from '../src/errors.js';
import type { ActionArgs, CommandArgs, ListenerCtx } from '../src/slack/listener.js';
import type { Notifier } from '../src/slack/notifier.js';
import type { ApprovalNotices } from '../src/usecases/approval-model.js';
import type { Deps } from '../src/usecases/deps.js';
import { inputActionId } from '../views/ids.js';

declare module '../src/errors.js' {
  interface Problems {
    'command.invalid_text': NoFacts;
    'command.unknown': { sub: string };
    'command.no_user': { example: string };
    /** A form's private_metadata that does not parse: stale or tampered with. */
    'form.stale': { reopen: 'user_card' | 'bypass' | 'approval_card' | 'roles' | 'users' };
    /** A button value that does not parse: stale or tampered with. */
    'button.stale': NoFacts;
    'mfa.reset_needs_user': NoFacts;
    'mfa.unknown_option': NoFacts;
    'roles.bad_input': { issue: 'lists' | 'person' | 'role' | 'value' };
    'audit.bad_args': { issue: 'too_many' | 'format' | 'date' | 'order'; flag?: string };
  }
}

export interface CommandEnv {
  deps: Deps;
  notifier: Notifier;
  /** The approval engine's Slack side (cards, notices, one-time deliveries). */
  approvals: ApprovalNotices;
}

/**
 * The Slack half of a flow's descriptor (the core half is src/domain/flows.ts; the words are in
 * views/flows.ts). The router has checked that the caller may start the flow before `run` or `onCard`
 * is called; the flow's use case checks again on its own load.
 */
export interface FlowCommand {
  /** `/duo <flow> …`; `rest` is the text after the subcommand. */
  run: (c: ListenerCtx, args: CommandArgs, rest: string, env: CommandEnv) => Promise<void>;
  /** The flow's own buttons, forms and option loads, if any. */
  register?: (app: App, env: CommandEnv) => void;
}

/** A click on the flow's button of the user card, for the Duo user the button names. */
export type CardHandler = (c: ListenerCtx, args: ActionArgs, duoUserId: string, env: CommandEnv) => Promise<void>;

/** One command per flow; the flows the user card offers also handle their button. */
export type FlowCommands = {
  [F in FlowName]: FlowCommand & (F extends CardFlow ? { onCard: CardHandler } : unknown);
};

/** The channel a block action came from (the card's channel), for answers that belong there. */
export const channelOf = (body: ActionArgs['body']): string => body.channel?.id ?? body.container?.channel_id ?? '';

/** Rendering after the state already changed: a Slack hiccup here must not read as a failed change. */
export async function quietly(c: ListenerCtx, what: string, fn: () => Promise<unknown>): Promise<void> {
  await fn().catch((e) => c.logger.warn(`could not ${what}`, { err: e }));
}

/**
 * A modal's private_metadata, parsed with its schema. It is a reference Slack hands back (the user can
 * alter it), so anything that does not parse is refused; the use case authorizes whatever it names.
 */
export function parsePrivateMetadata<T>(
  schema: z.ZodType<T>,
  raw: string,
  reopen: 'user_card' | 'bypass' | 'approval_card' | 'roles' | 'users',
): T {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    json = undefined;
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw fail('INVALID_INPUT', 'form.stale', { reopen });
  return parsed.data;
}

/**
 * A button's value, parsed with its schema. Like private_metadata it is a reference the user can
 * alter: anything that does not parse is refused.
 */
export function buttonValue<T>(schema: z.ZodType<T>, action: unknown): T {
  const parsed = z.object({ value: schema }).safeParse(action);
  if (!parsed.success) throw fail('INVALID_INPUT', 'button.stale', {});
  return parsed.data.value;
}

const stateSchema = z.record(
  z.string(),
  z.record(
    z.string(),
    z.looseObject({
      value: z.string().nullish(),
      selected_option: z.object({ value: z.string() }).nullish(),
      selected_options: z.array(z.object({ value: z.string() })).nullish(),
      selected_user: z.string().nullish(),
    }),
  ),
);

/**
 * A submitted form's inputs, read by block id (each input block's element uses inputActionId(block)).
 * Values are what the person typed or picked: use cases validate them.
 */
export function formState(values: unknown) {
  const state = stateSchema.safeParse(values);
  const entry = (block: string, actionId = inputActionId(block)) =>
    state.success ? state.data[block]?.[actionId] : undefined;
  return {
    text: (block: string): string | null => entry(block)?.value ?? null,
    choice: (block: string, actionId?: string): string | null => entry(block, actionId)?.selected_option?.value ?? null,
    choices: (block: string): string[] => (entry(block)?.selected_options ?? []).map((o) => o.value),
    user: (block: string): string | null => entry(block)?.selected_user ?? null,
  };
}
