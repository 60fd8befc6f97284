import type { App, BlockAction } from '@slack/bolt';
import { z } from 'zod';
import { AppError } from '../src/errors.js';
import { actionListener, type ListenerCtx, showErrorInModal, viewListener } from '../src/slack/listener.js';
import { ensureAllowed } from '../src/usecases/access.js';
import { prepareEnrollment, sendEnrollment } from '../src/usecases/enrollment.js';
import { parseUserQuery } from '../src/usecases/lookup.js';
import { changeStatus, prepareStatusChange, SETTABLE, type StatusFlow } from '../src/usecases/status.js';
import { workingModal } from '../views/common.js';
import { ACTIONS, BLOCKS, inputActionId, SLASH_COMMAND, VIEWS } from '../views/ids.js';
import {
  enrollDoneModal,
  enrollModal,
  type StatusModalMeta,
  statusDoneModal,
  statusModal,
  statusWorkingText,
  unlockModal,
} from '../views/status.js';
import { userCard } from '../views/user-card.js';
import { type CommandEnv, parsePrivateMetadata, type SubcommandHandler } from './kit.js';

/**
 * `/duo unlock|status|enroll <user>` and the card's Unlock / Change status / Send enrollment email
 * buttons: a working modal opens at once (the trigger lives 3 s), then shows the form when Duo
 * answers. Submits re-check everything in the use case; Duo errors end in an error view, never a spinner.
 */
type Flow = StatusFlow | 'enroll';

const FLOWS = {
  unlock: { title: 'Unlock user', entry: 'user.unlock', usage: 'unlock bob' },
  status: { title: 'Change status', entry: 'user.set_status', usage: 'status carol' },
  enroll: { title: 'Send enrollment email', entry: 'user.enroll', usage: 'enroll frank' },
} as const;

const DUO_USER_ID = z.string().regex(/^DU[A-Z0-9]{10,30}$/);
const metaSchema = z.object({ duoUserId: DUO_USER_ID, channelId: z.string().regex(/^[A-Z0-9]{0,30}$/) }).strict();
const buttonSchema = z.object({ value: DUO_USER_ID });
const stateSchema = z.record(
  z.string(),
  z.record(
    z.string(),
    z.object({ value: z.string().nullish(), selected_option: z.object({ value: z.string() }).nullish() }),
  ),
);

const parseMeta = (raw: string): StatusModalMeta =>
  parsePrivateMetadata(metaSchema, raw, 'Open it again from the user card.');

function formValues(values: unknown) {
  const state = stateSchema.safeParse(values);
  const entry = (block: string) => (state.success ? state.data[block]?.[inputActionId(block)] : undefined);
  return {
    reason: entry(BLOCKS.reason)?.value ?? '',
    ticket: entry(BLOCKS.ticket)?.value ?? null,
    totp: entry(BLOCKS.totp)?.value ?? null,
    status: z.enum(SETTABLE).safeParse(entry(BLOCKS.status)?.selected_option?.value),
  };
}

/** Opens the working modal, then fills it with the form, or with the error if Duo or a check refuses. */
async function openFlow(
  c: ListenerCtx,
  { deps, notifier }: CommandEnv,
  flow: Flow,
  ref: string,
  triggerId: string,
  channelId: string,
): Promise<void> {
  const view = await notifier.openView(
    triggerId,
    workingModal(FLOWS[flow].title, 'Reading the user from Duo…', VIEWS.working),
  );
  const where = { duoUserId: '', channelId };
  try {
    const next =
      flow === 'enroll'
        ? await prepareEnrollment(deps, c.em, c.caller, ref).then((m) =>
            enrollModal(m, { ...where, duoUserId: m.duoUserId }),
          )
        : await prepareStatusChange(deps, c.em, c.caller, ref, flow).then((m) =>
            (flow === 'unlock' ? unlockModal : statusModal)(m, { ...where, duoUserId: m.user.user_id }),
          );
    await notifier.updateView(view.id, next);
  } catch (err) {
    await showErrorInModal(deps, notifier, c, view.id, err, `${flow} modal`);
  }
}

function subcommand(flow: Flow): SubcommandHandler {
  return async (c, { ack, command }, rest, env) => {
    if (!rest)
      throw new AppError('INVALID_INPUT', 'no user given', {
        userMessage: `Say which Duo user, e.g. \`${SLASH_COMMAND} ${FLOWS[flow].usage}\`.`,
      });
    const ref = parseUserQuery(rest);
    const target =
      flow === 'enroll' ? undefined : ({ kind: 'status', toStatus: 'active', directorySynced: false } as const);
    await ensureAllowed(env.deps, c.em, c.caller, FLOWS[flow].entry, target);
    await ack();
    await openFlow(c, env, flow, ref, command.trigger_id, command.channel_id);
  };
}

export const unlock = subcommand('unlock');
export const status = subcommand('status');
export const enroll = subcommand('enroll');

/** Rendering after Duo already changed: a Slack hiccup here must not read as a failed change. */
async function quietly(c: ListenerCtx, what: string, fn: () => Promise<unknown>): Promise<void> {
  await fn().catch((e) => c.logger.warn(`could not ${what}`, { err: e }));
}

export function registerStatus(app: App, env: CommandEnv): void {
  const { deps, notifier } = env;
  const working = (flow: Flow) => workingModal(FLOWS[flow].title, statusWorkingText(flow), VIEWS.working);

  for (const [actionId, flow] of [
    [ACTIONS.cardUnlock, 'unlock'],
    [ACTIONS.cardStatus, 'status'],
    [ACTIONS.cardEnroll, 'enroll'],
  ] as const) {
    app.action<BlockAction>(
      actionId,
      actionListener(deps, async (c, { action, body }) => {
        const { value } = buttonSchema.parse(action);
        const channelId = body.channel?.id ?? body.container?.channel_id ?? '';
        const target =
          flow === 'enroll' ? undefined : ({ kind: 'status', toStatus: 'active', directorySynced: false } as const);
        await ensureAllowed(deps, c.em, c.caller, FLOWS[flow].entry, target);
        await openFlow(c, env, flow, value, body.trigger_id, channelId);
      }),
    );
  }

  for (const flow of ['unlock', 'status'] as const) {
    app.view(
      flow === 'unlock' ? VIEWS.unlock : VIEWS.status,
      viewListener(deps, async (c, { ack, view }) => {
        const where = parseMeta(view.private_metadata);
        const form = formValues(view.state.values);
        if (flow === 'status' && !form.status.success) {
          await ack({ response_action: 'errors', errors: { [BLOCKS.status]: 'Pick a status.' } });
          return;
        }
        const to = flow === 'unlock' ? 'active' : form.status.data!;
        const result = await changeStatus(
          deps,
          c.em,
          c.caller,
          { flow, duoUserId: where.duoUserId, to, reason: form.reason, ticket: form.ticket, totp: form.totp },
          { accepted: () => ack({ response_action: 'update', view: working(flow) as never }) },
        );
        await quietly(c, 'show the result', () => notifier.updateView(view.id, statusDoneModal(result)));
        if (result.card) {
          const card = result.card;
          await quietly(c, 'send the card', () => notifier.tellPrivately(c.userId, where.channelId, userCard(card)));
        }
      }),
    );
  }

  app.view(
    VIEWS.enroll,
    viewListener(deps, async (c, { ack, view }) => {
      const where = parseMeta(view.private_metadata);
      const form = formValues(view.state.values);
      const result = await sendEnrollment(
        deps,
        c.em,
        c.caller,
        { duoUserId: where.duoUserId, ticket: form.ticket },
        { accepted: () => ack({ response_action: 'update', view: working('enroll') as never }) },
      );
      await quietly(c, 'show the result', () => notifier.updateView(view.id, enrollDoneModal(result)));
    }),
  );
}
