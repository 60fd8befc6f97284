import type { App, BlockAction } from '@slack/bolt';
import { z } from 'zod';
import { DEFAULT_BYPASS_PARAMS } from '../src/domain/bypass-policy.js';
import { AppError } from '../src/errors.js';
import { slackBypassNotices } from '../src/slack/bypass-jobs.js';
import { describeError, errorField } from '../src/slack/error-translator.js';
import { actionListener, type ListenerCtx, showErrorInModal, viewListener } from '../src/slack/listener.js';
import { ensureAllowed } from '../src/usecases/access.js';
import { prepareBypassRequest, submitBypassRequest } from '../src/usecases/bypass.js';
import {
  approveBypassRequest,
  cancelBypassRequest,
  denyBypassRequest,
  prepareDecision,
} from '../src/usecases/bypass-approval.js';
import { parseUserQuery } from '../src/usecases/lookup.js';
import { bypassRequestModal, bypassSubmittedModal, requesterMessage } from '../views/bypass.js';
import {
  approveModal,
  approveResultModal,
  approveRetryModal,
  decisionWorkingModal,
  denyModal,
  denyResultModal,
} from '../views/bypass-approval.js';
import { workingModal } from '../views/common.js';
import { ACTIONS, BLOCKS, inputActionId, SLASH_COMMAND, VIEWS } from '../views/ids.js';
import { type CommandEnv, parsePrivateMetadata, type SubcommandHandler } from './kit.js';

/**
 * `/duo bypass <user>`, the card's "Request bypass codes", the approval card's Approve / Deny, and
 * the requester's Cancel. Buttons and private_metadata carry only ids; every step is decided again
 * by the use cases on the database and Duo.
 */
const DUO_USER_ID = z.string().regex(/^DU[A-Z0-9]{10,30}$/);
const REQUEST_ID = z.string().uuid();
const metaSchema = z.object({ duoUserId: DUO_USER_ID, channelId: z.string().regex(/^[A-Z0-9]{0,30}$/) }).strict();
const buttonValue = <T>(schema: z.ZodType<T>, action: unknown): T => {
  const parsed = z.object({ value: schema }).safeParse(action);
  if (!parsed.success)
    throw new AppError('INVALID_INPUT', 'bad button value', { userMessage: 'That button is no longer valid.' });
  return parsed.data.value;
};
const stateSchema = z.record(
  z.string(),
  z.record(
    z.string(),
    z.object({ value: z.string().nullish(), selected_option: z.object({ value: z.string() }).nullish() }),
  ),
);
const int = z.coerce.number().int().min(0).max(1_000_000);

function readState(values: unknown) {
  const state = stateSchema.safeParse(values);
  const entry = (block: string) => (state.success ? state.data[block]?.[inputActionId(block)] : undefined);
  const pick = (block: string) => int.safeParse(entry(block)?.selected_option?.value);
  return {
    count: pick(BLOCKS.count),
    validity: pick(BLOCKS.validity),
    reuse: pick(BLOCKS.reuse),
    text: (block: string) => entry(block)?.value ?? null,
  };
}

function requestIdOf(raw: string): string {
  const parsed = REQUEST_ID.safeParse(raw);
  if (!parsed.success)
    throw new AppError('INVALID_INPUT', 'bad private_metadata', {
      userMessage: 'This form is no longer valid. Open it again from the approval card.',
    });
  return parsed.data;
}

const parseMeta = (raw: string) =>
  parsePrivateMetadata(metaSchema, raw, 'Open it again from the user card or `/duo bypass <user>`.');

/** Opens a working modal at once (the trigger lives 3 s), then the form or the reason there is none. */
async function openForm(c: ListenerCtx, { deps, notifier }: CommandEnv, ref: string, trigger: string, channel: string) {
  const view = await notifier.openView(
    trigger,
    workingModal('Request bypass codes', 'Reading the user from Duo…', VIEWS.working),
  );
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

const entry = { kind: 'bypass', params: DEFAULT_BYPASS_PARAMS } as const;

export const bypass: SubcommandHandler = async (c, { ack, command }, rest, env) => {
  if (!rest)
    throw new AppError('INVALID_INPUT', 'no user given', {
      userMessage: `Say which Duo user, e.g. \`${SLASH_COMMAND} bypass alice\`.`,
    });
  const ref = parseUserQuery(rest);
  await ensureAllowed(env.deps, c.em, c.caller, 'bypass.request', entry);
  await ack();
  await openForm(c, env, ref, command.trigger_id, command.channel_id);
};

/** Rendering after the state already changed: a Slack hiccup here must not read as a failure. */
const quietly = (c: ListenerCtx, what: string, fn: () => Promise<unknown>) =>
  fn().then(
    () => undefined,
    (e) => c.logger.warn(`could not ${what}`, { err: e }),
  );

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

export function registerBypass(app: App, env: CommandEnv): void {
  const { deps, notifier } = env;
  const notices = slackBypassNotices(notifier, deps.config.approvalChannel);
  const oneAtATime = serialByKey();

  app.action<BlockAction>(
    ACTIONS.cardBypass,
    actionListener(deps, async (c, { action, body }) => {
      const duoUserId = buttonValue(DUO_USER_ID, action);
      await ensureAllowed(deps, c.em, c.caller, 'bypass.request', entry);
      await openForm(c, env, duoUserId, body.trigger_id, body.channel?.id ?? body.container?.channel_id ?? '');
    }),
  );

  app.view(
    VIEWS.bypass,
    viewListener(deps, async (c, { ack, view }) => {
      const meta = parseMeta(view.private_metadata);
      const s = readState(view.state.values);
      if (!s.count.success || !s.validity.success || !s.reuse.success) {
        await ack({ response_action: 'errors', errors: { [BLOCKS.count]: 'Pick the number, validity and uses.' } });
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
          reason: s.text(BLOCKS.reason) ?? '',
          ticket: s.text(BLOCKS.ticket),
          totpCode: s.text(BLOCKS.totp),
          requestChannel: meta.channelId || null,
        },
        {
          accepted: () =>
            ack({
              response_action: 'update',
              view: workingModal('Request bypass codes', 'Recording your request…', VIEWS.working) as never,
            }),
        },
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
    app.action<BlockAction>(
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
      const code = (readState(view.state.values).text(BLOCKS.totp) ?? '').replace(/\s+/g, '');
      if (!/^\d{6}$/.test(code)) {
        await ack({ response_action: 'errors', errors: { [BLOCKS.totp]: 'Enter the 6-digit code from your app.' } });
        return;
      }
      await ack({ response_action: 'update', view: decisionWorkingModal('Checking your code…') as never });
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
        { requestId, reason: readState(view.state.values).text(BLOCKS.denyReason) ?? '' },
        {
          accepted: () =>
            ack({ response_action: 'update', view: decisionWorkingModal('Denied. Telling the requester…') as never }),
        },
      );
      await quietly(c, 'show the result', () => notifier.updateView(view.id, denyResultModal(request)));
    }),
  );

  app.action<BlockAction>(
    ACTIONS.requestCancel,
    actionListener(deps, async (c, { action, respond }) => {
      const request = await cancelBypassRequest(deps, c.em, c.caller, notices, buttonValue(REQUEST_ID, action));
      await respond({ replace_original: true, ...requesterMessage(request, { kind: 'cancelled' }) } as never);
    }),
  );
}
