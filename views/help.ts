import { FLOWS, type FlowName, type FlowPolicy } from '../src/domain/flows.js';
import type { GuardedAction, Guards } from '../src/domain/guards.js';
import type { Actor } from '../src/domain/roles.js';
import { ROLE_LABELS } from '../src/domain/roles.js';
import type { Message } from './block-kit.js';
import { context, header, section } from './common.js';
import { FLOW_TEXT } from './flows.js';
import { SLASH_COMMAND } from './ids.js';

/** What each guarded change is called in help. */
const GUARDED_LABEL: Record<GuardedAction, string> = {
  unlock: 'Unlock',
  bypass_codes: 'Bypass codes',
  bypass_status: 'Bypass status',
  weakening_setting: 'Weakening a setting',
  powerful_role: 'Granting Owner or Administrator',
  approver_flag: 'Granting the approver flag',
  stepup_reset: "Resetting someone's step-up",
  device_reactivate: 'Reactivating Duo Mobile',
  device_remove: 'Removing a device',
  device_sms_passcodes: 'Sending SMS passcodes',
  bulk_status: 'Changing the status of several users',
  weak_codes_delete: 'Deleting all weak bypass codes',
  email_change: "Changing an enrolled user's email",
  user_trash: 'Sending a user to the Trash',
  user_delete: 'Deleting a user permanently',
  user_delete_bulk: 'Deleting several users permanently (an owner approves)',
};

/** The guards in front of a change, as they apply to this responder now, in a few words. */
export function guardText(g: Guards): string {
  const parts = [
    g.verificationMinutes !== null ? `caller verified by your push (within ${g.verificationMinutes} min)` : '',
    g.stepUp ? 'your step-up code' : '',
    {
      none: '',
      second_person: 'a second person approves',
      second_owner: 'a second Owner approves',
      delay: `waits ${g.delayHours} h (announced; any Owner can cancel)`,
    }[g.approval],
    g.timeBox ? `ends by itself (at most ${g.timeBox.maxMinutes} min)` : '',
  ].filter(Boolean);
  return parts.length ? parts.join(' · ') : 'no extra guard';
}

/** `/duo help`: the flows this responder may start (help itself is not listed), with their guards. */
export function helpMessage(
  actor: Actor,
  flows: readonly FlowName[],
  guards: Partial<Record<GuardedAction, Guards>> = {},
): Message {
  const lines = flows
    .filter((f) => f !== 'help')
    .map((f) => {
      const h = FLOW_TEXT[f].help;
      const guarded = ((FLOWS[f] as FlowPolicy).guarded ?? [])
        .filter((g) => guards[g])
        .map((g) => `\n   :shield: _${GUARDED_LABEL[g]}:_ ${guardText(guards[g]!)}`)
        .join('');
      return `• \`${SLASH_COMMAND} ${h.usage}\`\n   ${h.summary} _e.g._ \`${SLASH_COMMAND} ${h.example}\`${guarded}`;
    });
  const role = `${ROLE_LABELS[actor.role]}${actor.approver ? ', approver' : ''}`;
  return {
    text: `duo-desk: what you can do (${role})\n${lines.join('\n')}`,
    blocks: [
      header('duo-desk: Duo help-desk tools'),
      context(`You are a *${role}* responder. These are the commands your role allows:`),
      ...lines.map((l) => section(l)),
      context(':shield: Verify the caller with a Duo Push before any change. Never ask for or paste codes into Slack.'),
    ],
  };
}
