/** Duo's own administrator roles, which duo-desk mirrors for its responders. */
export const ROLES = [
  'owner',
  'administrator',
  'application_manager',
  'user_manager',
  'help_desk',
  'read_only',
] as const;
export type Role = (typeof ROLES)[number];

/** Names as Duo's Admin Panel shows them. */
export const ROLE_LABELS: Record<Role, string> = {
  owner: 'Owner',
  administrator: 'Administrator',
  application_manager: 'Application Manager',
  user_manager: 'User Manager',
  help_desk: 'Help Desk',
  read_only: 'Read-only',
};

/** Roles an administrator may grant, change and revoke (those below administrator). */
export const ROLES_BELOW_ADMINISTRATOR: Role[] = ['application_manager', 'user_manager', 'help_desk', 'read_only'];

export interface Actor {
  teamId: string;
  userId: string;
  role: Role;
  approver: boolean;
}
