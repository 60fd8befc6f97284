/**
 * The users overview's counts, as the seed (Duo's "Listing Users") names them: the total, "Not Enrolled" users
 * without any authentication device, users inactive for 30 days, users in the Trash (pending deletion), and users
 * with bypass or locked out status. Each count is also a filter of the paged list and of the export.
 *
 * The definitions, one per filter (users in the Trash count only in "trash", as on Duo's Users page, whose other
 * views do not show them):
 *   all           every user not in the Trash
 *   not_enrolled  not in the Trash and without any device (Duo's is_enrolled false, pending enrollment included)
 *   inactive      not in the Trash and no login for 30 days: last login before now − 30 days, or never logged in
 *                 and created before now − 30 days (a user created yesterday is not "inactive for 30 days")
 *   trash         status "pending deletion"
 *   bypass        status "bypass"
 *   locked_out    status "locked out"
 */
export const USER_FILTERS = ['all', 'not_enrolled', 'inactive', 'trash', 'bypass', 'locked_out'] as const;
export type UserFilter = (typeof USER_FILTERS)[number];

export const INACTIVE_AFTER_DAYS = 30;

/** Names as Duo's Users page shows them. */
export const USER_FILTER_LABELS: Record<UserFilter, string> = {
  all: 'Total users',
  not_enrolled: 'Not enrolled',
  inactive: `Inactive (${INACTIVE_AFTER_DAYS} days)`,
  trash: 'In Trash',
  bypass: 'Bypass',
  locked_out: 'Locked out',
};

/** The facts of one user the filters read (the directory index keeps them; Duo's user object has them). */
export interface OverviewFacts {
  status: string | null;
  isEnrolled: boolean | null;
  lastLogin: Date | null;
  created: Date | null;
}

export const inactiveBefore = (now: Date): Date => new Date(now.getTime() - INACTIVE_AFTER_DAYS * 86_400_000);

/** Whether a user is in a filter at `now` (the SQL in src/usecases/users-overview.ts says the same). */
export function inFilter(filter: UserFilter, u: OverviewFacts, now: Date): boolean {
  const trashed = u.status === 'pending deletion';
  switch (filter) {
    case 'trash':
      return trashed;
    case 'bypass':
      return u.status === 'bypass';
    case 'locked_out':
      return u.status === 'locked out';
    case 'all':
      return !trashed;
    case 'not_enrolled':
      return !trashed && u.isEnrolled === false;
    case 'inactive': {
      const cut = inactiveBefore(now).getTime();
      if (trashed) return false;
      if (u.lastLogin) return u.lastLogin.getTime() < cut;
      return u.created !== null && u.created.getTime() < cut;
    }
  }
}

/** Rows of one page of a filtered list. */
export const USERS_PAGE_SIZE = 20;
/** Rows of an export (the whole filter); past this the export refuses rather than truncating silently. */
export const USERS_EXPORT_MAX = 200_000;
