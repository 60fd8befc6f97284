import { type Action, authorize, type Target } from '../domain/authorize.js';
import type { User } from '../domain/duo-objects.js';
import { findActor } from './access.js';
import type { ApprovalView, KindContext } from './approval-model.js';
import { loadSettings } from './settings.js';

/**
 * A kind's re-check when the request is decided or carried out: may the requester, as they are now and under
 * the settings now, still do this? A target that depends on the Duo user is built from Duo's answer now; a user
 * Duo no longer knows means no.
 */
export async function requesterStillMay(
  ctx: Pick<KindContext, 'deps' | 'em'>,
  r: Pick<ApprovalView<unknown>, 'teamId' | 'requesterUserId' | 'target'>,
  action: Action,
  target: Target | ((user: User) => Target),
): Promise<boolean> {
  const requester = await findActor(ctx.em, r.teamId, r.requesterUserId);
  if (!requester) return false;
  let t: Target;
  if (typeof target === 'function') {
    const user = r.target ? await ctx.deps.duo.getUserById(r.target.duoUserId).catch(() => null) : null;
    if (!user) return false;
    t = target(user);
  } else t = target;
  return authorize(requester, action, t, await loadSettings(ctx.em, r.teamId)).allowed;
}
