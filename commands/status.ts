import { z } from 'zod';
import { DuoUserIdSchema, SETTABLE_STATUSES } from '../src/domain/duo-objects.js';
import { fail } from '../src/errors.js';
import { type ListenerCtx, showErrorInModal, viewListener } from '../src/slack/listener.js';
import { prepareEnrollment, sendEnrollment } from '../src/usecases/enrollment.js';
import { parseUserQuery } from '../src/usecases/lookup.js';
import { changeStatus, prepareStatusChange, type StatusFlow } from '../src/usecases/status.js';
import { workingModal } from '../views/common.js';
import { BLOCKS, VIEWS } from '../views/ids.js';
import {
  enrollDoneModal,
  enrollModal,
  PICK_STATUS_ERROR,
  STATUS_FLOW_TEXT,
  type StatusModalMeta,
  statusDoneModal,
  statusModal,
  statusWorkingText,
  unlockModal,
} from '../views/status.js';
import { userCard } from '../views/user-card.js';
import { type CommandEnv, channelOf, type FlowCommands, formState, parsePrivateMetadata, quietly } from './kit.js';

/**
 * `/duo unlock|status|enroll <user>` and the card's Unlock / Change status / Send enrollment email
 * buttons: a working modal opens at once (the trigger lives 3 s), then shows the form when Duo
 * answers. Submits re-check everything in the use case; Duo errors end in an error view, never a spinner.
 */
type Flow = StatusFlow | 'enroll';

const metaSchema = z.object({ duoUserId: DuoUserIdSchema, channelId: z.string().regex(/^[A-Z0-9]{0,30}$/) }).strict();
const parseMeta = (raw: string): StatusModalMeta => parsePrivateMetadata(metaSchema, raw, 'user_card');
const working = (flow: Flow, what = statusWorkingText(flow)) =>
  workingModal(STATUS_FLOW_TEXT[flow].title, what, VIEWS.working);

/** Opens the working modal, then fills it with the form, or with the error if Duo or a check refuses. */
async function openFlow(c: ListenerCtx, env: CommandEnv, flow: Flow, ref: string, trigger: string, channel: string) {
  const { deps, notifier } = env;
  const view = await notifier.openView(trigger, working(flow, STATUS_FLOW_TEXT[flow].reading));
  try {
    const next =
      flow === 'enroll'
        ? await prepareEnrollment(deps, c.em, c.caller, ref).then((m) =>
            enrollModal(m, { duoUserId: m.duoUserId, channelId: channel }),
          )
        : await prepareStatusChange(deps, c.em, c.caller, ref, flow).then((m) =>
            (flow === 'unlock' ? unlockModal : statusModal)(m, { duoUserId: m.user.user_id, channelId: channel }),
          );
    await notifier.updateView(view.id, next);
  } catch (err) {
    await showErrorInModal(deps, notifier, c, view.id, err, `${flow} modal`);
  }
}

function flowCommand<F extends Flow>(flow: F): Pick<FlowCommands[F], 'run' | 'onCard'> {
  return {
    async run(c, { ack, command }, rest, env) {
      if (!rest) throw fail('INVALID_INPUT', 'command.no_user', { example: STATUS_FLOW_TEXT[flow].example });
      const ref = parseUserQuery(rest);
      await ack();
      await openFlow(c, env, flow, ref, command.trigger_id, command.channel_id);
    },
    async onCard(c, { body }, duoUserId, env) {
      await openFlow(c, env, flow, duoUserId, body.trigger_id, channelOf(body));
    },
  };
}

function registerStatusForm(flow: StatusFlow): FlowCommands[StatusFlow]['register'] {
  return (app, { deps, notifier }) =>
    app.view(
      flow === 'unlock' ? VIEWS.unlock : VIEWS.status,
      viewListener(deps, async (c, { ack, view }) => {
        const where = parseMeta(view.private_metadata);
        const form = formState(view.state.values);
        const picked = z.enum(SETTABLE_STATUSES).safeParse(form.choice(BLOCKS.status));
        if (flow === 'status' && !picked.success) {
          await ack({ response_action: 'errors', errors: { [BLOCKS.status]: PICK_STATUS_ERROR } });
          return;
        }
        const result = await changeStatus(
          deps,
          c.em,
          c.caller,
          {
            flow,
            duoUserId: where.duoUserId,
            to: flow === 'unlock' ? 'active' : picked.data!,
            reason: form.text(BLOCKS.reason) ?? '',
            ticket: form.text(BLOCKS.ticket),
            totp: form.text(BLOCKS.totp),
          },
          { accepted: () => ack({ response_action: 'update', view: working(flow) }) },
        );
        await quietly(c, 'show the result', () => notifier.updateView(view.id, statusDoneModal(result)));
        const card = result.card;
        if (card)
          await quietly(c, 'send the card', () => notifier.tellPrivately(c.userId, where.channelId, userCard(card)));
      }),
    );
}

export const unlockFlow: FlowCommands['unlock'] = { ...flowCommand('unlock'), register: registerStatusForm('unlock') };
export const statusFlow: FlowCommands['status'] = { ...flowCommand('status'), register: registerStatusForm('status') };
export const enrollFlow: FlowCommands['enroll'] = {
  ...flowCommand('enroll'),
  register(app, { deps, notifier }) {
    app.view(
      VIEWS.enroll,
      viewListener(deps, async (c, { ack, view }) => {
        const where = parseMeta(view.private_metadata);
        const result = await sendEnrollment(
          deps,
          c.em,
          c.caller,
          { duoUserId: where.duoUserId, ticket: formState(view.state.values).text(BLOCKS.ticket) },
          { accepted: () => ack({ response_action: 'update', view: working('enroll') }) },
        );
        await quietly(c, 'show the result', () => notifier.updateView(view.id, enrollDoneModal(result)));
      }),
    );
  },
};
