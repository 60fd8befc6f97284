import type { webApi } from '@slack/bolt';
import type { PeopleDirectory, SlackMember } from '../usecases/deps.js';

/** users.info (scopes users:read and users:read.email): the email Slack holds for a member. */
export class SlackPeople implements PeopleDirectory {
  constructor(private readonly client: webApi.WebClient) {}

  async emailOf(userId: string): Promise<string | null> {
    const r = await this.client.users.info({ user: userId });
    const user = r.user as { deleted?: boolean; is_bot?: boolean; profile?: { email?: string } } | undefined;
    if (!user || user.deleted || user.is_bot) return null;
    const email = user.profile?.email?.trim();
    return email ? email : null;
  }

  async memberByEmail(email: string, teamId: string): Promise<SlackMember> {
    let user: Record<string, unknown> | undefined;
    try {
      user = (await this.client.users.lookupByEmail({ email })).user as Record<string, unknown> | undefined;
    } catch (e) {
      if ((e as { data?: { error?: string } }).data?.error === 'users_not_found')
        return { found: false, why: 'no_account' };
      throw e;
    }
    if (!user || typeof user.id !== 'string') return { found: false, why: 'no_account' };
    if (user.deleted === true || user.is_bot === true) return { found: false, why: 'deactivated' };
    if (user.is_restricted === true || user.is_ultra_restricted === true) return { found: false, why: 'guest' };
    // A Slack Connect user (or any member of another workspace) is not the employee's own account here.
    if (user.is_stranger === true || (typeof user.team_id === 'string' && user.team_id !== teamId))
      return { found: false, why: 'external' };
    return { found: true, userId: user.id };
  }
}
