import type { SyncResult } from '../src/usecases/sync-user.js';
import { type Block, esc, section } from './common.js';
import { userCard } from './user-card.js';

/** `/duo sync`: while Duo syncs, and what Duo has afterwards (the card, or that the user is gone). */
export const syncingText = (username: string) =>
  `:hourglass_flowing_sand: Syncing \`${esc(username)}\` from the directory…`;

export function syncResultMessage(r: SyncResult): { text: string; blocks: Block[] } {
  const from = `from *${esc(r.directory.name)}*`;
  if (!r.card) {
    const text = `Synced \`${esc(r.username)}\` ${from}: Duo has no such user now.`;
    return { text, blocks: [section(text)] };
  }
  const status = r.card.user.status;
  const note =
    status === 'pending deletion'
      ? ' The directory no longer has them: Duo sent them to the Trash (only a sync can restore a synced user).'
      : '';
  const text = `:arrows_counterclockwise: Synced \`${esc(r.username)}\` ${from}.${note}`;
  const card = userCard(r.card);
  return { text, blocks: [section(text), ...card.blocks] };
}
