import type { ApprovalView } from '../src/usecases/approval-model.js';
import type { Availability } from '../src/usecases/approval-reminders.js';
import { kindText } from './approvals.js';
import type { Message } from './block-kit.js';
import { context, esc, section, slackDate } from './common.js';
import { SLASH_COMMAND } from './ids.js';

const what = (r: ApprovalView) => `${kindText(r.kind).title}${r.target ? ` for \`${esc(r.target.username)}\`` : ''}`;

/** The reminder in the approval card's thread, naming who can decide now. */
export function reminderMessage(r: ApprovalView, a: Availability): Message {
  const who = a.eligible.map((u) => `<@${u}>`).join(' ');
  const text = `:bell: Still waiting for a decision: half of the approval time has passed. It expires ${slackDate(r.expiresAt)}. ${who} can approve or deny it above.`;
  return { text, blocks: [section(text)] };
}

const PROBLEM_TEXT: Record<NonNullable<Availability['problem']>, string> = {
  no_step_up: `no approver has enrolled in TOTP step-up yet (each approver runs \`${SLASH_COMMAND} mfa\`)`,
  only_requester: `you are the only one who could approve it, and nobody approves their own request (an owner can give someone the approver flag with \`${SLASH_COMMAND} roles\`)`,
  no_approver: `nobody holds a role that may approve it (an owner can name approvers with \`${SLASH_COMMAND} roles\`)`,
};

/** To the requester: their request will expire undecided unless someone is made able to decide it. */
export function nobodyAvailableMessage(r: ApprovalView, a: Availability): Message {
  const text = `:warning: Nobody can approve your request (${what(r)}) right now: ${PROBLEM_TEXT[a.problem ?? 'no_approver']}. It expires ${slackDate(r.expiresAt)}.`;
  return { text, blocks: [section(text), context('Cancel it from its card, or ask an owner to set up an approver.')] };
}
