import type {
  AllMiddlewareArgs,
  BlockAction,
  SlackActionMiddlewareArgs,
  SlackCommandMiddlewareArgs,
  SlackOptionsMiddlewareArgs,
  SlackViewMiddlewareArgs,
  ViewClosedAction,
  ViewSubmitAction,
} from '@slack/bolt';
import { errorModal } from '../../views/common.js';
import { FLOW_NAMES } from '../domain/flows.js';
import type { Actor } from '../domain/roles.js';
import { isDuoError } from '../duo/errors.js';
import { AppError, problemOf } from '../errors.js';
import type { Caller, Deps } from '../usecases/deps.js';
import { recordOutsiderRefusal, recordTampering } from '../usecases/refusals.js';
import { describeError, errorField } from './error-translator.js';
import type { Notifier } from './notifier.js';
import { getRequestContext, type RequestContext } from './request-context.js';

/**
 * Wrappers that give every listener the same shape: ack (tracked), the request context with an
 * enforced actor, one use case, render; any error goes through the one translator to the right
 * surface (ephemeral reply, modal error, pushed error view), and unknown errors are logged with
 * their correlation id.
 */
export interface ListenerCtx extends RequestContext {
  actor: Actor;
  caller: Caller;
}

export type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;
export type ActionArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;
export type ViewArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;
export type ViewClosedArgs = SlackViewMiddlewareArgs<ViewClosedAction> & AllMiddlewareArgs;
export type OptionsArgs = SlackOptionsMiddlewareArgs<'block_suggestion'> & AllMiddlewareArgs;

/**
 * Times one request for the metrics: the listener is named from closed sets only (a flow name, an action or
 * callback id the app defines, else 'other'), the outcome from how it ended.
 */
function measure(deps: Deps, listener: string): (outcome: 'ok' | 'refused' | 'error') => void {
  const started = performance.now();
  return (outcome) => deps.metrics?.request(listener, outcome, (performance.now() - started) / 1000);
}

const FLOWS = new Set<string>(FLOW_NAMES);
function commandLabel(text: string): string {
  const word = text.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  return `command:${word === '' ? 'help' : FLOWS.has(word) ? word : 'other'}`;
}

function enforce(deps: Deps, rc: RequestContext): Promise<ListenerCtx> {
  const caller: Caller = { teamId: rc.teamId, userId: rc.userId, correlationId: rc.correlationId };
  const r = rc.resolution;
  if (r.kind === 'responder') return Promise.resolve({ ...rc, actor: r.actor, caller });
  const denial = async (code: 'NOT_A_RESPONDER' | 'FOREIGN_TEAM', why: string): Promise<never> => {
    await recordOutsiderRefusal(deps, rc.em, caller, why);
    throw new AppError(code, why);
  };
  return r.kind === 'foreign_team'
    ? denial('FOREIGN_TEAM', `user from another team (${r.userTeamId})`)
    : denial('NOT_A_RESPONDER', 'not a responder');
}

/** Bolt's args with an ack that remembers it was called (a listener may ack with a payload itself). */
function withTrackedAck<A extends { ack: (r?: never) => Promise<void> }>(
  args: A,
): { tracked: A; acked: () => boolean } {
  let acked = false;
  const ack = args.ack;
  const tracked = Object.assign({}, args, {
    ack: async (r?: never) => {
      acked = true;
      await ack(r);
    },
  });
  return { tracked, acked: () => acked };
}

/**
 * Logs what went wrong (unknown errors with their detail, known ones by code) and records Duo errors in
 * the audit trail, so a failed attempt is never missing from it (mutations also have their own
 * intent and outcome rows).
 */
async function noteFailure(deps: Deps, rc: RequestContext, err: unknown, where: string) {
  const d = describeError(err, rc.correlationId);
  if (d.known) rc.logger.info(`${where}: ${d.code}`, { code: d.code });
  else rc.logger.error(`${where} failed`, { err });
  const stale = problemOf(err, 'form.stale') ? 'form' : problemOf(err, 'button.stale') ? 'button' : null;
  if (stale)
    await recordTampering(
      deps,
      rc.em,
      { teamId: rc.teamId, userId: rc.userId, correlationId: rc.correlationId },
      rc.resolution.kind === 'responder' ? rc.resolution.actor.role : null,
      { surface: stale, where },
    ).catch((e) => rc.logger.warn('could not audit a tampered request', { err: e }));
  if (isDuoError(err))
    await deps.audit
      .record(rc.em, {
        teamId: rc.teamId,
        actor: { userId: rc.userId, role: rc.resolution.kind === 'responder' ? rc.resolution.actor.role : null },
        action: 'duo.error',
        outcome: 'failed',
        duoRef: err.code,
        correlationId: rc.correlationId,
        params: { during: where.slice(0, 100), httpStatus: err.httpStatus ?? null, outcomeUnknown: err.outcomeUnknown },
      })
      .catch((e) => rc.logger.warn('could not audit a Duo error', { err: e }));
  return d;
}

/**
 * For flows that open a working modal first and fill it when Duo answers: an error goes into that
 * modal (never left spinning), through the same translator, log and audit as every listener error.
 */
export async function showErrorInModal(
  deps: Deps,
  notifier: Notifier,
  c: ListenerCtx,
  viewId: string,
  err: unknown,
  where: string,
): Promise<void> {
  const d = await noteFailure(deps, c, err, where);
  await notifier
    .updateView(viewId, errorModal(d.text))
    .catch((e) => c.logger.warn('could not show an error view', { err: e }));
}

export function commandListener(deps: Deps, fn: (c: ListenerCtx, args: CommandArgs) => Promise<void>) {
  return async (args: CommandArgs) => {
    const rc = getRequestContext(args.context);
    const { tracked, acked } = withTrackedAck(args);
    const done = measure(deps, commandLabel(args.command.text));
    try {
      const c = await enforce(deps, rc);
      await fn(c, tracked);
      if (!acked()) await args.ack();
      done('ok');
    } catch (err) {
      const d = await noteFailure(deps, rc, err, `command ${args.command.text.split(/\s+/)[0] ?? ''}`);
      done(d.known ? 'refused' : 'error');
      if (!acked()) await args.ack({ response_type: 'ephemeral', text: d.text });
      else await args.respond({ response_type: 'ephemeral', replace_original: false, text: d.text }).catch(() => {});
    }
  };
}

export function actionListener(deps: Deps, fn: (c: ListenerCtx, args: ActionArgs) => Promise<void>) {
  return async (args: ActionArgs) => {
    const rc = getRequestContext(args.context);
    await args.ack();
    const done = measure(deps, `action:${args.action.action_id}`);
    try {
      const c = await enforce(deps, rc);
      await fn(c, args);
      done('ok');
    } catch (err) {
      const d = await noteFailure(deps, rc, err, `action ${args.action.action_id}`);
      done(d.known ? 'refused' : 'error');
      try {
        if (args.body.view && args.body.trigger_id)
          await args.client.views.push({ trigger_id: args.body.trigger_id, view: errorModal(d.text) });
        else if (args.body.response_url)
          await args.respond({ response_type: 'ephemeral', replace_original: false, text: d.text });
        else await args.client.chat.postMessage({ channel: rc.userId, text: d.text });
      } catch (e) {
        rc.logger.warn('could not show an error to the user', { err: e });
      }
    }
  };
}

/** View submissions ack themselves (validation errors, updates); errors become field errors or an error view. */
export function viewListener(deps: Deps, fn: (c: ListenerCtx, args: ViewArgs) => Promise<void>) {
  return async (args: ViewArgs) => {
    const rc = getRequestContext(args.context);
    const { tracked, acked } = withTrackedAck(args);
    const ack = args.ack;
    const done = measure(deps, `view:${args.view.callback_id}`);
    try {
      const c = await enforce(deps, rc);
      await fn(c, tracked);
      if (!acked()) await ack();
      done('ok');
    } catch (err) {
      const d = await noteFailure(deps, rc, err, `view ${args.view.callback_id}`);
      done(d.known ? 'refused' : 'error');
      const field = errorField(err);
      if (!acked() && field)
        await ack({ response_action: 'errors', errors: { [field]: d.text.replace(/^:warning: /, '') } });
      else if (!acked()) await ack({ response_action: 'update', view: errorModal(d.text) });
      else
        await args.client.views
          .update({ view_id: args.view.id, view: errorModal(d.text) })
          .catch((e) => rc.logger.warn('could not show an error view', { err: e }));
    }
  };
}

/** A modal the user closed (views with notify_on_close): acked at once; there is no surface to show an error on. */
export function viewClosedListener(deps: Deps, fn: (c: ListenerCtx, args: ViewClosedArgs) => Promise<void>) {
  return async (args: ViewClosedArgs) => {
    const rc = getRequestContext(args.context);
    await args.ack();
    const done = measure(deps, `view_closed:${args.view.callback_id}`);
    try {
      await fn(await enforce(deps, rc), args);
      done('ok');
    } catch (err) {
      const d = await noteFailure(deps, rc, err, `view closed ${args.view.callback_id}`);
      done(d.known ? 'refused' : 'error');
    }
  };
}

export function optionsListener(deps: Deps, fn: (c: ListenerCtx, args: OptionsArgs) => Promise<void>) {
  return async (args: OptionsArgs) => {
    const rc = getRequestContext(args.context);
    const done = measure(deps, `options:${args.body.action_id}`);
    try {
      const c = await enforce(deps, rc);
      await fn(c, args);
      done('ok');
    } catch (err) {
      const d = await noteFailure(deps, rc, err, `options ${args.body.action_id}`);
      done(d.known ? 'refused' : 'error');
      await args.ack({ options: [] });
    }
  };
}

/**
 * An Events API event (acked by Bolt itself). Anyone may cause one (opening the app's Home tab), so the
 * listener gets the request context without the responder check; what it shows depends on who it is.
 */
export function eventListener<A extends { context: AllMiddlewareArgs['context'] }>(
  deps: Deps,
  name: string,
  fn: (rc: RequestContext, caller: Caller, args: A) => Promise<void>,
) {
  return async (args: A) => {
    const rc = getRequestContext(args.context);
    const done = measure(deps, `event:${name}`);
    try {
      await fn(rc, { teamId: rc.teamId, userId: rc.userId, correlationId: rc.correlationId }, args);
      done('ok');
    } catch (err) {
      const d = await noteFailure(deps, rc, err, `event ${name}`);
      done(d.known ? 'refused' : 'error');
    }
  };
}
