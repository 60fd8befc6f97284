import { bulkStatusKind } from './approval-bulk-status.js';
import { bypassCodesKind } from './approval-bypass-codes.js';
import { bypassStatusKind } from './approval-bypass-status.js';
import { responderChangeKind, settingChangeKind, stepUpResetKind } from './approval-control-changes.js';
import { deviceReactivationKind, deviceRemovalKind } from './approval-devices.js';
import { emailChangeKind } from './approval-email-change.js';
import type { AnyKind } from './approval-model.js';
import { userDeleteKind } from './approval-user-delete.js';
import { userTrashKind } from './approval-user-trash.js';
import { weakCodesKind } from './approval-weak-codes.js';

/** The guarded changes duo-desk ships with (each needs its card text in views/approvals.ts). */
export const BUILT_IN_KINDS: readonly AnyKind[] = [
  bypassCodesKind,
  bypassStatusKind,
  settingChangeKind,
  responderChangeKind,
  stepUpResetKind,
  deviceReactivationKind,
  deviceRemovalKind,
  bulkStatusKind,
  weakCodesKind,
  emailChangeKind,
  userTrashKind,
  userDeleteKind,
];
