import { join } from 'node:path';
import type { Role } from '../domain/roles.js';

/**
 * Local mode's stand-in workspace: a few people and channels, and demo responders so the first
 * `/duo help` works without any set-up (the sandbox, sandbox.ts, fills the stand-in with them). Plain data, so
 * the CLI can read it without loading local mode and its fakes.
 */
export const LOCAL_TEAM_ID = 'T0DUODESK';
export const LOCAL_CHANNELS = {
  helpdesk: 'C0HELPDESK',
  audit: 'C0AUDITLOG',
  approvals: 'C0APPROVALS',
};

export interface LocalPerson {
  id: string;
  name: string;
  realName: string;
  role: Role | null;
  approver: boolean;
  /** Set for the guest from another workspace (a Slack Connect member of #help-desk). */
  teamId?: string;
}

export const LOCAL_PEOPLE: LocalPerson[] = [
  { id: 'U123', name: 'olga', realName: 'Olga Owner', role: 'owner', approver: true },
  { id: 'U234', name: 'hank', realName: 'Hank Helpdesk', role: 'help_desk', approver: false },
  { id: 'U345', name: 'mona', realName: 'Mona Manager', role: 'user_manager', approver: true },
  { id: 'U456', name: 'ravi', realName: 'Ravi Readonly', role: 'read_only', approver: false },
  { id: 'U567', name: 'gus', realName: 'Gus Guest', role: null, approver: false },
  { id: 'U678', name: 'xena', realName: 'Xena Partner', role: null, approver: false, teamId: 'T0PARTNER' },
];

const responders = LOCAL_PEOPLE.filter((p) => p.role).map((p) => p.id);

/**
 * Who is in which channel: everyone (the partner too, through Slack Connect) in #help-desk; the responders in the
 * approvals channel, where requests are decided; those who review the record in the audit channel.
 */
export const LOCAL_CHANNEL_LIST = [
  { id: LOCAL_CHANNELS.helpdesk, name: 'help-desk', members: LOCAL_PEOPLE.map((p) => p.id) },
  { id: LOCAL_CHANNELS.approvals, name: 'duo-desk-approvals', members: responders },
  { id: LOCAL_CHANNELS.audit, name: 'duo-desk-audit', members: ['U123', 'U345', 'U456'] },
];

/** Where a running local mode leaves its console's address and token for `duo-desk slack`. */
export const localStatePath = (dataDir: string) => join(dataDir, 'local-mode.json');
