import type { App } from '@slack/bolt';
import { z } from 'zod';
import { DuoUserIdSchema } from '../src/domain/duo-objects.js';
import { fail } from '../src/errors.js';
import { type ListenerCtx, showErrorInModal, viewListener } from '../src/slack/listener.js';
import { prepareBypassRequest, submitBypassRequest } from '../src/usecases/bypass.js';
import { parseUserQuery } from '../src/usecases/lookup.js';
import {
  BYPASS_FORM_TITLE,
  bypassRequestModal,
  bypassSubmittedModal,
  bypassWorkingText,
  PICK_PARAMS_ERROR,
} from '../views/bypass.js';
import { workingModal } from '../views/common.js';
import { BLOCKS, VIEWS } from '../views/ids.js';
import { type CommandEnv, channelOf, type FlowCommands, formState, parsePrivateMetadata, quietly } from './kit.js';

/**
 * `/duo bypass <user>` and the card's "Request bypass codes": the form, then the request through the
 * guards and the approval engine (its card and decisions are every kind's: commands/approvals.ts).
 * private_metadata carries only ids; every step is decided again by the use cases.
 */
const metaSchema = z.object({ duoUserId: DuoUserIdSchema, channelId: z.string().regex(/^[A-Z0-9]{0,30}$/) }).strict();
const int = z.coerce.number().int().min(0).max(1_000_000);

function readParams(values: unknown) {
  const form = formState(values);
  const pick = (block: string) => int.safeParse(form.choice(block));
  return { count: pick(BLOCKS.count), validity: pick(BLOCKS.validity), reuse: pick(BLOCKS.reuse), form };
}

const parseMeta = (raw: string) => parsePrivateMetadata(metaSchema, raw, 'bypass');
const working = (what: Parameters<typeof bypassWorkingText>[0]) =>
  workingModal(BYPASS_FORM_TITLE, bypassWorkingText(what), VIEWS.working);

/** Opens a working modal at once (the trigger lives 3 s), then the form or the reason there is none. */
async function openForm(c: ListenerCtx, { deps, notifier }: CommandEnv, ref: string, trigger: string, channel: string) {
  const view = await notifier.openView(trigger, working('reading'));
  try {
    const model = await prepareBypassRequest(deps, c.em, c.caller, ref);
    await notifier.updateView(
      view.id,
      bypassRequestModal(model, { duoUserId: model.user.user_id, channelId: channel }),
    );
  } catch (err) {
    await showErrorInModal(deps, notifier, c, view.id, err, 'bypass form');
  }
}

function register(app: App, env: CommandEnv): void {
  const { deps, notifier, approvals } = env;

  app.view(
    VIEWS.bypass,
    viewListener(deps, async (c, { ack, view }) => {
      const meta = parseMeta(view.private_metadata);
      const s = readParams(view.state.values);
      if (!s.count.success || !s.validity.success || !s.reuse.success) {
        await ack({ response_action: 'errors', errors: { [BLOCKS.count]: PICK_PARAMS_ERROR } });
        return;
      }
      const result = await submitBypassRequest(
        deps,
        c.em,
        c.caller,
        approvals,
        {
          duoUserId: meta.duoUserId,
          count: s.count.data,
          validSecs: s.validity.data,
          reuseCount: s.reuse.data,
          reason: s.form.text(BLOCKS.reason) ?? '',
          ticket: s.form.text(BLOCKS.ticket),
          totpCode: s.form.text(BLOCKS.totp),
          requestChannel: meta.channelId || null,
          formViewId: view.id,
        },
        { accepted: () => ack({ response_action: 'update', view: working('recording') }) },
      );
      // Codes that needed no approval are in the form already: leave them there.
      if (result.via !== 'modal')
        await quietly(c, 'show the result', () =>
          notifier.updateView(view.id, bypassSubmittedModal(result, deps.config.approvalChannel)),
        );
    }),
  );
}

export const bypassFlow: FlowCommands['bypass'] = {
  async run(c, { ack, command }, rest, env) {
    if (!rest) throw fail('INVALID_INPUT', 'command.no_user', { example: 'bypass alice' });
    const ref = parseUserQuery(rest);
    await ack();
    await openForm(c, env, ref, command.trigger_id, command.channel_id);
  },
  async onCard(c, { body }, duoUserId, env) {
    await openForm(c, env, duoUserId, body.trigger_id, channelOf(body));
  },
  register,
};
