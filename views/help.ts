import type { FlowName } from '../src/domain/flows.js';
import type { Actor } from '../src/domain/roles.js';
import { ROLE_LABELS } from '../src/domain/roles.js';
import { type Block, context, header, section } from './common.js';
import { FLOW_TEXT } from './flows.js';
import { SLASH_COMMAND } from './ids.js';

/** `/duo help`: the flows this responder may start (help itself is not listed). */
export function helpMessage(actor: Actor, flows: readonly FlowName[]): { text: string; blocks: Block[] } {
  const lines = flows
    .filter((f) => f !== 'help')
    .map((f) => {
      const h = FLOW_TEXT[f].help;
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
