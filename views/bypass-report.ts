import type { BypassReport, Creator } from '../src/usecases/bypass-report.js';
import type { ModalView } from './block-kit.js';
import {
  actions,
  type Block,
  button,
  context,
  esc,
  modalTitle,
  plain,
  reasonInput,
  section,
  textInput,
  truncate,
} from './common.js';
import { ACTIONS, BLOCKS, VIEWS } from './ids.js';

/** `/duo users codes`: counts only, by user and by creator. No code is ever shown (Duo's list has none). */
const n = (x: number) => x.toLocaleString('en-US');

const creatorText = (c: Creator) =>
  c.kind === 'responder'
    ? `<@${c.userId}> (through duo-desk; Duo says API)`
    : c.kind === 'admin'
      ? esc(truncate(c.email, 120))
      : 'API (not through duo-desk)';

const group = (g: { total: number; weak: number }) =>
  `${n(g.total)} ${g.total === 1 ? 'code' : 'codes'}, ${n(g.weak)} weak`;

export function bypassReportMessage(r: BypassReport, rows: number): { text: string; blocks: Block[] } {
  const blocks: Block[] = [
    section(
      `:key: *Bypass codes*: ${n(r.total)} valid ${r.total === 1 ? 'code' : 'codes'} for ${n(r.users)} ${r.users === 1 ? 'user' : 'users'}; *${n(r.weak)} weak* (no expiry).`,
    ),
  ];
  if (r.total) {
    blocks.push(
      section(
        `*By user* (most weak codes first)\n${r.byUser
          .slice(0, rows)
          .map((u) => `• *${esc(truncate(u.username, 100))}*: ${group(u)}`)
          .join('\n')}${r.byUser.length > rows ? `\n… and ${n(r.byUser.length - rows)} more users` : ''}`,
      ),
      section(
        `*By creator*\n${r.byCreator
          .slice(0, rows)
          .map((g) => `• ${creatorText(g.creator)}: ${group(g)}`)
          .join('\n')}`,
      ),
    );
  }
  if (r.weak)
    blocks.push(
      actions('codes_report_actions', [
        button(`Delete the ${n(r.weak)} weak codes…`, ACTIONS.codesDeleteWeak, 'weak', 'danger'),
      ]),
    );
  blocks.push(
    context(
      'Weak codes never expire: each works until its uses run out. The codes themselves are never shown here (Duo does not list them).',
    ),
  );
  return { text: `${n(r.total)} bypass codes, ${n(r.weak)} weak`, blocks };
}

/** The deletion form: a reason and the actor's code; the codes are whatever Duo lists as weak when it is sent. */
export function weakCodesModal(weak: number, channelId: string): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.weakCodes,
    title: modalTitle('Delete weak codes'),
    submit: plain('Ask for approval'),
    close: plain('Cancel'),
    private_metadata: JSON.stringify({ channelId }),
    blocks: [
      section(
        `:warning: Delete every weak bypass code (${n(weak)} now; at most 500 per request). Anyone relying on one can no longer sign in with it. A second person approves; each code is read from Duo again first.`,
      ),
      reasonInput('Why these codes go (e.g. the audit finding)'),
      textInput(BLOCKS.totp, 'Code from your authenticator app', { max: 7, placeholder: '6-digit code' }),
    ],
  };
}

export function weakCodesSubmittedModal(state: string, count: number, approvalChannel: string | undefined): ModalView {
  const text =
    state === 'pending'
      ? `:outbox_tray: Deleting ${n(count)} weak ${count === 1 ? 'code' : 'codes'} is waiting for a second person's approval${approvalChannel ? ` in <#${approvalChannel}>` : ''}. Nothing is deleted until then.`
      : `:information_source: The request ended as ${esc(state)}: see the approval card.`;
  return {
    type: 'modal',
    callback_id: VIEWS.weakCodes,
    title: modalTitle('Delete weak codes'),
    close: plain('Close'),
    blocks: [section(text)],
  };
}
