import type { CardFlow, FlowName } from '../src/domain/flows.js';

/**
 * The Slack half of each flow's descriptor that people read: its line in `/duo help` and, for the
 * flows the user card offers, its button. Keyed by the core's flow names (src/domain/flows.ts): a
 * flow without its help, or a card flow without its button, does not compile.
 */
export interface FlowHelp {
  usage: string;
  summary: string;
  example: string;
}

export interface CardButton {
  text: string;
  style?: 'primary' | 'danger';
}

export type FlowTexts = { [F in FlowName]: { help: FlowHelp } & (F extends CardFlow ? { card: CardButton } : unknown) };

export const FLOW_TEXT: FlowTexts = {
  help: { help: { usage: 'help', summary: 'What you can do with duo-desk.', example: 'help' } },
  lookup: {
    help: {
      usage: 'lookup <username | alias | email>',
      summary: 'Show a Duo user: status, devices, bypass codes, last verification, and the actions you may take.',
      example: 'lookup alice',
    },
  },
  verify: {
    help: {
      usage: 'verify <user>',
      summary: 'Send a Duo Push to the caller and read them the confirmation code. Do this first.',
      example: 'verify alice',
    },
    card: { text: 'Verify with Duo Push', style: 'primary' },
  },
  unlock: {
    help: {
      usage: 'unlock <user>',
      summary: 'Set a locked-out or disabled user back to active (needs a recent verification).',
      example: 'unlock bob',
    },
    card: { text: 'Unlock' },
  },
  status: {
    help: {
      usage: 'status <user>',
      summary: "Change a user's status (active, bypass, disabled).",
      example: 'status carol',
    },
    card: { text: 'Change status' },
  },
  bypass: {
    help: {
      usage: 'bypass <user>',
      summary: 'Request bypass codes; a second person approves; the codes come to you only.',
      example: 'bypass alice',
    },
    card: { text: 'Request bypass codes' },
  },
  enroll: {
    help: {
      usage: 'enroll <user>',
      summary: 'Send the enrollment email to a user who has no device yet.',
      example: 'enroll frank',
    },
    card: { text: 'Send enrollment email' },
  },
  codes: {
    help: { usage: 'codes <user>', summary: "List and delete a user's bypass codes.", example: 'codes peggy' },
    card: { text: 'Bypass codes' },
  },
  audit: {
    help: {
      usage: 'audit [user] | audit export csv|json',
      summary: 'Recent audit events, or the whole trail as a file.',
      example: 'audit alice',
    },
  },
  roles: {
    help: {
      usage: 'roles',
      summary: 'Manage responders, roles, approvers (and settings, for owners).',
      example: 'roles',
    },
  },
  mfa: {
    help: { usage: 'mfa', summary: 'Enroll an authenticator app for step-up (required to approve).', example: 'mfa' },
  },
  users: {
    help: {
      usage: 'users [filter] | users export csv|json [filter] | users codes',
      summary: 'Counts of Duo users (not enrolled, inactive, Trash, bypass, locked out), each a list; export a filter.',
      example: 'users locked_out',
    },
  },
  sync: {
    help: {
      usage: 'sync <username> [directory]',
      summary: 'Sync one user from the directory now (creates, updates, or sends to Trash as the directory says).',
      example: 'sync niaj',
    },
  },
  create: {
    help: {
      usage: 'create',
      summary: 'Create a Duo user (username, full name, email, aliases), then send the enrollment email.',
      example: 'create',
    },
  },
  edit: {
    help: {
      usage: 'edit <user>',
      summary:
        "Edit a user's full name, email and notes (and, for managers, aliases and the authentication experience).",
      example: 'edit frank',
    },
    card: { text: 'Edit user' },
  },
  restore: {
    help: {
      usage: 'restore <user>',
      summary: 'Restore a user from the Trash (they stay Disabled until someone sets Active).',
      example: 'restore olivia',
    },
    card: { text: 'Restore from Trash' },
  },
  trash: {
    help: {
      usage: 'trash <user> <reason>',
      summary: 'Send a user to the Trash (disabled now, deleted by Duo later); a second person approves.',
      example: 'trash frank Left the company, ticket INC-4242',
    },
  },
  delete: {
    help: {
      usage: 'delete <user>[,<user>…] <reason>',
      summary:
        'Delete users in the Trash permanently (their unshared phones and endpoints too; they must re-enroll). More than one: an owner approves.',
      example: 'delete olivia Duplicate account, ticket INC-5151',
    },
  },
};
