import type { App } from '@slack/bolt';
import { z } from 'zod';
import { ROLES } from '../src/domain/roles.js';
import { parseSettingValue } from '../src/domain/settings.js';
import { fail, isAppError, onField } from '../src/errors.js';
import { actionListener, type ListenerCtx, viewListener } from '../src/slack/listener.js';
import {
  changeSettingAsOwner,
  type RoleChange,
  roleEditForm,
  rolesHome,
  saveRoleChange,
  settingEditForm,
} from '../src/usecases/roles-admin.js';
import { ACTIONS, BLOCKS, VIEWS } from '../views/ids.js';
import { APPROVER_VALUE, REVOKE_VALUE, roleEditModal, rolesHomeModal, settingEditModal } from '../views/roles.js';
import { buttonValue, type CommandEnv, type FlowCommands, formState, parsePrivateMetadata } from './kit.js';

/**
 * `/duo roles`: the responders (and, for owners, settings) modal, its Edit / Add buttons, and the
 * pushed forms. Each step authorizes again in the use case; after a change the home modal is
 * updated with a fresh model.
 */

const viewId = z.string().regex(/^V[A-Z0-9]{2,40}$/);
const slackUserId = z.string().regex(/^[UW][A-Z0-9]{2,40}$/);
const settingName = z.string().regex(/^[a-z_]{1,64}$/);

const buttonSource = z.object({
  trigger_id: z.string().min(1),
  view: z.object({ id: viewId, root_view_id: viewId.nullish() }),
});

const roleEditMeta = z.object({ root: viewId });
const settingEditMeta = z.object({ root: viewId, setting: settingName });

const roleChoice = z.enum([...ROLES, REVOKE_VALUE]);
const invalid = (field: string, issue: 'lists' | 'person' | 'role' | 'value') =>
  fail('INVALID_INPUT', 'roles.bad_input', { issue }, { field });

/** Where a button was clicked: the trigger for the pushed form and the root (home) view it returns to. */
function parseButtonSource(body: unknown): { triggerId: string; rootViewId: string } {
  const parsed = buttonSource.safeParse(body);
  if (!parsed.success) throw fail('INVALID_INPUT', 'form.stale', { reopen: 'roles' });
  return { triggerId: parsed.data.trigger_id, rootViewId: parsed.data.view.root_view_id ?? parsed.data.view.id };
}

/**
 * The home view to refresh. private_metadata is only a reference: when it disagrees with the stack Slack
 * reports for this submission, Slack's wins, so a forged id cannot redirect the update to someone else's view.
 */
function homeViewId(c: ListenerCtx, meta: { root: string }, view: { root_view_id?: string | null }): string {
  const fromSlack = view.root_view_id ?? undefined;
  if (fromSlack && fromSlack !== meta.root) {
    c.logger.warn('private_metadata names another root view; using the submitted view stack', {
      metadata: meta.root,
      root: fromSlack,
    });
    return fromSlack;
  }
  return meta.root;
}

const parseMeta = <T>(schema: z.ZodType<T>, raw: string): T => parsePrivateMetadata(schema, raw, 'roles');

function parseRoleChange(values: unknown): RoleChange {
  const form = formState(values);
  const rawUser = form.user(BLOCKS.roleUser);
  const userId = slackUserId.safeParse(rawUser);
  if (rawUser && !userId.success) throw invalid(BLOCKS.roleRole, 'lists');
  if (!userId.success) throw invalid(BLOCKS.roleUser, 'person');
  const rawRole = form.choice(BLOCKS.roleRole);
  const role = roleChoice.safeParse(rawRole);
  if (rawRole && !role.success) throw invalid(BLOCKS.roleRole, 'lists');
  if (!role.success) throw invalid(BLOCKS.roleRole, 'role');
  const approver = form.choices(BLOCKS.roleApprover).includes(APPROVER_VALUE);
  return { userId: userId.data, role: role.data === REVOKE_VALUE ? null : role.data, approver };
}

function parseSettingInput(name: string, values: unknown): unknown {
  const form = formState(values);
  const raw = form.choice(BLOCKS.settingValue) ?? form.text(BLOCKS.settingValue);
  if (raw == null || raw === '') throw invalid(BLOCKS.settingValue, 'value');
  try {
    return parseSettingValue(name, raw.slice(0, 64)).value;
  } catch (e) {
    if (isAppError(e) && e.code === 'INVALID_INPUT') throw onField(e, BLOCKS.settingValue);
    throw e;
  }
}

function register(app: App, { deps, notifier }: CommandEnv): void {
  app.action(
    ACTIONS.rolesEdit,
    actionListener(deps, async (c, { body, action }) => {
      const src = parseButtonSource(body);
      const model = await roleEditForm(deps, c.em, c.caller, buttonValue(slackUserId, action));
      await notifier.pushView(src.triggerId, roleEditModal(model, src.rootViewId));
    }),
  );

  app.action(
    ACTIONS.rolesAdd,
    actionListener(deps, async (c, { body }) => {
      const src = parseButtonSource(body);
      const model = await roleEditForm(deps, c.em, c.caller, null);
      await notifier.pushView(src.triggerId, roleEditModal(model, src.rootViewId));
    }),
  );

  app.action(
    ACTIONS.settingsEdit,
    actionListener(deps, async (c, { body, action }) => {
      const src = parseButtonSource(body);
      const model = await settingEditForm(deps, c.em, c.caller, buttonValue(settingName, action));
      await notifier.pushView(src.triggerId, settingEditModal(model, src.rootViewId));
    }),
  );

  app.view(
    VIEWS.roleEdit,
    viewListener(deps, async (c, { ack, view }) => {
      const meta = parseMeta(roleEditMeta, view.private_metadata);
      const change = parseRoleChange(view.state.values);
      const result = await saveRoleChange(deps, c.em, c.caller, change);
      if (!result.home) {
        await ack({ response_action: 'clear' });
        return;
      }
      await ack();
      await notifier.updateView(homeViewId(c, meta, view), rolesHomeModal(result.home, result.summary));
    }),
  );

  app.view(
    VIEWS.settingEdit,
    viewListener(deps, async (c, { ack, view }) => {
      const meta = parseMeta(settingEditMeta, view.private_metadata);
      const value = parseSettingInput(meta.setting, view.state.values);
      const result = await changeSettingAsOwner(deps, c.em, c.caller, meta.setting, value);
      if (!result.home) {
        await ack({ response_action: 'clear' });
        return;
      }
      await ack();
      await notifier.updateView(homeViewId(c, meta, view), rolesHomeModal(result.home, result.summary));
    }),
  );
}

export const rolesFlow: FlowCommands['roles'] = {
  async run(c, { ack, command }, _rest, { deps, notifier }) {
    const model = await rolesHome(deps, c.em, c.caller);
    await ack();
    await notifier.openView(command.trigger_id, rolesHomeModal(model));
  },
  register,
};
