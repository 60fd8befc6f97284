import type { Json, StoredView } from '@duo-desk/slack-testbed';
import { VIEWS } from '../../views/ids.js';
import type { Harness } from './harness.js';

/**
 * Hand-built interaction payloads, shaped like the driver's (packages/slack-testbed/src/driver.ts) and signed
 * like Slack's, for what a real client would never send: a click by someone else, a button value or
 * private_metadata changed, a user of another team. `clickAction` with no overrides is a faithful
 * click on a button the bot really rendered (handy when several buttons share a label).
 */
export interface ForgeOptions {
  /** The `user.team_id` Slack reports (a Slack Connect guest or another workspace). */
  userTeamId?: string;
}

function envelope(h: Harness, userId: string, opts: ForgeOptions): Json {
  const name = h.slack.store.user(userId)?.name ?? userId;
  return {
    user: {
      id: userId,
      username: name,
      name,
      team_id: opts.userTeamId ?? h.slack.store.user(userId)?.teamId ?? h.slack.teamId,
    },
    api_app_id: h.slack.appId,
    token: h.slack.verificationToken,
    team: { id: h.slack.teamId, domain: h.slack.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
  };
}

const actionTs = () => `${Math.floor(Date.now() / 1000)}.000100`;

type Element = { action_id?: string; value?: string; text?: Json; type?: string };

/** The rendered button with this action_id (and value, when given) in a list of blocks. */
export function findRendered(
  blocks: Json[],
  actionId: string,
  value?: string,
): { blockId: string; element: Element } | undefined {
  for (const b of blocks) {
    const els = [...((b.elements as Element[] | undefined) ?? []), ...(b.accessory ? [b.accessory as Element] : [])];
    const el = els.find((e) => e.action_id === actionId && (value === undefined || e.value === value));
    if (el) return { blockId: String(b.block_id), element: el };
  }
  return undefined;
}

export interface ClickTarget {
  view?: string;
  message?: { channel: string; ts: string };
}

/**
 * Sends block_actions for `actionId` on a view or message. The button is looked up in what the bot
 * rendered; `value` overrides what it carries (forgery), and a missing button is sent anyway.
 */
export async function clickAction(
  h: Harness,
  where: ClickTarget,
  actionId: string,
  userId: string,
  opts: ForgeOptions & { value?: string; match?: string } = {},
) {
  const store = h.slack.store;
  let container: Json;
  let blocks: Json[];
  if (where.view) {
    const v = store.views.get(where.view);
    if (!v) throw new Error(`no view ${where.view}`);
    blocks = v.definition.blocks as Json[];
    container = {
      container: { type: 'view', view_id: v.id },
      view: store.slackView(v),
      state: { values: structuredClone(v.stateValues) },
    };
  } else if (where.message) {
    const m = store.findMessage(where.message.channel, where.message.ts);
    if (!m) throw new Error(`no message ${where.message.channel}/${where.message.ts}`);
    blocks = m.blocks ?? [];
    container = {
      container: { type: 'message', message_ts: m.ts, channel_id: m.channel, is_ephemeral: !!m.ephemeralUser },
      channel: { id: m.channel, name: m.channel.toLowerCase() },
      ...(m.ephemeralUser ? {} : { message: store.slackMessage(m) }),
      state: { values: {} },
      response_url: h.slack.newResponseUrl({ channelId: m.channel, userId, messageTs: m.ts }),
    };
  } else throw new Error('clickAction needs a view or a message');
  const hit = findRendered(blocks, actionId, opts.match);
  const action: Json = {
    type: 'button',
    action_id: actionId,
    block_id: hit?.blockId ?? 'forged_block',
    text: hit?.element.text ?? { type: 'plain_text', text: 'Forged' },
    action_ts: actionTs(),
  };
  const value = opts.value ?? hit?.element.value;
  if (value !== undefined) action.value = value;
  const payload: Json = {
    type: 'block_actions',
    ...envelope(h, userId, opts),
    trigger_id: h.slack.issueTriggerId(userId),
    ...container,
    actions: [action],
  };
  return h.driver.sendRaw('json-payload', payload);
}

/**
 * Sends view_submission for a stored view with chosen private_metadata and state values, as `userId`.
 * State entries replace the view's own per block.
 */
export async function submitForged(
  h: Harness,
  viewId: string,
  userId: string,
  opts: ForgeOptions & { privateMetadata?: string; values?: Record<string, Record<string, Json>> } = {},
) {
  const v = h.slack.store.views.get(viewId);
  if (!v) throw new Error(`no view ${viewId}`);
  const view = h.slack.store.slackView(v);
  if (opts.privateMetadata !== undefined) view.private_metadata = opts.privateMetadata;
  view.state = { values: { ...structuredClone(v.stateValues), ...(opts.values ?? {}) } };
  const payload: Json = {
    type: 'view_submission',
    ...envelope(h, userId, opts),
    trigger_id: h.slack.issueTriggerId(userId),
    view,
    response_urls: [],
  };
  return h.driver.sendRaw('json-payload', payload);
}

/** The modal with this callback id once it is on top of the user's stack. */
export const topView = (h: Harness, userId: string, callbackId: string) =>
  h.slack.waitFor(
    () => {
      const v = h.slack.lastView(userId);
      return v?.callbackId === callbackId && v;
    },
    { description: `${callbackId} on top for ${userId}` },
  );

/** Runs `/duo roles` and returns the home modal it opens. */
export async function openRolesHome(h: Harness, userId: string): Promise<StoredView> {
  const opens = h.slack.callsTo('views.open').length;
  const r = await h.driver.command(userId, 'roles');
  if (r.status !== 200) throw new Error(`/duo roles answered HTTP ${r.status}`);
  await h.slack.waitFor(() => h.slack.callsTo('views.open').length > opens, { description: 'views.open' });
  return topView(h, userId, VIEWS.rolesHome);
}
