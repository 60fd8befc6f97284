import { bypassCodesKind } from './approval-bypass-codes.js';
import { bypassStatusKind } from './approval-bypass-status.js';
import { responderChangeKind, settingChangeKind, stepUpResetKind } from './approval-control-changes.js';
import { emailChangeKind } from './approval-email-change.js';
import type { AnyKind } from './approval-model.js';
import { userDeleteKind } from './approval-user-delete.js';
import { userTrashKind } from './approval-user-trash.js';

/** The guarded changes duo-desk ships with (each needs its card text in views/approvals.ts). */
export const BUILT_IN_KINDS: readonly AnyKind[] = [
  bypassCodesKind,
  bypassStatusKind,
  settingChangeKind,
  responderChangeKind,
  stepUpResetKind,
  emailChangeKind,
  userTrashKind,
  userDeleteKind,
];
