import { phoneLabel, STATUS_LABELS } from '../src/domain/duo-user.js';
import type { UserCardModel } from '../src/usecases/lookup.js';
import type { VerificationView } from '../src/usecases/verification-policy.js';
import { actions, type Block, button, context, divider, esc, header, mrkdwn, section, slackDate } from './common.js';
import { deviceCardBlocks } from './devices.js';
import { FLOW_TEXT } from './flows.js';
import { cardActionId } from './ids.js';

/** The user card: everything a help-desk agent needs on the call, and only the buttons they may use. */

const when = (unix: number | null | undefined, none = 'never') => (unix ? slackDate(new Date(unix * 1000)) : none);

export function verificationText(v: VerificationView | null): string {
  if (!v) return 'No verification yet';
  const by = `by <@${v.responderUserId}>`;
  switch (v.status) {
    case 'waiting':
      return `:hourglass_flowing_sand: Push sent ${slackDate(v.sentAt)} ${by}, waiting for an answer`;
    case 'approved':
      return `:white_check_mark: Approved ${slackDate(v.answeredAt ?? v.sentAt)} (push ${by})`;
    case 'denied':
      return `:x: Denied ${slackDate(v.answeredAt ?? v.sentAt)} (push ${by})`;
    case 'fraud':
      return `:rotating_light: Reported as FRAUD ${slackDate(v.answeredAt ?? v.sentAt)} (push ${by})`;
    case 'timed_out':
      return `:hourglass: Timed out ${slackDate(v.answeredAt ?? v.sentAt)} (push ${by})`;
    default:
      return `:warning: Push failed ${slackDate(v.sentAt)} (${by})`;
  }
}

export function statusText(status: string, lockoutReason: string | null | undefined): string {
  const label = STATUS_LABELS[status] ?? status;
  const icon =
    status === 'active'
      ? ':large_green_circle:'
      : status === 'locked out'
        ? ':lock:'
        : status === 'bypass'
          ? ':warning:'
          : ':red_circle:';
  return `${icon} ${label}${status === 'locked out' && lockoutReason ? ` (${esc(lockoutReason)})` : ''}`;
}

export function userCard(m: UserCardModel): { text: string; blocks: Block[] } {
  const u = m.user;
  const aliases = Object.values(u.aliases ?? {}).filter(Boolean);
  const phones = (u.phones ?? []).map((p) => {
    const caps =
      ['push', 'sms', 'phone'].filter((c) => (p.capabilities ?? []).includes(c)).join(' / ') || 'no capabilities';
    return `• ${esc(phoneLabel(p))}: ${p.activated ? 'Duo Mobile activated' : 'not activated'}, ${caps}${p.last_seen ? `, last seen ${esc(p.last_seen)}` : ''}`;
  });
  const tokens = (u.tokens ?? []).map((t) => `• Hardware token ${esc(t.type ?? '')} ${esc(t.serial ?? '')}`.trim());
  const webauthn = (u.webauthncredentials ?? []).map(
    (w) => `• Security key: ${esc(w.credential_name ?? w.label ?? 'WebAuthn')}`,
  );
  const devices = [...phones, ...tokens, ...webauthn];
  const groups = (u.groups ?? []).map((g) => esc(g.name)).join(', ');
  const title = `${u.realname ? esc(u.realname) : esc(u.username)} (${esc(u.username)})`;
  const fields = [
    `*Status*\n${statusText(u.status, u.lockout_reason)}`,
    `*Enrolled*\n${u.is_enrolled ? 'Yes' : 'No'}`,
    `*Email*\n${u.email ? esc(u.email) : '_none_'}`,
    `*Aliases*\n${aliases.length ? aliases.map(esc).join(', ') : '_none_'}`,
    `*Last login*\n${when(u.last_login)}`,
    `*Created*\n${when(u.created, 'unknown')}`,
    `*Active bypass codes*\n${m.activeBypassCodes}`,
    `*Groups*\n${groups || '_none_'}`,
  ].map(mrkdwn);
  const blocks: Block[] = [
    header(title.slice(0, 150)),
    { type: 'section', fields },
    ...(m.directorySynced
      ? [
          context(
            `:arrows_counterclockwise: Managed by directory sync${u.last_directory_sync ? ` (last sync ${when(u.last_directory_sync)})` : ''}: status and fields come from the source directory.`,
          ),
        ]
      : []),
    ...(m.trash
      ? [
          context(
            m.trash.markedAt
              ? `:wastebasket: In the Trash since ${slackDate(m.trash.markedAt)} (by duo-desk); Duo deletes them permanently after its Trash duration (7 days by default): about ${slackDate(m.trash.deletesAround ?? m.trash.markedAt)}, unless restored.`
              : ":wastebasket: In the Trash, marked outside duo-desk (Admin Panel, a sync or inactivity): Duo's Trash view shows when it deletes them.",
          ),
        ]
      : []),
    section(`*Devices*\n${devices.length ? devices.join('\n') : '_No enrolled devices._'}`),
    section(`*Last verification*\n${verificationText(m.lastVerification)}`),
  ];
  const deviceBlocks = deviceCardBlocks(u.user_id, m.devices ?? []);
  if (deviceBlocks.length) blocks.push(divider(), ...deviceBlocks);
  if (m.actions.length) {
    blocks.push(divider());
    blocks.push(
      actions(
        'card_actions',
        m.actions.map((f) => button(FLOW_TEXT[f].card.text, cardActionId(f), u.user_id, FLOW_TEXT[f].card.style)),
      ),
    );
  } else if (!deviceBlocks.length) blocks.push(context('Your role allows no actions on this user.'));
  return { text: `Duo user ${u.username}: ${STATUS_LABELS[u.status] ?? u.status}`, blocks };
}
