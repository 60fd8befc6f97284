import type { webApi } from '@slack/bolt';
import type { PeopleDirectory } from '../usecases/deps.js';

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
}
