import type { BypassReport, Creator } from '../src/usecases/bypass-report.js';
import { type Block, context, esc, section, truncate } from './common.js';

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
  blocks.push(
    context(
      'Weak codes never expire: each works until its uses run out. The codes themselves are never shown here (Duo does not list them).',
    ),
  );
  return { text: `${n(r.total)} bypass codes, ${n(r.weak)} weak`, blocks };
}
