import { AUDIT_ACTIONS, type AuditAction } from '../src/audit/actions.js';
import { ROLE_LABELS } from '../src/domain/roles.js';
import { formatSettingValue, SETTING_NAMES } from '../src/domain/settings.js';
import type { ApprovalView } from '../src/usecases/approval-model.js';
import type { HomeModel } from '../src/usecases/home.js';
import { kindText } from './approvals.js';
import type { HomeView } from './block-kit.js';
import { actions, type Block, button, context, divider, esc, header, section, slackDate } from './common.js';
import { ACTIONS, SLASH_COMMAND } from './ids.js';

/** Slack allows 100 blocks on a Home tab; lists are capped well below. */
const MAX_BLOCKS = 100;

const STEP_UP_TEXT: Record<string, string> = {
  active: ':white_check_mark: TOTP step-up enrolled',
  pending: ':hourglass: TOTP enrollment started, not confirmed',
  none: `:warning: No TOTP step-up yet: run \`${SLASH_COMMAND} mfa\` to enroll (needed to approve)`,
};

const requestLine = (r: ApprovalView) => {
  const t = kindText(r.kind);
  const target = r.target ? ` for \`${esc(r.target.username)}\`` : '';
  return `*${esc(t.title)}*${target}\n${t.summary(r)} · asked by <@${r.requesterUserId}> ${slackDate(r.createdAt)} · expires ${slackDate(r.expiresAt)}`;
};

export function homeView(m: HomeModel): HomeView {
  const blocks: Block[] = [header('duo-desk')];
  if (!m.actor) {
    blocks.push(
      section(
        `You are not a duo-desk responder. An owner can add you with \`${SLASH_COMMAND} roles\`; until then \`${SLASH_COMMAND} help\` shows what duo-desk does.`,
      ),
    );
    return { type: 'home', blocks };
  }
  const a = m.actor;
  const locked = m.stepUp.lockedUntil && m.stepUp.lockedUntil > m.now;
  blocks.push(
    section(
      `*Your role:* ${ROLE_LABELS[a.role]}${a.approver ? ' · approver' : ''}\n*Step-up:* ${
        locked
          ? `:lock: locked until ${slackDate(m.stepUp.lockedUntil!)} after failed codes`
          : (STEP_UP_TEXT[m.stepUp.status] ?? m.stepUp.status)
      }`,
    ),
    divider(),
    header('Approvals waiting for you'),
  );
  if (!m.toDecide.length) blocks.push(context('Nothing to approve right now.'));
  m.toDecide.forEach((r, i) => {
    blocks.push(
      section(requestLine(r)),
      actions(`home_approval_${i}`, [
        button('Approve', ACTIONS.approvalApprove, r.id, 'primary'),
        button('Deny', ACTIONS.approvalDeny, r.id, 'danger'),
      ]),
    );
  });
  blocks.push(header('Your requests waiting'));
  if (!m.waiting.length) blocks.push(context('None of your requests is waiting for an approver.'));
  for (const r of m.waiting) blocks.push(section(requestLine(r)));
  blocks.push(header('Your last actions'));
  if (!m.recent.length) blocks.push(context('Nothing yet.'));
  else
    blocks.push(
      section(
        m.recent
          .map(
            (e) =>
              `• ${AUDIT_ACTIONS[e.action as AuditAction] ?? esc(e.action)}${e.target ? ` \`${esc(e.target)}\`` : ''} (${e.outcome}) ${slackDate(e.at)}`,
          )
          .join('\n'),
      ),
    );
  if (m.settings) {
    const s = m.settings as Record<string, unknown>;
    blocks.push(
      divider(),
      header('Settings (owners)'),
      section(SETTING_NAMES.map((n) => `\`${n}\` ${formatSettingValue(s[n])}`).join('\n')),
      context(`Change them and who holds which role with \`${SLASH_COMMAND} roles\`.`),
    );
  }
  return { type: 'home', blocks: blocks.slice(0, MAX_BLOCKS) };
}
