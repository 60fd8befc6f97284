import type { Actor } from '../src/domain/roles.js';
import { ROLE_LABELS } from '../src/domain/roles.js';
import { type Block, context, header, section } from './common.js';
import { SLASH_COMMAND } from './ids.js';

export const SUBCOMMAND_HELP: Record<string, { usage: string; summary: string; example: string }> = {
  lookup: {
    usage: 'lookup <username | alias | email>',
    summary: 'Show a Duo user: status, devices, bypass codes, last verification, and the actions you may take.',
    example: 'lookup alice',
  },
  verify: {
    usage: 'verify <user>',
    summary: 'Send a Duo Push to the caller and read them the confirmation code. Do this first.',
    example: 'verify alice',
  },
  unlock: {
    usage: 'unlock <user>',
    summary: 'Set a locked-out or disabled user back to active (needs a recent verification).',
    example: 'unlock bob',
  },
  status: {
    usage: 'status <user>',
    summary: "Change a user's status (active, bypass, disabled).",
    example: 'status carol',
  },
  enroll: {
    usage: 'enroll <user>',
    summary: 'Send the enrollment email to a user who has no device yet.',
    example: 'enroll frank',
  },
  bypass: {
    usage: 'bypass <user>',
    summary: 'Request bypass codes; a second person approves; the codes come to you only.',
    example: 'bypass alice',
  },
  codes: { usage: 'codes <user>', summary: "List and delete a user's bypass codes.", example: 'codes peggy' },
  audit: {
    usage: 'audit [user] | audit export csv|json',
    summary: 'Recent audit events, or the whole trail as a file.',
    example: 'audit alice',
  },
  roles: {
    usage: 'roles',
    summary: 'Manage responders, roles, approvers (and settings, for owners).',
    example: 'roles',
  },
  mfa: { usage: 'mfa', summary: 'Enroll an authenticator app for step-up (required to approve).', example: 'mfa' },
};

export function helpMessage(actor: Actor, names: string[]): { text: string; blocks: Block[] } {
  const lines = names
    .filter((n) => n in SUBCOMMAND_HELP)
    .map((n) => {
      const h = SUBCOMMAND_HELP[n]!;
      return `• \`${SLASH_COMMAND} ${h.usage}\`\n   ${h.summary} _e.g._ \`${SLASH_COMMAND} ${h.example}\``;
    });
  const role = `${ROLE_LABELS[actor.role]}${actor.approver ? ', approver' : ''}`;
  return {
    text: `duo-desk: what you can do (${role})\n${lines.join('\n')}`,
    blocks: [
      header('duo-desk: Duo help-desk tools'),
      context(`You are a *${role}* responder. These are the commands your role allows:`),
      section(lines.join('\n')),
      context(':shield: Verify the caller with a Duo Push before any change. Never ask for or paste codes into Slack.'),
    ],
  };
}
