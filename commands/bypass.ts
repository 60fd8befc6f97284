import type { App } from '@slack/bolt';
import { z } from 'zod';
import { DuoUserIdSchema } from '../src/domain/duo-objects.js';
import { fail } from '../src/errors.js';
import { slackBypassNotices } from '../src/slack/bypass-jobs.js';
import { describeError, errorField } from '../src/slack/error-translator.js';
import { actionListener, type ListenerCtx, showErrorInModal, viewListener } from '../src/slack/listener.js';
import { prepareBypassRequest, submitBypassRequest } from '../src/usecases/bypass.js';
import {
  approveBypassRequest,
  cancelBypassRequest,
  denyBypassRequest,
  prepareDecision,
} from '../src/usecases/bypass-approval.js';
import { parseUserQuery } from '../src/usecases/lookup.js';
import {
  BYPASS_FORM_TITLE,
  bypassRequestModal,
  bypassSubmittedModal,
  bypassWorkingText,
  PICK_PARAMS_ERROR,
  requesterMessage,
  TOTP_FORMAT_ERROR,
} from '../views/bypass.js';
import {
  approveModal,
  approveResultModal,
  approveRetryModal,
  decisionWorkingModal,
  denyModal,
  denyResultModal,
} from '../views/bypass-approval.js';
import { workingModal } from '../views/common.js';
import { ACTIONS, BLOCKS, VIEWS } from '../views/ids.js';
import {
  buttonValue,
  type CommandEnv,
  channelOf,
  type FlowCommands,
  formState,
  parsePrivateMetadata,
  quietly,
} from './kit.js';

/**
 * `/duo bypass <user>`, the card's "Request bypass codes", the approval card's Approve / Deny, and
 * the requester's Cancel. Buttons and private_metadata carry only ids; every step is decided again
 * by the use cases on the database and Duo.
 */
const REQUEST_ID = z.uuid();
const metaSchema = z.object({ duoUserId: DuoUserIdSchema, channelId: z.string().regex(/^[A-Z0-9]{0,30}$/) }).strict();
const int = z.coerce.number().int().min(0).max(1_000_000);

function readParams(values: unknown) {
  const form = formState(values);
  const pick = (block: string) => int.safeParse(form.choice(block));
  return { count: pick(BLOCKS.count), validity: pick(BLOCKS.validity), reuse: pick(BLOCKS.reuse), form };
}

function requestIdOf(raw: string): string {
  const parsed = REQUEST_ID.safeParse(raw);
  if (!parsed.success) throw fail('INVALID_INPUT', 'form.stale', { reopen: 'approval_card' });
  return parsed.data;
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

/**
 * Runs the approvals of one request on this instance one after another. Correctness does not rest on
 * it (the conditional UPDATE decides, across instances too); it keeps a burst of clicks from costing
 * a step-up check each, and the database free to let every submission be acked within Slack's 3 s.
 */
function serialByKey() {
  const tails = new Map<string, Promise<void>>();
  return async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const run = (tails.get(key) ?? Promise.resolve()).then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}

function register(app: App, env: CommandEnv): void {
  const { deps, notifier } = env;
  const notices = slackBypassNotices(notifier, deps.config.approvalChannel);
  const oneAtATime = serialByKey();

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
        notices,
        {
          duoUserId: meta.duoUserId,
          count: s.count.data,
          validSecs: s.validity.data,
          reuseCount: s.reuse.data,
          reason: s.form.text(BLOCKS.reason) ?? '',
          ticket: s.form.text(BLOCKS.ticket),
          totpCode: s.form.text(BLOCKS.totp),
          requestChannel: meta.channelId || null,
        },
        { accepted: () => ack({ response_action: 'update', view: working('recording') }) },
      );
      await quietly(c, 'show the result', () =>
        notifier.updateView(view.id, bypassSubmittedModal(result, deps.config.approvalChannel)),
      );
    }),
  );

  for (const [actionId, decision] of [
    [ACTIONS.approvalApprove, 'approve'],
    [ACTIONS.approvalDeny, 'deny'],
  ] as const) {
    app.action(
      actionId,
      actionListener(deps, async (c, { action, body }) => {
        const request = await prepareDecision(deps, c.em, c.caller, buttonValue(REQUEST_ID, action), decision);
        await notifier.openView(body.trigger_id, decision === 'approve' ? approveModal(request) : denyModal(request));
      }),
    );
  }

  // Acked at once (many approvers may click together, and Slack waits 3 s at most); a refused code
  // brings the code input back with the reason, other refusals end in an error view.
  app.view(
    VIEWS.approve,
    viewListener(deps, async (c, { ack, view }) => {
      const requestId = requestIdOf(view.private_metadata);
      const code = (formState(view.state.values).text(BLOCKS.totp) ?? '').replace(/\s+/g, '');
      if (!/^\d{6}$/.test(code)) {
        await ack({ response_action: 'errors', errors: { [BLOCKS.totp]: TOTP_FORMAT_ERROR } });
        return;
      }
      await ack({ response_action: 'update', view: decisionWorkingModal('checking') });
      try {
        const result = await oneAtATime(requestId, () =>
          approveBypassRequest(deps, c.em, c.caller, notices, { requestId, totpCode: code }),
        );
        await quietly(c, 'show the result', () => notifier.updateView(view.id, approveResultModal(result)));
      } catch (err) {
        if (errorField(err) !== BLOCKS.totp) throw err;
        const why = describeError(err, c.correlationId).text;
        await quietly(c, 'ask for another code', () => notifier.updateView(view.id, approveRetryModal(requestId, why)));
      }
    }),
  );

  app.view(
    VIEWS.deny,
    viewListener(deps, async (c, { ack, view }) => {
      const requestId = requestIdOf(view.private_metadata);
      const request = await denyBypassRequest(
        deps,
        c.em,
        c.caller,
        notices,
        { requestId, reason: formState(view.state.values).text(BLOCKS.denyReason) ?? '' },
        { accepted: () => ack({ response_action: 'update', view: decisionWorkingModal('denied') }) },
      );
      await quietly(c, 'show the result', () => notifier.updateView(view.id, denyResultModal(request)));
    }),
  );

  app.action(
    ACTIONS.requestCancel,
    actionListener(deps, async (c, { action, respond }) => {
      const request = await cancelBypassRequest(deps, c.em, c.caller, notices, buttonValue(REQUEST_ID, action));
      await respond({ replace_original: true, ...requesterMessage(request, { kind: 'cancelled' }) });
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
