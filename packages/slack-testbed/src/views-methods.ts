import { isObj, viewProblems } from './blocks.js';
import { argumentError, SlackApiError } from './errors.js';
import { type MethodContext, type MethodSpec, optStr, requireStr } from './method-context.js';
import { MAX_VIEW_STACK } from './store.js';
import type { Json, StoredView } from './types.js';

function viewArg(store: MethodContext['store'], args: Json, type: 'modal' | 'home'): Json {
  const view = args.view;
  if (!isObj(view)) throw argumentError('invalid_arguments', ['[ERROR] missing required field: view']);
  const problems = viewProblems(view, (id) => store.usableInBlocks(id));
  if (view.type !== type && !(type === 'modal' && view.type === undefined)) {
    problems.unshift(`[ERROR] must be ${type} [json-pointer:/view/type]`);
  }
  if (problems.length > 0) throw argumentError('invalid_arguments', problems);
  return view;
}

function open({ store, args }: MethodContext): Json {
  const view = viewArg(store, args, 'modal');
  const trigger = store.consumeTrigger(args.trigger_id);
  const externalId = optStr(view, 'external_id');
  if (externalId && store.findViewByExternalId(externalId)) throw new SlackApiError('duplicate_external_id');
  // A new modal replaces whatever stack the user had open.
  store.closeViews(trigger.userId);
  const v = store.createView(trigger.userId, view, {});
  store.stacks.set(trigger.userId, [v.id]);
  return { view: store.slackView(v) };
}

function push({ store, args }: MethodContext): Json {
  const view = viewArg(store, args, 'modal');
  const trigger = store.consumeTrigger(args.trigger_id);
  const stack = store.openStack(trigger.userId);
  if (stack.length === 0) throw new SlackApiError('not_found');
  if (stack.length >= MAX_VIEW_STACK) throw new SlackApiError('push_limit_reached');
  const v = store.createView(trigger.userId, view, { root: stack[0], previous: stack[stack.length - 1] });
  store.stacks.set(trigger.userId, [...stack, v.id]);
  return { view: store.slackView(v) };
}

function target({ store, args }: MethodContext): StoredView {
  const viewId = optStr(args, 'view_id');
  const externalId = optStr(args, 'external_id');
  if (!viewId && !externalId) throw argumentError('invalid_arguments', ['[ERROR] view_id or external_id required']);
  const v = viewId ? store.views.get(viewId) : store.findViewByExternalId(externalId!);
  if (!v?.open) throw new SlackApiError('not_found');
  const hash = optStr(args, 'hash');
  if (hash !== undefined && hash !== v.hash) throw new SlackApiError('hash_conflict');
  return v;
}

function update(ctx: MethodContext): Json {
  const v = target(ctx);
  const view = viewArg(ctx.store, ctx.args, v.type);
  ctx.store.replaceView(v, view);
  return { view: ctx.store.slackView(v) };
}

function publish({ store, args }: MethodContext): Json {
  const userId = requireStr(args, 'user_id', 'invalid_arguments');
  if (!store.user(userId)) throw new SlackApiError('user_not_found');
  const view = viewArg(store, args, 'home');
  const existingId = store.homeViews.get(userId);
  const existing = existingId ? store.views.get(existingId) : undefined;
  const hash = optStr(args, 'hash');
  if (existing) {
    if (hash !== undefined && hash !== existing.hash) throw new SlackApiError('hash_conflict');
    store.replaceView(existing, view);
    return { view: store.slackView(existing) };
  }
  const v = store.createView(userId, view, {});
  store.homeViews.set(userId, v.id);
  return { view: store.slackView(v) };
}

export const viewMethods: Record<string, MethodSpec> = {
  'views.open': { handler: open, token: 'bot' },
  'views.push': { handler: push, token: 'bot' },
  'views.update': { handler: update, token: 'bot' },
  'views.publish': { handler: publish, token: 'bot' },
};
