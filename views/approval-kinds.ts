import type { User } from '../src/domain/duo-objects.js';
import { ROLE_LABELS } from '../src/domain/roles.js';
import { formatSettingValue, settingDefinitions } from '../src/domain/settings.js';
import { bulkStatusKind } from '../src/usecases/approval-bulk-status.js';
import { bypassCodesKind } from '../src/usecases/approval-bypass-codes.js';
import { bypassStatusKind } from '../src/usecases/approval-bypass-status.js';
import { responderChangeKind, settingChangeKind, stepUpResetKind } from '../src/usecases/approval-control-changes.js';
import { emailChangeKind } from '../src/usecases/approval-email-change.js';
import { userDeleteKind } from '../src/usecases/approval-user-delete.js';
import { userTrashKind } from '../src/usecases/approval-user-trash.js';
import { weakCodesKind } from '../src/usecases/approval-weak-codes.js';
import { defineKindText, verificationField } from './approvals.js';
import { codesDeliveryMessage, paramsText } from './bypass.js';
import { esc, slackDate } from './common.js';
import { statusText } from './user-card.js';
import './device-kinds.js';

/** The words of the built-in approval kinds (src/usecases/approvals/kinds). */

function devicesOf(u: User | null): string {
  if (!u) return '_Duo could not be read just now_';
  const count = (n: number, one: string) => (n ? `${n} ${one}${n === 1 ? '' : 's'}` : '');
  const parts = [
    count((u.phones ?? []).length, 'phone'),
    count((u.tokens ?? []).length, 'hardware token'),
    count((u.webauthncredentials ?? []).length, 'security key'),
  ].filter(Boolean);
  return parts.join(', ') || '_none_';
}

const userField = (u: User | null, fallback: string) =>
  `*User*\n${u ? `${esc(u.realname || u.username)} (\`${esc(u.username)}\`)` : `\`${esc(fallback)}\``}`;
const statusField = (u: User | null) => `*Status*\n${u ? statusText(u.status, u.lockout_reason) : '_unknown_'}`;

const minutesText = (m: number) =>
  m % 60 === 0 ? `${m / 60} hour${m === 60 ? '' : 's'}` : `${m} minute${m === 1 ? '' : 's'}`;

defineKindText(bypassCodesKind, {
  title: 'Bypass codes requested',
  noun: 'bypass request',
  summary: (r) => paramsText(r.params),
  fields: (r, f) => [
    userField(f?.user ?? null, r.target?.username ?? ''),
    statusField(f?.user ?? null),
    `*Enrolled devices*\n${devicesOf(f?.user ?? null)}`,
    `*Existing bypass codes*\n${f?.existingCodes ?? '_unknown_'}`,
    verificationField(r, f?.verification ?? null),
  ],
  approveNote: 'The codes go to the requester only; you will not see them.',
  nothingDone: 'No codes were issued.',
  failure: (reason) => `Duo could not create the codes (${reason}): Duo failed`,
  done: (r) =>
    r.result.deliveryFailed
      ? `Codes issued, but delivery to <@${r.requesterUserId}> failed: ask them to delete the codes (\`/duo codes ${esc(r.target?.username ?? '')}\`) and request again.`
      : `Codes issued and delivered to <@${r.requesterUserId}> only.`,
  delivery: (r, d) =>
    codesDeliveryMessage(
      r,
      d.secrets,
      typeof d.facts.validUntil === 'string' ? new Date(d.facts.validUntil) : null,
      d.facts.viaDm === true,
    ),
});

defineKindText(bypassStatusKind, {
  title: 'Bypass status requested',
  noun: 'bypass status request',
  summary: (r) => `bypass status for ${minutesText(r.params.minutes)} (no second factor at all)`,
  fields: (r, f) => [
    userField(f?.user ?? null, r.target?.username ?? ''),
    statusField(f?.user ?? null),
    `*Enrolled devices*\n${devicesOf(f?.user ?? null)}`,
    verificationField(r, f?.verification ?? null),
  ],
  approveNote:
    ':rotating_light: Bypass turns off two-factor for this user everywhere until it ends by itself; the audit channel is alerted.',
  nothingDone: 'The status was not changed.',
  failure: (reason) => `the status could not be set (${reason})`,
  done: (r) =>
    r.state === 'active'
      ? `In bypass status until ${slackDate(r.activeUntil ?? r.expiresAt)}, then back to ${esc(String(r.result.previousStatus ?? 'active'))} by itself.`
      : r.state === 'ending'
        ? 'Ending the bypass status now…'
        : r.result.alreadyChanged
          ? `Bypass ended: the status had already been changed to ${esc(String(r.result.statusNow ?? 'another status'))}, so it was left as it is.`
          : `Bypass ended: back to ${esc(String(r.result.statusNow ?? r.result.previousStatus ?? 'active'))}.`,
});

defineKindText(settingChangeKind, {
  title: 'Weakening setting change',
  noun: 'setting change',
  summary: (r) => `${r.params.name} → ${formatSettingValue(r.params.value)}`,
  fields: (r, f) => [
    `*Setting*\n\`${esc(r.params.name)}\`\n${esc(settingDefinitions[r.params.name].describe)}`,
    `*Now*\n\`${esc(f?.current ?? '?')}\``,
    `*Asked for*\n\`${esc(formatSettingValue(r.params.value))}\``,
  ],
  approveNote: 'The setting changes at once when you approve.',
  nothingDone: 'The setting was not changed.',
  failure: (reason) => `the change failed (${reason})`,
  done: (r) =>
    `\`${esc(r.params.name)}\` is now \`${esc(String(r.result.after ?? formatSettingValue(r.params.value)))}\` (was \`${esc(String(r.result.before ?? '?'))}\`).`,
});

defineKindText(responderChangeKind, {
  title: 'Powerful role requested',
  noun: 'role change',
  summary: (r) =>
    `<@${r.params.userId}> as ${ROLE_LABELS[r.params.role]}${r.params.approver ? ' with the approver flag' : ''}`,
  fields: (r, f) => [
    `*Responder*\n<@${r.params.userId}>`,
    `*Now*\n${f?.currentRole ? `${ROLE_LABELS[f.currentRole]}${f.currentApprover ? ', approver' : ''}` : 'not a responder'}`,
    `*Asked for*\n${ROLE_LABELS[r.params.role]}${r.params.approver ? ', approver' : ''}`,
  ],
  approveNote: 'The role changes at once when you approve.',
  nothingDone: 'The role was not changed.',
  failure: (reason) => `the change failed (${reason})`,
  done: (r) => `<@${r.params.userId}> is now ${ROLE_LABELS[r.params.role]}${r.params.approver ? ', approver' : ''}.`,
});

defineKindText(stepUpResetKind, {
  title: 'Step-up reset requested',
  noun: 'step-up reset',
  summary: (r) => `reset the step-up enrollment of <@${r.params.userId}>`,
  fields: (r, f) => [`*Responder*\n<@${r.params.userId}>`, `*Enrollment now*\n${f?.enrolled ? 'active' : 'none'}`],
  approveNote: 'Their authenticator stops working at once; they enroll a new one with `/duo mfa`.',
  nothingDone: 'The enrollment was not reset.',
  failure: (reason) => `the reset failed (${reason})`,
  done: (r) => `<@${r.params.userId}>'s step-up enrollment was reset; they enroll again with \`/duo mfa\`.`,
});

const BULK_WHY = { unknown: 'not in the directory index', directory_synced: 'managed by directory sync' } as const;

defineKindText(bulkStatusKind, {
  title: 'Bulk status change requested',
  noun: 'bulk status change',
  summary: (r) =>
    `${r.params.users.length} ${r.params.users.length === 1 ? 'user' : 'users'} → ${statusText(r.params.toStatus, null)}`,
  fields: (r) => [
    `*Users (${r.params.users.length})*\n${esc(
      r.params.users
        .slice(0, 30)
        .map((u) => u.username)
        .join(', '),
    )}${r.params.users.length > 30 ? `, … ${r.params.users.length - 30} more` : ''}`,
    `*New status*\n${statusText(r.params.toStatus, null)}`,
    ...(r.params.excluded.length
      ? [
          `*Left out*\n${esc(
            r.params.excluded
              .slice(0, 20)
              .map((x) => `${x.username} (${BULK_WHY[x.why]})`)
              .join(', '),
          )}`,
        ]
      : []),
  ],
  approveNote:
    'Each user is read from Duo again first: sync-managed users are never disabled, users in the Trash are left alone.',
  nothingDone: 'No status was changed.',
  failure: (reason) => `the change failed (${reason})`,
  done: (r) =>
    `${r.result.changed ?? 0} changed, ${r.result.unchanged ?? 0} already so, ${r.result.excludedSynced ?? 0} left out (directory sync), ${r.result.inTrash ?? 0} in the Trash, ${r.result.gone ?? 0} gone, ${r.result.failed ?? 0} failed.\n\`\`\`${esc(String(r.result.outcomes ?? ''))}\`\`\``,
});

defineKindText(weakCodesKind, {
  title: 'Deleting weak bypass codes',
  noun: 'weak-code deletion',
  summary: (r) =>
    `delete ${r.params.targets.length} weak bypass ${r.params.targets.length === 1 ? 'code' : 'codes'} (no expiry)`,
  fields: (r) => {
    const users = [...new Set(r.params.targets.map((c) => c.username))];
    return [
      `*Codes*\n${r.params.targets.length} (never shown)`,
      `*Users (${users.length})*\n${esc(users.slice(0, 20).join(', '))}${users.length > 20 ? `, … ${users.length - 20} more` : ''}`,
    ];
  },
  approveNote: 'Each code is read from Duo again and deleted only if it still exists and still has no expiry.',
  nothingDone: 'No code was deleted.',
  failure: (reason) => `the deletion failed (${reason})`,
  done: (r) =>
    `${r.result.deleted ?? 0} deleted, ${r.result.gone ?? 0} already gone, ${r.result.notWeak ?? 0} no longer weak, ${r.result.failed ?? 0} failed.`,
});

defineKindText(emailChangeKind, {
  title: 'Email change requested',
  noun: 'email change',
  summary: (r) => `new email ${esc(r.params.email)} for an enrolled user`,
  fields: (r, f) => [
    userField(f?.user ?? null, r.target?.username ?? ''),
    `*Email now*\n${f?.user ? esc(f.user.email || '(none)') : '_unknown_'}`,
    `*Asked for*\n${esc(r.params.email)}`,
    `*Enrolled devices*\n${devicesOf(f?.user ?? null)}`,
    verificationField(r, f?.verification ?? null),
  ],
  approveNote:
    ':shield: Enrollment and activation emails go to the new address from now on: whoever reads it can enroll a device for this user.',
  nothingDone: 'The email was not changed.',
  failure: (reason) => `the email could not be changed (${reason})`,
  done: (r) => `The email is now ${esc(r.params.email)} (was ${esc(String(r.result.previousEmail ?? 'none'))}).`,
});

defineKindText(userTrashKind, {
  title: 'Send to Trash requested',
  noun: 'Trash request',
  summary: () =>
    'send the user to the Trash (disabled now; Duo deletes them after its Trash duration, 7 days by default)',
  fields: (r, f) => [
    userField(f?.user ?? null, r.target?.username ?? ''),
    statusField(f?.user ?? null),
    `*Enrolled devices*\n${devicesOf(f?.user ?? null)}`,
  ],
  approveNote:
    'The user can no longer log in once approved; they can be restored from the Trash until Duo deletes them.',
  nothingDone: 'The user was not sent to the Trash.',
  failure: (reason) => `Duo could not send the user to the Trash (${reason})`,
  done: (r) =>
    r.result.alreadyInTrash
      ? 'The user was already in the Trash.'
      : `In the Trash since ${slackDate(new Date(String(r.result.markedAt)))}; Duo deletes them after its Trash duration (7 days by default, about ${slackDate(new Date(new Date(String(r.result.markedAt)).getTime() + 7 * 86_400_000))}) unless restored.`,
});

defineKindText(userDeleteKind, {
  title: 'Permanent deletion requested',
  noun: 'deletion request',
  summary: (r) =>
    `delete ${r.params.users.length === 1 ? `\`${esc(r.params.users[0]!.username)}\`` : `${r.params.users.length} users`} permanently (from the Trash)`,
  fields: (r) => [
    `*Users*\n${r.params.users
      .slice(0, 20)
      .map((u) => `\`${esc(u.username)}\``)
      .join(', ')}${r.params.users.length > 20 ? ` and ${r.params.users.length - 20} more` : ''}`,
  ],
  approveNote:
    ':warning: Permanent: their phones and endpoints not shared with another user are deleted too; added back, they must re-enroll.',
  nothingDone: 'Nobody was deleted.',
  failure: (reason) => `the deletion failed (${reason})`,
  done: (r) =>
    `Deleted ${Number(r.result.deleted ?? 0)} permanently${Number(r.result.skipped ?? 0) ? `; ${Number(r.result.skipped)} no longer in the Trash were left alone` : ''}.`,
});
