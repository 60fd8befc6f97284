import type { App } from '@slack/bolt';
import { z } from 'zod';
import { fail } from '../src/errors.js';
import { describeError, errorField } from '../src/slack/error-translator.js';
import { actionListener, viewListener } from '../src/slack/listener.js';
import {
  approveRequest,
  cancelRequest,
  denyRequest,
  endEarly,
  prepareDecision,
} from '../src/usecases/approval-engine.js';
import {
  approveModal,
  approveResultModal,
  approveRetryModal,
  decisionWorkingModal,
  denyModal,
  denyResultModal,
  requesterMessage,
  TOTP_FORMAT_ERROR,
} from '../views/approvals.js';
import { ACTIONS, BLOCKS, VIEWS } from '../views/ids.js';
import { buttonValue, type CommandEnv, formState, quietly } from './kit.js';

/**
 * The approval card's Approve / Deny (with their modals), Cancel (the requester, or an owner for a
 * delay-scheduled change) and "End it now" (a time-boxed change), the same for every kind. Buttons
 * and private_metadata carry only the request id; the engine loads the request and the responder
 * and decides again.
 */
const REQUEST_ID = z.uuid();

function requestIdOf(raw: string): string {
  const parsed = REQUEST_ID.safeParse(raw);
  if (!parsed.success) throw fail('INVALID_INPUT', 'form.stale', { reopen: 'approval_card' });
  return parsed.data;
}

/**
 * Runs the approvals of one request on this instance one after another. Correctness does not rest on
 * it (the conditional update decides, across instances too); it keeps a burst of clicks from costing
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

export function registerApprovals(app: App, env: CommandEnv): void {
  const { deps, notifier, approvals } = env;
  const oneAtATime = serialByKey();

  for (const [actionId, decision] of [
    [ACTIONS.approvalApprove, 'approve'],
    [ACTIONS.approvalDeny, 'deny'],
  ] as const)
    app.action(
      actionId,
      actionListener(deps, async (c, { action, body }) => {
        const request = await prepareDecision(deps, c.em, c.caller, buttonValue(REQUEST_ID, action), decision);
        await notifier.openView(body.trigger_id, decision === 'approve' ? approveModal(request) : denyModal(request));
      }),
    );

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
          approveRequest(deps, c.em, c.caller, approvals, { requestId, totpCode: code }),
        );
        await quietly(c, 'show the result', () => notifier.updateView(view.id, approveResultModal(result.request)));
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
      const request = await denyRequest(
        deps,
        c.em,
        c.caller,
        approvals,
        { requestId, reason: formState(view.state.values).text(BLOCKS.denyReason) ?? '' },
        { accepted: () => ack({ response_action: 'update', view: decisionWorkingModal('denied') }) },
      );
      await quietly(c, 'show the result', () => notifier.updateView(view.id, denyResultModal(request)));
    }),
  );

  app.action(
    ACTIONS.requestCancel,
    actionListener(deps, async (c, { action, respond, body }) => {
      const request = await cancelRequest(deps, c.em, c.caller, approvals, buttonValue(REQUEST_ID, action));
      // The requester's own notice becomes the confirmation; an owner's click on the card updated the card.
      if (
        body.container?.type !== 'message' ||
        body.container.is_ephemeral ||
        !request.card ||
        body.container.message_ts !== request.card.ts
      )
        await respond({ replace_original: true, ...requesterMessage(request, { kind: 'cancelled' }) });
    }),
  );

  app.action(
    ACTIONS.approvalEnd,
    actionListener(deps, async (c, { action, respond, body }) => {
      const request = await endEarly(deps, c.em, c.caller, approvals, buttonValue(REQUEST_ID, action));
      if (!request.card || body.container?.message_ts !== request.card.ts)
        await respond({ replace_original: true, ...requesterMessage(request, { kind: 'ended' }) });
    }),
  );
}
