import type { Action } from '../src/domain/authorize.js';
import { STATUS_LABELS } from '../src/domain/duo-user.js';
import { ROLE_LABELS, type Role } from '../src/domain/roles.js';
import type { AppError, ErrorCode, Problem, ProblemName, Problems } from '../src/errors.js';
import type { Fmt } from './format.js';

/**
 * Every sentence a person reads when something is refused or fails: one per problem the core raises
 * (src/errors.ts), and a default per error code. The same sentences serve Slack (mrkdwn) and the
 * command line (plain words): facts go through the formatter, never straight into the text.
 */
type ProblemText<N extends ProblemName> = (facts: Problems[N], f: Fmt) => string;
type ProblemTexts = { [N in ProblemName]: ProblemText<N> };

const label = (status: string) => STATUS_LABELS[status] ?? status;
const roleList = (roles: readonly Role[]) => roles.map((r) => ROLE_LABELS[r]).join(', ');
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** What an action lets a responder do, as the end of "… responders cannot ___". */
const ACTION_PHRASE: Record<Action, string> = {
  'user.lookup': 'look up users',
  'user.verify': 'send verification pushes',
  'user.unlock': 'unlock users',
  'user.reenable': 're-enable users',
  'user.set_status': 'change user status',
  'bypass.request': 'request bypass codes',
  'approval.decide': 'decide approval requests',
  'approval.cancel': 'cancel this request',
  'approval.end': 'end this change early',
  'bypass_codes.list': "list users' bypass codes",
  'bypass_codes.delete': 'delete bypass codes',
  'user.enroll': 'send enrollment emails',
  'audit.read': 'read the audit history',
  'audit.export': 'export the audit history',
  'responders.manage': 'manage responders',
  'settings.manage': 'change settings',
  'device.reactivate': 'reactivate Duo Mobile',
  'device.sms_passcodes': 'send SMS passcodes',
  'device.remove': "remove users' devices",
  'users.read': 'see the users overview',
  'users.export': 'export users',
  'user.sync': 'sync users from the directory',
  'user.create': 'create users',
  'user.edit': 'edit users',
  'user.restore': 'restore users from the Trash',
  'user.trash': 'send users to the Trash',
  'user.delete': 'delete users permanently',
};

/** Why a device action is not offered for this device or user (rule 'device'). */
const DEVICE_REFUSAL_TEXT = {
  user_pending_deletion:
    'This user is in the Trash (pending deletion): restore them in Duo first; device help is not available until then.',
  user_disabled:
    'This user is disabled: re-enable them first (after verifying the caller); device help waits until then.',
  not_smartphone:
    'Duo Mobile runs only on a smartphone or tablet (type Mobile with a mobile platform): this device cannot be activated.',
  no_number: 'SMS passcodes go only to a mobile phone with a number on file: this device has none.',
  no_email: "A tablet's activation goes by Duo's enrollment email, and this user has no email address in Duo.",
  directory_synced:
    'This user is managed by directory sync: their devices come from the source directory, so removing one here would not last (Duo refuses some of these changes). Change it in the source directory; duo-desk did not ask Duo.',
} as const;

const STATUS_PHRASE = { active: 'change user status', disabled: 'disable users', bypass: 'apply bypass status' };

const denied: ProblemText<'access.denied'> = (d, f) => {
  const who = `${ROLE_LABELS[d.role]} responders`;
  const what = d.action === 'user.set_status' && d.toStatus ? STATUS_PHRASE[d.toStatus] : ACTION_PHRASE[d.action];
  const needs = (extra?: string) =>
    [extra, d.roles.length ? `the ${roleList(d.roles)} role` : undefined].filter(Boolean).join(', or ');
  switch (d.rule) {
    case 'role':
      if (d.action === 'responders.manage') return 'Only owners and administrators manage responders.';
      if (d.action === 'approval.cancel')
        return 'Only the person who asked for this can cancel the request (or an Owner).';
      if (d.action === 'approval.decide' && d.roles.length === 1 && d.roles[0] === 'owner')
        return 'This change weakens the controls: only another Owner can approve it.';
      return `${who} cannot ${what}. This needs ${needs()}.`;
    case 'setting':
      return `${who} may not ${what} here. This needs ${needs(`the setting ${f.code(d.setting ?? '')}`)}.`;
    case 'default_codes_only':
      return `${who} may only request one single-use code valid for 1 hour. This needs ${needs(`the setting ${f.code(d.setting ?? '')}`)}.`;
    case 'no_expiry_owner_only':
      return 'Only owners may request codes that never expire. This needs the Owner role.';
    case 'directory_synced':
      return 'This user is managed by directory sync: their disabled status comes from the source directory. This needs a change in the source directory (Duo does not allow it here).';
    case 'own_request':
      return 'You cannot decide your own request: a second person must approve it.';
    case 'not_approver':
      return `${who} without the approver flag cannot ${what}. This needs the Owner or Administrator role, or the approver flag.`;
    case 'admin_below_admin_only':
      return 'Administrators may only grant, change and revoke roles below Administrator. This needs the Owner role.';
    case 'approver_flag_owner_only':
      return 'Only owners grant the approver flag.';
    case 'duo_setting':
      if (d.duoValue === 'unknown')
        return `${who} may not ${what} until duo-desk has read Duo's own settings (${f.code('GET /admin/v1/settings')} needs the Admin API settings grant). This needs ${needs()}.`;
      return `Duo's own settings forbid this: ${who} may not ${what} (${f.code(d.duoSetting ?? '')} is ${f.code(d.duoValue ?? '')} in the Duo Admin Panel), whatever duo-desk's settings say. This needs ${needs('a change of that setting in Duo')}.`;
    case 'help_desk_fields':
      return `${who} may change a user's full name, email and notes only (Duo's rule), not username aliases or the authentication experience. This needs ${needs()}.`;
    case 'directory_field':
      return 'This user is managed by directory sync: their full name, email and aliases come from the source directory and are read-only here. Change them in the directory, then sync the user (`/duo sync`).';
    case 'directory_account':
      return 'This user is managed by directory sync: only a sync sends them to the Trash or restores them (Duo does not allow it by hand). Add them back in the directory, then `/duo sync` them.';
    case 'trust_monitor_lockout':
      return `This user was locked out from Duo Trust Monitor (${f.code('Admin disabled')}): only an Owner or Administrator may unlock them. This needs ${needs()}.`;
    case 'help_desk_unlock_only':
      return `${who} may only set Locked Out or Disabled users to Active (Duo's rule for Help Desk). This needs ${needs()}.`;
    case 'approver_flag_not_for_role':
      return 'Read-only and Application Manager responders can never be approvers: give them another role first.';
    case 'device':
      return d.device ? DEVICE_REFUSAL_TEXT[d.device] : 'This device does not allow that.';
    default:
      return "You don't have permission to do that.";
  }
};

const FREE_TEXT_ASK = {
  change_reason: 'Give a reason (what the caller asked for and how you verified them).',
  bypass_reason: 'Say why the caller needs codes (the approver reads it).',
  deny_reason: 'Say why in a few words: the requester will see it.',
  ticket: 'Give the ticket reference.',
};

const notOpen: ProblemText<'approval.not_open'> = (d, f) => {
  const who = d.decidedBy ? f.user(d.decidedBy) : 'someone';
  const when = d.decidedAt ? ` at ${f.date(d.decidedAt)}` : '';
  switch (d.state) {
    case 'approved':
    case 'executing':
    case 'unknown':
      return `This request was already approved by ${who}${when}.`;
    case 'done':
    case 'active':
    case 'ending':
    case 'ended':
      return `This request was already approved by ${who}${when}, and the change was made.`;
    case 'failed':
      return `This request was already approved by ${who}${when}; the change failed.`;
    case 'denied':
      return `This request was already denied by ${who}${when}.`;
    case 'expired':
      return 'This request expired before anyone decided it.';
    case 'cancelled':
      return `This request was cancelled${d.decidedBy ? ` by ${who}` : ''}.`;
    case 'scheduled':
      return 'This change takes effect after its delay: it can only be cancelled.';
    default:
      return 'This request was already decided.';
  }
};

const GUARDED_NOUN = {
  unlock: 'Unlocking',
  bypass_codes: 'Requesting bypass codes',
  bypass_status: 'Bypass status',
  weakening_setting: 'A change that weakens the controls',
  powerful_role: 'Granting the Owner or Administrator role',
  approver_flag: 'Granting the approver flag',
  stepup_reset: "Resetting someone's step-up",
  device_reactivate: 'Reactivating Duo Mobile',
  device_remove: 'Removing a device',
  device_sms_passcodes: 'Sending SMS passcodes',
  bulk_status: 'Changing the status of several users',
  weak_codes_delete: 'Deleting all weak bypass codes',
  email_change: "Changing an enrolled user's email",
  user_trash: 'Sending a user to the Trash',
  user_delete: 'Deleting a user permanently',
  user_delete_bulk: 'Deleting several users permanently',
} as const;

const REOPEN = {
  user_card: 'Open it again from the user card.',
  bypass: (f: Fmt) => `Open it again from the user card or ${f.command('bypass <user>')}.`,
  approval_card: 'Open it again from the approval card.',
  roles: (f: Fmt) => `Open ${f.command('roles')} and use the buttons there.`,
  users: (f: Fmt) => `Open ${f.command('users')} again and pick the users from a page.`,
};

const AUDIT_USAGE = (f: Fmt) =>
  `Usage: ${f.command('audit [user]')} or ${f.command('audit export csv|json [since] [until]')}.`;

export const PROBLEM_TEXT: ProblemTexts = {
  // access and input
  'access.denied': denied,
  'input.text_required': (d) => FREE_TEXT_ASK[d.purpose],
  'input.text_too_long': (d) => `At most ${d.max} characters.`,
  'input.text_looks_like_secret': () =>
    'That text looks like it contains a code or a token. Never paste codes or secrets into duo-desk: describe it in words.',
  'command.invalid_text': () => 'That command is too long.',
  'command.unknown': (d, f) => `I don't know ${f.command(d.sub)}. Try ${f.command('help')} for what you can do.`,
  'command.no_user': (d, f) => `Say which Duo user, e.g. ${f.command(d.example)}.`,
  'form.stale': (d, f) => {
    const reopen = REOPEN[d.reopen];
    return `This form is no longer valid. ${typeof reopen === 'string' ? reopen : reopen(f)}`;
  },
  'button.stale': () => 'That button is no longer valid.',

  // lookup
  'lookup.no_user_given': (_d, f) =>
    `Say which Duo user: a username, an alias or an email address, e.g. ${f.code('alice')} or ${f.code('alice@example.com')}.`,
  'lookup.bad_query': () => 'A Duo user is named by one username, alias or email address (no spaces).',
  'lookup.no_match': (d, f) =>
    `No Duo user matches ${f.code(d.query)} (by username, alias or email). Check the spelling, or try ${f.command('lookup')} with no argument to search.`,
  'lookup.several_match': (d, f) =>
    `${d.count} Duo users match ${f.code(d.query)}: ${d.usernames.map(f.code).join(', ')}. Use the exact username.`,

  // verify
  'verify.phone_gone': (d, f) =>
    `That phone can no longer receive a Duo Push for ${f.strong(d.username)}. Start again with ${f.command(`verify ${d.username}`)}.`,
  'verify.push_limit': (d, f) =>
    d.scope === 'user'
      ? `${f.strong(d.username)} already got ${plural(d.limit, 'verification push', 'verification pushes')} in the last ${d.windowMinutes} minutes, the most anyone may send them (the setting ${f.code('max_verification_pushes_per_user')}; it stops push bombing). The next push is possible after ${f.date(d.retryAt)}. If the caller keeps asking for pushes, treat it as suspicious.`
      : `You already sent ${plural(d.limit, 'verification push', 'verification pushes')} in the last ${d.windowMinutes} minutes, the most one responder may send (the setting ${f.code('max_verification_pushes_per_responder')}). The next push is possible after ${f.date(d.retryAt)}.`,

  // unlock, status, enrollment email
  'status.pending_deletion': (d, f) =>
    `${f.strong(d.username)} is pending deletion in Duo: their status cannot be changed. An administrator can restore the user from the Duo Admin Panel (Users → Deleted users) first.`,
  'status.nothing_to_unlock': (d, f) =>
    `${f.strong(d.username)} is ${label(d.status)}, not locked out or disabled: there is nothing to unlock.`,
  'status.no_longer_locked': (d, f) =>
    `${f.strong(d.username)} is no longer locked out or disabled (now ${label(d.status)}): nothing was changed.`,
  'status.already': (d, f) => `${f.strong(d.username)} is already ${label(d.status)}: nothing was changed.`,
  'status.bypass_needs_active': (d, f) =>
    `${f.strong(d.username)} is ${label(d.status)}: only an Active user is put in bypass status. Unlock or re-enable them first.`,
  'status.bypass_too_long': (d) =>
    `Bypass status lasts at most ${d.maxMinutes} minutes here (bypass_status_max_minutes). Pick a shorter time.`,
  'status.none_to_offer': (d, f) => `Your role cannot set ${f.strong(d.username)} to another status.`,
  'enroll.already_enrolled': (d, f) =>
    `${f.strong(d.username)} is already enrolled in Duo: no enrollment email is needed. To add a device, use the Duo Admin Panel or the user's self-service portal.`,
  'enroll.no_email': (d, f) =>
    `${f.strong(d.username)} has no email address in Duo, so no enrollment email can be sent. The address must be set in Duo (or in the source directory, for directory-synced users) first.`,

  // bypass codes
  'bypass.no_enrolled_device': (d, f) =>
    `${f.code(d.username)} has no enrolled device. Bypass codes must not be a user's only factor: send an enrollment email instead (${f.command(`enroll ${d.username}`)}).`,
  'bypass.user_unusable': (d, f) =>
    `${f.code(d.username)} is ${d.status}: bypass codes would not let them in.${d.status === 'disabled' ? ' Re-enable the user first.' : ''}`,
  'bypass.user_full': (d, f) =>
    `${f.code(d.username)} already has ${d.existing} bypass codes, Duo's limit. Delete unused ones first (${f.command(`codes ${d.username}`)}).`,
  'bypass.not_enough_room': (d, f) =>
    `${f.code(d.username)} has room for only ${plural(d.room, 'more bypass code')} (Duo's limit is 100). Delete unused ones first (${f.command(`codes ${d.username}`)}).`,
  'bypass.daily_limit': (d, f) =>
    `You have made ${d.made} bypass requests in the last 24 hours, the limit (${f.code('max_bypass_requests_per_responder_per_day')}). Ask an owner if more are really needed.`,
  'bypass.not_offered': () =>
    'Those bypass-code parameters are not available to you. Open the form again and pick from its choices.',

  // guards and approvals
  'guard.verification_required': (d, f) =>
    d.action.startsWith('device_')
      ? `Verify the caller first: a Duo Push if they still have a phone (${f.command('verify <user>')}), or *Verify another way* in this form (the employee confirms in their own Slack). A verification counts for ${d.minutes} minutes, for you only.`
      : d.action === 'unlock'
        ? `Verify the caller first: no Duo Push to this user sent by you was approved in the last ${d.minutes} minutes. Send one (${f.command('verify')}), have the caller read back the code, then submit again.`
        : `Verify the caller first: send them a Duo Push (the button in this form, or ${f.command('verify <user>')}), have them read back the confirmation code, then submit again. A verification counts for ${d.minutes} minutes, for you only.`,
  'guard.step_up_required': (d) =>
    `${GUARDED_NOUN[d.action]} needs the current 6-digit code from your authenticator app (step-up).`,
  'approval.no_channel': (_d, f) =>
    `Approvals need an approval channel, and none is configured (${f.code('DUO_DESK_APPROVAL_CHANNEL')}). Tell an administrator.`,
  'approval.card_not_posted': (d, f) =>
    `Your request could not be posted to ${d.channel ? f.channel(d.channel) : 'the approvals channel'} for approval, so it was withdrawn. Is duo-desk in that channel? Try again in a moment.`,
  'approval.gone': () => 'That request does not exist (any more).',
  'approval.not_open': notOpen,
  'approval.expired': () => 'This request has expired. The requester can ask again.',
  'approval.approver_not_enrolled': (_d, f) =>
    `Approving needs a code from your authenticator app, and you have none set up yet. Run ${f.command('mfa')} first, then click Approve again.`,
  'approval.requester_no_longer_allowed': (d, f) =>
    `${f.user(d.requesterUserId)} may no longer have this done (their role or the settings changed). Deny this request.`,
  'approval.not_active': () => 'This change is not in effect (any more): nothing to end.',
  'codes.code_gone': (d, f) =>
    `That code is no longer among ${f.code(d.username)}'s bypass codes (used up, expired or deleted). The list below is current.`,
  'codes.bulk_delete_stopped': (d, f) =>
    `Deleted ${d.deleted} of ${d.total} codes, then Duo failed (${d.duoCode}). Nothing more was tried: list the codes again (${f.command(`codes ${d.username}`)}) before retrying.`,

  // step-up
  'stepup.not_six_digits': () => 'Enter the 6-digit code shown in your authenticator app.',
  'stepup.locked': (d) =>
    d.lockedNow
      ? 'Too many wrong codes: step-up is locked for 15 minutes. The audit channel has been told.'
      : `Step-up is locked after repeated wrong codes until ${d.lockedUntil.toISOString().slice(11, 16)} UTC.`,
  'stepup.wrong_code': () => "That code isn't valid. Enter the current 6-digit code from your authenticator app.",
  'stepup.replayed': () => 'That code was already used. Wait for the next code in your authenticator app and enter it.',
  'stepup.reenroll_needs_code': () =>
    'To set up a new authenticator, first enter a current code from the one you use now. Lost it? Ask an Owner to reset your step-up enrollment.',
  'stepup.changed_concurrently': (_d, f) =>
    `Your step-up enrollment changed while this was running. Run ${f.command('mfa')} again.`,
  'stepup.nothing_to_confirm': (_d, f) =>
    `There is no authenticator set-up waiting for a code. Run ${f.command('mfa')} to start one.`,
  'stepup.secret_not_bound': (_d, f) =>
    `Your step-up enrollment can't be used: the stored secret does not belong to your account. The audit channel has been told; ask an Owner to reset your enrollment, then run ${f.command('mfa')}.`,
  'stepup.reset_needs_owner': () => "Resetting someone's step-up enrollment needs the Owner role.",
  'stepup.reset_self': () =>
    'You cannot reset your own step-up enrollment: ask another Owner (they need the Owner role).',
  'stepup.no_slack_email': () =>
    'Step-up is bound to your own Duo account, found by the email in your Slack profile, and Slack shows no email for you. Ask a Slack admin to show it (duo-desk needs the users:read.email scope). Until then you cannot set up step-up, so you cannot approve requests.',
  'stepup.no_duo_account': (d, f) =>
    `Step-up is bound to your own Duo account: the Duo user whose email is your Slack email, ${f.code(d.email)}. No Duo user has that email, so you cannot set up step-up, and without it you cannot approve requests or pass any step-up. Ask a Duo administrator to give your Duo user this email.`,
  'stepup.several_duo_accounts': (d, f) =>
    `Step-up is bound to your own Duo account, and ${d.usernames.length} Duo users have your Slack email ${f.code(d.email)} (${d.usernames.map(f.code).join(', ')}), so it is not clear which one is yours. Ask a Duo administrator to leave that email on your own Duo user only. Until then you cannot set up step-up or approve requests.`,
  'stepup.duo_account_inactive': (d, f) =>
    `Your own Duo account ${f.strong(d.username)} is ${label(d.status)}, so it cannot confirm step-up with a Duo Push. Ask a Duo administrator to make it Active, then run ${f.command('mfa')} again.`,
  'stepup.no_push_phone': (d, f) =>
    `Your own Duo account ${f.strong(d.username)} has no phone that takes Duo Push, and confirming step-up needs a push approved on your phone. Activate Duo Mobile for it, then run ${f.command('mfa')} again.`,
  'stepup.push_waiting': (d) =>
    `First approve the Duo Push sent to your phone${d.phoneLabel ? ` (${d.phoneLabel})` : ''}, then enter the code again.`,
  'stepup.push_not_approved': (d, f) =>
    `Step-up was not turned on: the Duo Push to your phone was ${{ denied: 'denied', fraud: 'reported as fraud (the audit channel has been told)', timed_out: 'not answered in time', failed: 'not delivered' }[d.result]}. If that was not you, tell your security team. Run ${f.command('mfa')} to start again.`,
  'stepup.enrollment_expired': (d, f) =>
    `This set-up was not confirmed within ${d.minutes} minutes and was withdrawn. Run ${f.command('mfa')} to start again.`,
  'mfa.reset_needs_user': (_d, f) => `Say whose enrollment to reset, e.g. ${f.command('mfa reset @hank')}.`,
  'mfa.unknown_option': (_d, f) =>
    `Use ${f.command('mfa')} (set up your authenticator), ${f.command('mfa status')}, or ${f.command('mfa reset @someone')} (owners).`,

  // responders and settings
  'responders.unknown_role': (d, f) => `${f.code(d.typed)} is not a role. Roles: ${d.roles.join(', ')}.`,
  'responders.bad_user_id': (d, f) =>
    `${f.code(d.typed)} is not a Slack user id (it looks like U0123ABCD; find it in the person's Slack profile under "Copy member ID").`,
  'responders.self_change': () => 'You cannot change your own role.',
  'responders.not_a_responder': (d, f) => `${f.user(d.userId)} is not a responder.`,
  'responders.last_owner': () => 'That is the last owner: grant another owner first.',
  'roles.gone': (d, f) =>
    `${f.user(d.userId)} is not a responder (any more). Close this and reopen ${f.command('roles')}.`,
  'roles.unknown_setting': () => 'There is no such setting.',
  'roles.bad_input': (d) =>
    ({
      lists: 'Choose a person and a role from the lists.',
      person: 'Pick a person.',
      role: 'Choose a role.',
      value: 'Enter a value.',
    })[d.issue],
  'settings.unknown': (d, f) =>
    `There is no setting called ${f.code(d.typed)}. Settings: ${d.names.map(f.code).join(', ')}.`,
  'settings.bad_value': (d, f) =>
    `${f.code(d.typed)} is not a valid value for ${f.code(d.name)}: expected ${
      d.expected === 'on_off'
        ? 'on or off'
        : d.expected === 'number'
          ? 'a whole number within the allowed range'
          : d.choices.join(', ')
    }.`,

  // audit
  // device help
  'device.no_slack_match': () =>
    'No Slack account of the employee can confirm: none has the Duo user’s email, or it is a guest or an external (Slack Connect) account. Without a Duo Push, the request needs a second person’s approval.',
  'device.confirmation_open': (d, f) =>
    `The employee was asked already; that question is open until ${f.date(d.expiresAt)}. Wait for their answer.`,
  'device.confirmation_gone': () => 'That confirmation does not exist (any more).',
  'device.confirmation_not_yours': () =>
    'This confirmation is not yours to answer: only the employee it was sent to can answer it, from their own Slack account.',
  'device.confirmation_answered': (d) =>
    d.state === 'expired' ? 'This question expired (10 minutes). Nothing was changed.' : 'This was answered already.',
  'device.employee_said_not_me': (d, f) =>
    `The employee said "This wasn't me" (${f.date(d.at)}): device help for this user is stopped for 24 hours. The audit channel was alerted; do not proceed.`,
  'device.no_email': () => 'This user has no email address in Duo.',
  'device.not_found': (d, f) => `That device is no longer on ${f.code(d.username)}. Look the user up again.`,
  'device.last_device': (d, f) =>
    `This is ${f.code(d.username)}'s only device: removing it needs the enrollment email afterwards (tick it), so they can enroll a new one.`,
  'device.bad_validity': (d) => `Pick a link validity of at most ${d.max} hours.`,
  'audit.bad_args': (d, f) => {
    const why = {
      too_many: '',
      format: `Say which format: ${f.code('csv')} or ${f.code('json')}. `,
      date: `${d.flag ?? 'A date'} must be an ISO date such as 2026-11-01 or 2026-11-01T08:00:00Z. `,
      order: 'since must be before until. ',
    }[d.issue];
    return `${why}${AUDIT_USAGE(f)}`;
  },
  'users.export_too_large': (d) =>
    `That filter has more than ${d.max.toLocaleString('en-US')} users, more than one export holds. Pick a narrower filter.`,
  'codes.no_weak_codes': () => 'There are no weak bypass codes (every valid code has an expiry): nothing to delete.',
  'users.bulk_bad_input': (d) =>
    ({
      none: 'Pick at least one user.',
      too_many: `Pick at most ${d.max} users at once.`,
      status: 'Pick Active or Disabled (bypass status is set one user at a time, with its own time limit).',
    })[d.issue],
  'users.bulk_nothing_left': (d) =>
    `None of the ${d.excluded} picked users can be changed: users managed by directory sync cannot be disabled here (their directory owns that status).`,
  'users.bad_args': (d, f) =>
    d.issue === 'filter'
      ? `Unknown filter. Usage: ${f.command('users [all|not_enrolled|inactive|trash|bypass|locked_out]')} or ${f.command('users export csv|json [filter]')}.`
      : `Say which format: ${f.code('csv')} or ${f.code('json')}. Usage: ${f.command('users export csv|json [filter]')}.`,
  // creating users
  'create.bad_username': () => 'A username of up to 100 characters, without spaces or commas.',
  'create.bad_email': () => 'An email address such as narroway@example.com (or leave it empty).',
  'create.bad_aliases': (d) =>
    ({
      too_many: 'At most 8 aliases, one per line.',
      duplicate: 'Each alias must differ from the username and from the other aliases.',
      format: 'One alias per line, without spaces or commas.',
    })[d.issue],
  'create.taken': (d, f) =>
    `${f.code(d.name)} is already a Duo username or alias: usernames and aliases must be unique. Look them up with ${f.command(`lookup ${d.name}`)}.`,
  // editing users
  'edit.nothing_changed': (d, f) => `Nothing differs from what Duo has for ${f.code(d.username)}: nothing was changed.`,
  'edit.bad_email': () => 'An email address such as narroway@example.com.',
  'edit.bad_aliases': (d) =>
    ({
      too_many: 'At most 8 aliases, one per line.',
      duplicate: 'Each alias must differ from the username and from the other aliases.',
      format: 'One alias per line, without spaces or commas.',
    })[d.issue],
  'edit.pending_deletion': (d, f) =>
    `${f.code(d.username)} is in the Trash (pending deletion): restore them before editing.`,
  'restore.not_in_trash': (d, f) =>
    `${f.code(d.username)} is not in the Trash (status ${label(d.status)}): there is nothing to restore.`,
  'trash.already': (d, f) => `${f.code(d.username)} is already in the Trash.`,
  'delete.not_in_trash': (d, f) =>
    `${f.code(d.username)} is not in the Trash: send them there first (${f.command(`trash ${d.username} <reason>`)}); only users in the Trash are deleted permanently.`,
  'delete.too_many': () => 'At most 100 users at once.',
  // one-user directory sync
  'sync.no_directories': (_d, f) =>
    `No synced directory is configured: set ${f.code('DUO_DESK_DIRECTORIES')} to Duo's directory keys and names (Duo Admin Panel: Users, Directory Sync).`,
  'sync.which_directory': (d, f) =>
    `Say which directory, e.g. ${f.command('sync niaj <directory>')}: ${d.names.map((n) => f.code(n)).join(', ')}.`,
  'sync.unknown_directory': (d, f) =>
    `No synced directory is called ${f.code(d.typed)}. The directories: ${d.names.map((n) => f.code(n)).join(', ')}.`,
  'sync.not_in_directory': (d, f) =>
    `${f.code(d.username)} is neither in ${f.code(d.directory)} nor a Duo user synced from it: check the username (the directory's login name), or the directory.`,
};

/** What a person reads for an error code when the error names no problem. */
export const CODE_TEXT: Record<ErrorCode, (f: Fmt) => string> = {
  NOT_A_RESPONDER: (f) =>
    `You are not a duo-desk responder, so duo-desk can't act for you. Ask a duo-desk owner or administrator to grant you a role (${f.command('roles')}), or the person who installed duo-desk (${f.code('npx duo-desk roles grant <your Slack user id> <role>')}).`,
  FOREIGN_TEAM: () =>
    'duo-desk only acts for members of the workspace it is installed in. Requests from other workspaces and Slack Connect guests are refused.',
  PERMISSION_DENIED: () => "You don't have permission to do that.",
  INVALID_INPUT: () => "That input isn't valid.",
  UNKNOWN_SUBCOMMAND: (f) => `I don't know that command. Try ${f.command('help')}.`,
  NOT_FOUND: () => "I couldn't find that.",
  AMBIGUOUS_USER: () => 'More than one Duo user matches. Use the exact username.',
  INVALID_STATE: () => 'That is no longer possible: things changed in the meantime. Look the user up again.',
  CONFLICT: () => 'Someone else changed this at the same moment. Look again and retry if still needed.',
  LIMIT_REACHED: () => 'A limit was reached.',
  VERIFICATION_REQUIRED: (f) =>
    `Verify the caller first: send a Duo Push with ${f.command('verify <user>')} and have them read back the confirmation code.`,
  STEP_UP_REQUIRED: () => 'This needs a current code from your authenticator app.',
  STEP_UP_NOT_ENROLLED: (f) => `You need to enroll an authenticator app first: run ${f.command('mfa')}.`,
  STEP_UP_INVALID: () => "That code isn't valid. Enter the current 6-digit code from your authenticator app.",
  STEP_UP_LOCKED: () => 'Too many wrong codes: step-up is locked for 15 minutes. The audit channel has been told.',
  DUO_INVALID_SIGNATURE: () =>
    "Duo rejected duo-desk's credentials (invalid signature). An administrator should check DUO_IKEY, DUO_SKEY and DUO_HOST and the server clock.",
  DUO_FORBIDDEN: () =>
    "Duo refused: the Admin API application lacks a permission (grant). An administrator should enable the needed grant in Duo's Admin Panel.",
  DUO_NOT_FOUND: () => 'Duo could not find that user or object. It may have been deleted.',
  DUO_RATE_LIMITED: () => 'Duo is rate limiting duo-desk right now. Nothing was changed. Wait a minute and try again.',
  DUO_UNAVAILABLE: () => 'Duo is unreachable or failing right now. Nothing was changed. Try again in a moment.',
  DUO_TIMEOUT: () => "Duo didn't answer in time. Try again in a moment.",
  DUO_BAD_RESPONSE: () =>
    'Duo sent an answer duo-desk could not read. Try again; if it persists, tell an administrator.',
  DUO_REQUEST_REJECTED: () => 'Duo rejected the request.',
  DUO_LIMIT_EXCEEDED: (f) =>
    `Duo refused: the user has reached the limit of 100 bypass codes. Delete unused codes first (${f.command('codes <user>')}).`,
  CONFIG_INVALID: () => 'duo-desk is misconfigured. Tell an administrator.',
  DATA_DIR_LOCKED: () => 'The data directory is in use by another duo-desk process.',
};

/** The sentence for an error the product knows: its problem's, or its code's default. */
export function explain(err: AppError, f: Fmt): string {
  const p = err.problem;
  if (!p) return CODE_TEXT[err.code](f);
  // Names and facts travel together (src/errors.ts Problem), so this text takes these facts.
  const text = PROBLEM_TEXT[p.name] as (facts: Problem['facts'], f: Fmt) => string;
  return text(p.facts, f);
}
