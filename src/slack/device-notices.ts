import {
  deviceDoneModal,
  employeeConfirmMessage,
  employeeSettledMessage,
  responderConfirmationMessage,
  STOPPED_TEXT,
} from '../../views/devices.js';
import type { Deps } from '../usecases/deps.js';
import type { DeviceNotices } from '../usecases/device-confirmation.js';
import type { Notifier } from './notifier.js';

/** Device help's Slack side: the employee's DM, its settling, and the word to the responder. */
export function slackDeviceNotices(deps: Deps, notifier: Notifier): DeviceNotices {
  return {
    askEmployee: (c, facts) => notifier.dm(c.employeeUserId, employeeConfirmMessage(c, facts.phoneLabel)),
    settleEmployeeMessage: (at, c, outcome) => notifier.update(at.channel, at.ts, employeeSettledMessage(c, outcome)),
    async tellResponder(c, outcome) {
      await notifier.dm(c.responderUserId, responderConfirmationMessage(c, outcome));
      // "This wasn't me" also stops the responder's open form.
      if (outcome === 'rejected' && c.formViewId)
        await notifier.updateView(c.formViewId, deviceDoneModal(c.action, STOPPED_TEXT)).catch((e: unknown) =>
          deps.logger.info('could not stop the open device form', {
            code: (e as { code?: string }).code ?? 'unknown',
          }),
        );
    },
  };
}
