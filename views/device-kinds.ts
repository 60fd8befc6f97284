import { phoneLabel } from '../src/domain/duo-user.js';
import type { DeviceCard } from '../src/usecases/approval-devices.js';
import { deviceReactivationKind, deviceRemovalKind } from '../src/usecases/approval-devices.js';
import type { ApprovalView } from '../src/usecases/approval-model.js';
import { defineKindText } from './approvals.js';
import { esc } from './common.js';
import { statusText } from './user-card.js';

/** The words of device help's approval kinds (src/usecases/approval-devices.ts). */

const userField = (f: DeviceCard | null, r: ApprovalView) =>
  `*User*\n${f?.user ? `${esc(f.user.realname || f.user.username)} (\`${esc(f.user.username)}\`)` : `\`${esc(r.target?.username ?? '')}\``}`;
const statusField = (f: DeviceCard | null) =>
  `*Status*\n${f?.user ? statusText(f.user.status, f.user.lockout_reason) : '_unknown_'}`;
const deviceField = (f: DeviceCard | null) =>
  `*Device*\n${f?.phone ? esc(phoneLabel(f.phone)) : '_no longer on this user_'}`;
const verifiedField = (p: { verifiedBy: 'push' | 'slack_dm' | 'none' }) =>
  `*Caller verified*\n${
    p.verifiedBy === 'push'
      ? 'by Duo Push'
      : p.verifiedBy === 'slack_dm'
        ? 'by the employee, in their own Slack'
        : ':warning: *not verified*: no Slack account matches the Duo user and no push. Approve only if you know the caller is the employee.'
  }`;

defineKindText(deviceReactivationKind, {
  title: 'Duo Mobile reactivation requested',
  noun: 'reactivation request',
  summary: (r) =>
    `new Duo Mobile activation (${r.params.channel === 'sms' ? 'by SMS to the number on file' : "by Duo's enrollment email"}, valid ${r.params.validSecs / 3600} h)`,
  fields: (r, f) => [userField(f, r), statusField(f), deviceField(f), verifiedField(r.params)],
  approveNote:
    'The old Duo Mobile credentials on the device stop working at once; the link goes to the number or address Duo already has, never to Slack.',
  nothingDone: 'No activation was sent.',
  failure: (reason) => `Duo could not send the activation (${reason})`,
  done: (r) =>
    r.result.channel === 'email'
      ? "Activation code made; Duo's enrollment email went to the address on file."
      : 'Activation sent by SMS to the number on file.',
});

defineKindText(deviceRemovalKind, {
  title: 'Device removal requested',
  noun: 'device removal',
  summary: (r) => `remove a device from the user${r.params.enrollmentEmail ? ', then send the enrollment email' : ''}`,
  fields: (r, f) => [userField(f, r), statusField(f), deviceField(f), verifiedField(r.params)],
  approveNote: 'Duo removes the device from the user at once; it can no longer be used to log in.',
  nothingDone: 'No device was removed.',
  failure: (reason) => `the device could not be removed (${reason})`,
  done: (r) => `Device removed${r.result.enrollmentEmail ? '; the enrollment email was sent' : ''}.`,
});
