import type { App } from '@slack/bolt';
import { z } from 'zod';
import { DEVICE_ACTIONS, type DeviceAction } from '../src/domain/devices.js';
import { DuoUserIdSchema } from '../src/domain/duo-objects.js';
import { fail } from '../src/errors.js';
import { slackDeviceNotices } from '../src/slack/device-notices.js';
import { describeError } from '../src/slack/error-translator.js';
import { actionListener, type ListenerCtx, showErrorInModal, viewListener } from '../src/slack/listener.js';
import { getRequestContext } from '../src/slack/request-context.js';
import { answerConfirmation } from '../src/usecases/device-confirmation.js';
import {
  prepareDeviceAction,
  sendSmsPasscodes,
  submitReactivation,
  submitRemoval,
  verifyAnotherWay,
} from '../src/usecases/devices.js';
import { recordTampering } from '../src/usecases/refusals.js';
import { workingModal } from '../views/common.js';
import { DEVICE_BUTTON, deviceDoneModal, deviceFormModal } from '../views/devices.js';
import { ACTIONS, BLOCKS, VIEWS } from '../views/ids.js';
import { buttonValue, type CommandEnv, channelOf, formState, parsePrivateMetadata, quietly } from './kit.js';

/**
 * Device help's listeners: the user card's per-device buttons, the forms, "Verify another way" in the form,
 * and the employee's answer in their DM. Button values and private_metadata are references (a Duo user and a
 * phone id, a confirmation id); the use cases load and authorize everything again.
 */
const PhoneIdSchema = z.string().regex(/^DP[A-Z0-9]{18}$/);
const refSchema = z
  .string()
  .max(60)
  .transform((s) => s.split(':'))
  .pipe(z.tuple([DuoUserIdSchema, PhoneIdSchema]))
  .transform(([duoUserId, phoneId]) => ({ duoUserId, phoneId }));
const metaSchema = z
  .object({ duoUserId: DuoUserIdSchema, phoneId: PhoneIdSchema, channelId: z.string().regex(/^[A-Z0-9]{0,30}$/) })
  .strict();
const ACTION_OF_VIEW: Record<string, DeviceAction> = {
  [VIEWS.deviceReactivate]: 'reactivate',
  [VIEWS.deviceSmsPasscodes]: 'sms_passcodes',
  [VIEWS.deviceRemove]: 'remove',
};
const working = (action: DeviceAction, what: string) => workingModal(DEVICE_BUTTON[action].text, what, VIEWS.working);

async function openForm(
  c: ListenerCtx,
  env: CommandEnv,
  action: DeviceAction,
  ref: { duoUserId: string; phoneId: string },
  trigger: string,
  channelId: string,
) {
  const view = await env.notifier.openView(trigger, working(action, 'Reading the user and the device from Duo…'));
  try {
    const model = await prepareDeviceAction(env.deps, c.em, c.caller, action, ref);
    await env.notifier.updateView(view.id, deviceFormModal(model, { ...ref, channelId }));
  } catch (err) {
    await showErrorInModal(env.deps, env.notifier, c, view.id, err, `device ${action} form`);
  }
}

export function registerDeviceHelp(app: App, env: CommandEnv): void {
  const { deps, notifier, approvals } = env;
  const deviceNotices = slackDeviceNotices(deps, notifier);

  for (const action of DEVICE_ACTIONS)
    app.action(
      DEVICE_BUTTON[action].actionId,
      actionListener(deps, async (c, { body, action: a }) => {
        const ref = buttonValue(refSchema, a);
        await openForm(c, env, action, ref, body.trigger_id, channelOf(body));
      }),
    );

  // "Verify another way", inside the form: the DM to the employee, then the form again with its state.
  app.action(
    ACTIONS.deviceVerifyOther,
    actionListener(deps, async (c, { body, action: a }) => {
      const view = body.view;
      if (!view) throw fail('INVALID_INPUT', 'button.stale', {});
      const action = buttonValue(z.enum(DEVICE_ACTIONS), a);
      if (ACTION_OF_VIEW[view.callback_id] !== action) throw fail('INVALID_INPUT', 'button.stale', {});
      const meta = parsePrivateMetadata(metaSchema, view.private_metadata, 'user_card');
      await verifyAnotherWay(deps, c.em, c.caller, deviceNotices, action, { ...meta, formViewId: view.id });
      const model = await prepareDeviceAction(deps, c.em, c.caller, action, meta);
      await notifier.updateView(view.id, deviceFormModal(model, meta));
    }),
  );

  for (const [callbackId, action] of Object.entries(ACTION_OF_VIEW))
    app.view(
      callbackId,
      viewListener(deps, async (c, { ack, view }) => {
        const meta = parsePrivateMetadata(metaSchema, view.private_metadata, 'user_card');
        const form = formState(view.state.values);
        const input = {
          duoUserId: meta.duoUserId,
          phoneId: meta.phoneId,
          reason: form.text(BLOCKS.reason) ?? '',
          ticket: form.text(BLOCKS.ticket),
          totpCode: form.text(BLOCKS.totp),
          requestChannel: meta.channelId || null,
        };
        const progress = { accepted: () => ack({ response_action: 'update', view: working(action, 'Recording…') }) };
        let text: string;
        if (action === 'sms_passcodes') {
          const sent = await sendSmsPasscodes(deps, c.em, c.caller, input, progress);
          text = `:white_check_mark: A new batch of SMS passcodes went to ${sent.phoneLabel} (\`${sent.username}\`). Older passcodes no longer work.`;
        } else {
          const result =
            action === 'reactivate'
              ? await submitReactivation(
                  deps,
                  c.em,
                  c.caller,
                  approvals,
                  { ...input, validHours: Number(form.choice(BLOCKS.validity) ?? 0) },
                  progress,
                )
              : await submitRemoval(
                  deps,
                  c.em,
                  c.caller,
                  approvals,
                  { ...input, enrollmentEmail: form.choices(BLOCKS.enrollAfter).includes('yes') },
                  progress,
                );
          text =
            result.outcome === 'pending'
              ? `:hourglass_flowing_sand: Requested: a second person approves in ${deps.config.approvalChannel ? `<#${deps.config.approvalChannel}>` : 'the approval channel'}. You will be told here.`
              : result.outcome === 'done'
                ? ':white_check_mark: Done.'
                : `The request ended: ${result.outcome}.`;
        }
        await quietly(c, 'show the result', () => notifier.updateView(view.id, deviceDoneModal(action, text)));
      }),
    );

  // The employee's answer: they are not a responder, so this listener does not ask for one. Only the member
  // the DM was sent to may answer (the use case checks it on the row and against Duo's email now).
  for (const [actionId, answer] of [
    [ACTIONS.deviceConfirm, 'confirm'],
    [ACTIONS.deviceNotMe, 'not_me'],
  ] as const)
    app.action(actionId, async (args) => {
      const rc = getRequestContext(args.context);
      await args.ack();
      const caller = { teamId: rc.teamId, userId: rc.userId, correlationId: rc.correlationId };
      try {
        if (rc.resolution.kind === 'foreign_team') throw fail('PERMISSION_DENIED', 'device.confirmation_not_yours', {});
        const id = z.object({ value: z.string().uuid() }).safeParse(args.action);
        if (!id.success) {
          await recordTampering(deps, rc.em, caller, null, { surface: 'button', where: `action ${actionId}` });
          throw fail('INVALID_INPUT', 'button.stale', {});
        }
        await answerConfirmation(deps, rc.em, caller, deviceNotices, id.data.value, answer);
      } catch (err) {
        const d = describeError(err, rc.correlationId);
        rc.logger.info(`device confirmation: ${d.code}`, { code: d.code });
        await notifier.dm(rc.userId, { text: d.text }).catch(() => undefined);
      }
    });
}
