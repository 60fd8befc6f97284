import type { BypassCodeMeta } from '../src/domain/duo-objects.js';
import type { CodesModel } from '../src/usecases/codes.js';
import type { Message } from './block-kit.js';
import { actions, type Block, button, context, esc, header, section, slackDate } from './common.js';
import { ACTIONS } from './ids.js';

/**
 * A user's bypass codes as Duo lists them: never the codes themselves (Duo does not return them),
 * only when, by whom, until when and how many uses are left. Pure builder.
 */
export const MAX_LISTED = 20;

/** The Delete button's value: the Duo user and the code id, both re-checked against Duo on click. */
export const codeRef = (duoUserId: string, bypassCodeId: string) => `${duoUserId}:${bypassCodeId}`;

function describe(c: BypassCodeMeta, n: number): string {
  const created = c.created ? slackDate(new Date(c.created * 1000)) : 'unknown time';
  const by = c.admin_email ? esc(c.admin_email) : 'API';
  const expiry = c.expiration ? `expires ${slackDate(new Date(c.expiration * 1000))}` : 'never expires';
  const uses = c.reuse_count == null ? 'unlimited uses' : `${c.reuse_count} use${c.reuse_count === 1 ? '' : 's'} left`;
  return `*${n}.* Created ${created} by ${by} · ${expiry} · ${uses}`;
}

export const readingCodesText = (ref: string) =>
  `:mag: Reading the bypass codes of \`${esc(ref.slice(0, 80))}\` from Duo…`;

export function codesMessage(m: CodesModel): Message {
  const u = m.user;
  const n = m.codes.length;
  const title = `Bypass codes of ${u.realname || u.username} (${u.username})`;
  const blocks: Block[] = [header(title)];
  if (m.deleted !== undefined)
    blocks.push(
      context(`:wastebasket: Deleted ${m.deleted} code${m.deleted === 1 ? '' : 's'}. The list below is current.`),
    );
  if (!n) blocks.push(section('_No active bypass codes._'));
  m.codes.slice(0, MAX_LISTED).forEach((c, i) => {
    blocks.push(
      section(describe(c, i + 1), {
        ...(m.canDelete
          ? { accessory: button('Delete', ACTIONS.codesDeleteOne, codeRef(u.user_id, c.bypass_code_id), 'danger') }
          : {}),
      }),
    );
  });
  if (n > MAX_LISTED) blocks.push(context(`…and ${n - MAX_LISTED} more (oldest shown first).`));
  if (n && m.canDelete)
    blocks.push(
      actions('codes_actions', [
        {
          ...button(`Delete all ${n}`, ACTIONS.codesDeleteAll, u.user_id, 'danger'),
          confirm: {
            title: { type: 'plain_text', text: 'Delete all codes?' },
            text: {
              type: 'mrkdwn',
              text: `Delete all ${n} bypass codes of \`${esc(u.username)}\`? They stop working at once.`,
            },
            confirm: { type: 'plain_text', text: 'Delete all' },
            deny: { type: 'plain_text', text: 'Keep them' },
            style: 'danger',
          },
        },
      ]),
    );
  blocks.push(context('Duo never shows existing codes; a lost code is deleted and a new one requested.'));
  return { text: `${title}: ${n} active`, blocks };
}
