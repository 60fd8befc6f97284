import type { App } from '@slack/bolt';
import { z } from 'zod';
import { ROLES } from '../src/domain/roles.js';
import { parseSettingValue } from '../src/domain/settings.js';
import { AppError, isAppError } from '../src/errors.js';
import { actionListener, type ListenerCtx, viewListener } from '../src/slack/listener.js';
import {
  changeSettingAsOwner,
  type RoleChange,
  roleEditForm,
  rolesHome,
  saveRoleChange,
  settingEditForm,
} from '../src/usecases/roles-admin.js';
import { ACTIONS, BLOCKS, inputActionId, VIEWS } from '../views/ids.js';
import { APPROVER_VALUE, REVOKE_VALUE, roleEditModal, rolesHomeModal, settingEditModal } from '../views/roles.js';
import { type CommandEnv, parsePrivateMetadata, type SubcommandHandler } from './kit.js';

/**
 * `/duo roles`: the responders (and, for owners, settings) modal, its Edit / Add buttons, and the
 * pushed forms. Each step authorizes again in the use case; after a change the home modal is
 * updated with a fresh model.
 */
export const roles: SubcommandHandler = async (c, { ack, command }, _rest, { deps, notifier }) => {
  const model = await rolesHome(deps, c.em, c.caller);
  await ack();
  await notifier.openView(command.trigger_id, rolesHomeModal(model));
};

const viewId = z.string().regex(/^V[A-Z0-9]{2,40}$/);
const slackUserId = z.string().regex(/^[UW][A-Z0-9]{2,40}$/);
const settingName = z.string().regex(/^[a-z_]{1,64}$/);

const buttonSource = z.object({
  trigger_id: z.string().min(1),
  view: z.object({ id: viewId, root_view_id: viewId.nullish() }),
});

const roleEditMeta = z.object({ root: viewId });
const settingEditMeta = z.object({ root: viewId, setting: settingName });

const input = (block: string) => inputActionId(block);
const roleState = z.object({
  [BLOCKS.roleUser]: z.object({
    [input(BLOCKS.roleUser)]: z.object({ selected_user: slackUserId.nullish() }),
  }),
  [BLOCKS.roleRole]: z.object({
    [input(BLOCKS.roleRole)]: z.object({
      selected_option: z.object({ value: z.enum([...ROLES, REVOKE_VALUE]) }).nullish(),
    }),
  }),
  [BLOCKS.roleApprover]: z
    .object({
      [input(BLOCKS.roleApprover)]: z.object({
        selected_options: z.array(z.object({ value: z.string() })).nullish(),
      }),
    })
    .optional(),
});

const settingState = z.object({
  [BLOCKS.settingValue]: z.object({
    [input(BLOCKS.settingValue)]: z.object({
      value: z.string().max(20).nullish(),
      selected_option: z.object({ value: z.string().max(64) }).nullish(),
    }),
  }),
});

const invalid = (field: string, userMessage: string) =>
  new AppError('INVALID_INPUT', `invalid ${field}`, { userMessage, details: { field } });

/** Where a button was clicked: the trigger for the pushed form and the root (home) view it returns to. */
function parseButtonSource(body: unknown): { triggerId: string; rootViewId: string } {
  const parsed = buttonSource.safeParse(body);
  if (!parsed.success)
    throw new AppError('INVALID_INPUT', 'button outside the roles modal', {
      userMessage: 'Open `/duo roles` and use the buttons there.',
    });
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

const parseMeta = <T>(schema: z.ZodType<T>, raw: string): T =>
  parsePrivateMetadata(schema, raw, 'Close it and reopen `/duo roles`.');

function parseRoleChange(values: unknown): RoleChange {
  const parsed = roleState.safeParse(values);
  if (!parsed.success) throw invalid(BLOCKS.roleRole, 'Choose a person and a role from the lists.');
  const userId = parsed.data[BLOCKS.roleUser][input(BLOCKS.roleUser)].selected_user;
  if (!userId) throw invalid(BLOCKS.roleUser, 'Pick a person.');
  const role = parsed.data[BLOCKS.roleRole][input(BLOCKS.roleRole)].selected_option?.value;
  if (!role) throw invalid(BLOCKS.roleRole, 'Choose a role.');
  const approver = (parsed.data[BLOCKS.roleApprover]?.[input(BLOCKS.roleApprover)].selected_options ?? []).some(
    (o) => o.value === APPROVER_VALUE,
  );
  return { userId, role: role === REVOKE_VALUE ? null : role, approver };
}

function parseSettingInput(name: string, values: unknown): unknown {
  const parsed = settingState.safeParse(values);
  const entry = parsed.success ? parsed.data[BLOCKS.settingValue][input(BLOCKS.settingValue)] : undefined;
  const raw = entry?.selected_option?.value ?? entry?.value;
  if (raw == null || raw === '') throw invalid(BLOCKS.settingValue, 'Enter a value.');
  try {
    return parseSettingValue(name, raw).value;
  } catch (e) {
    if (isAppError(e) && e.code === 'INVALID_INPUT')
      throw invalid(BLOCKS.settingValue, e.userMessage ?? 'That value is not valid.');
    throw e;
  }
}

export function registerRoles(app: App, { deps, notifier }: CommandEnv): void {
  app.action(
    ACTIONS.rolesEdit,
    actionListener(deps, async (c, { body, action }) => {
      const src = parseButtonSource(body);
      const userId = slackUserId.safeParse((action as { value?: unknown }).value);
      if (!userId.success) throw new AppError('INVALID_INPUT', 'bad responder reference');
      const model = await roleEditForm(deps, c.em, c.caller, userId.data);
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
      const name = settingName.safeParse((action as { value?: unknown }).value);
      if (!name.success) throw new AppError('INVALID_INPUT', 'bad setting reference');
      const model = await settingEditForm(deps, c.em, c.caller, name.data);
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
