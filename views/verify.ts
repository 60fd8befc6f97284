import { phoneLabel } from '../src/domain/duo-user.js';
import type { Phone, User } from '../src/duo/types.js';
import type { VerificationView } from '../src/usecases/verification-policy.js';
import type { InputBlockElement, ModalView } from './block-kit.js';
import { type Block, context, esc, header, modalTitle, plain, section, slackDate } from './common.js';
import { BLOCKS, inputActionId, VIEWS } from './ids.js';

export const VERIFY_TITLE = 'Verify with Duo Push';
export const PICK_PHONE_ERROR = 'Pick the phone the caller has with them.';

/** What the working modal says while Duo is asked. */
export function verifyWorkingText(what: { query: string } | 'asking' | 'sending'): string {
  if (what === 'asking') return 'Asking Duo…';
  if (what === 'sending') return 'Sending the push…';
  return `Looking up \`${esc(what.query.slice(0, 80))}\` in Duo…`;
}

/** The verify flow's surfaces: phone picker, "push sent" modal, no-push-device explanation, the DM status message. */
const who = (u: Pick<User, 'username' | 'realname'>) =>
  u.realname ? `${esc(u.realname)} (${esc(u.username)})` : esc(u.username);

/** private_metadata carries the Duo user id only; the submission re-checks the phone against Duo. */
export function phonePickerModal(user: User, phones: Phone[]): ModalView {
  const options = phones.slice(0, 100).map((p) => ({ text: plain(phoneLabel(p)), value: p.phone_id }));
  const element: InputBlockElement =
    options.length <= 10
      ? { type: 'radio_buttons', action_id: inputActionId(BLOCKS.phone), options }
      : { type: 'static_select', action_id: inputActionId(BLOCKS.phone), options, placeholder: plain('Pick a phone') };
  return {
    type: 'modal',
    callback_id: VIEWS.verifyPick,
    private_metadata: user.user_id,
    title: modalTitle(VERIFY_TITLE),
    submit: plain('Send push'),
    close: plain('Cancel'),
    blocks: [
      section(`*${who(user)}* has ${phones.length} phones that can receive Duo Push.`),
      { type: 'input', block_id: BLOCKS.phone, label: plain('Send the push to'), element },
      context('Ask the caller which phone they have with them. Only phones with Duo Mobile activated are listed.'),
    ],
  };
}

export function pushSentModal(user: User, label: string): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.working,
    title: modalTitle(VERIFY_TITLE),
    close: plain('Done'),
    blocks: [
      section(`:iphone: Duo Push sent to *${who(user)}* on *${esc(label)}*.`),
      section(
        ':speech_balloon: The *confirmation code* and the live result are in your DM with duo-desk. Read the code to the caller there.',
      ),
    ],
  };
}

/** Why no push can be sent, in the words of this user's devices, and what to do instead. */
export function noPushDeviceBlocks(user: User): Block[] {
  const facts: string[] = [];
  for (const p of user.phones ?? []) {
    const caps = p.capabilities ?? [];
    const name = esc(phoneLabel(p));
    if (caps.includes('push') && !p.activated) facts.push(`${name}: Duo Mobile is not activated on it`);
    else if (caps.includes('sms')) facts.push(`${name}: SMS passcodes only, no Duo Push`);
    else if (caps.includes('phone')) facts.push(`${name}: phone calls only (landline or basic phone), no Duo Push`);
    else facts.push(`${name}: cannot receive Duo Push`);
  }
  for (const t of user.tokens ?? [])
    facts.push(`hardware token ${esc(t.serial ?? '')}: codes can't be checked from here`);
  for (const w of user.webauthncredentials ?? [])
    facts.push(`security key ${esc(w.credential_name ?? w.label ?? 'WebAuthn')}: used at sign-in only, no push`);
  const devices = facts.length
    ? facts.map((f) => `• ${f}`).join('\n')
    : user.is_enrolled
      ? '• no device duo-desk can reach'
      : '• not enrolled in Duo: no device at all';
  const enroll =
    !user.is_enrolled && user.email
      ? `• Send an *enrollment email* to the address on file (\`/duo enroll ${esc(user.username)}\` or the card's button), never to an address the caller gives you.`
      : !user.is_enrolled
        ? '• No email address on file, so no enrollment email can be sent: ask their manager or IT to complete the record first.'
        : '';
  return [
    section(`:no_mobile_phones: *${who(user)}* has no phone that can receive a Duo Push verification.`),
    section(`*Devices*\n${devices}`),
    section(
      [
        '*Verify another way*',
        '• Ask a question from your help-desk knowledge process (something only the real person knows, not on a badge or social media).',
        '• Hang up and *call back on the number in the HR records*, not a number the caller gives you.',
        enroll,
      ]
        .filter(Boolean)
        .join('\n'),
    ),
    context(
      ':shield: Make no change (unlock, status, bypass codes) for this caller until they are verified. Callers posing as employees to get MFA reset is a known attack.',
    ),
  ];
}

export function noPushDeviceModal(user: User): ModalView {
  return {
    type: 'modal',
    callback_id: VIEWS.working,
    title: modalTitle(VERIFY_TITLE),
    close: plain('Close'),
    blocks: noPushDeviceBlocks(user),
  };
}

/**
 * The responder's status message (their DM with duo-desk), updated in place as Duo answers. The
 * confirmation code is passed in only for the first post and shown only while waiting; it is never
 * in `text` (notifications) and never in any later version of the message.
 */
export function verificationMessage(v: VerificationView, confirmationCode?: string): { text: string; blocks: Block[] } {
  const user = esc(v.username);
  const phone = esc(v.phoneLabel ?? 'their phone');
  const sent = `Duo Push sent to *${phone}* ${slackDate(v.sentAt)}.`;
  const answered = slackDate(v.answeredAt ?? v.sentAt);
  const head = header(`Verify ${v.username}`);
  const ref = context(`Verification \`${v.id}\``);
  switch (v.status) {
    case 'waiting':
      return {
        text: `Verification push sent to ${v.username}: waiting for their answer.`,
        blocks: [
          head,
          section(sent),
          ...(confirmationCode
            ? [
                section(`:key: Confirmation code: *${esc(confirmationCode)}*`),
                section(
                  `1. Read this code to the caller.\n2. Ask them to check that the push on their phone shows the *same* code, then approve it.\n3. If the codes differ or they did not expect a push, they must deny it (or report it as fraud).`,
                ),
              ]
            : []),
          section(
            ':hourglass_flowing_sand: Waiting for the answer (up to 120 seconds). This message updates by itself.',
          ),
          ref,
        ],
      };
    case 'approved':
      return {
        text: `${v.username} approved the verification push: verified.`,
        blocks: [
          head,
          section(`:white_check_mark: *${user} approved* the push ${answered}. The caller is verified.`),
          context(
            v.validUntil
              ? `Counts for your unlock of ${user} until ${slackDate(v.validUntil)}; bypass requests check their own window.`
              : 'Recorded; unlock and bypass requests check how recent it is.',
            sent,
          ),
          ref,
        ],
      };
    case 'denied':
      return {
        text: `${v.username} denied the verification push: not verified.`,
        blocks: [
          head,
          section(`:x: *${user} denied* the push ${answered}. The caller is *not verified*: make no change.`),
          context('If the caller says this was a mistake, send a new push; otherwise verify another way.', sent),
          ref,
        ],
      };
    case 'fraud':
      return {
        text: `${v.username} reported the verification push as FRAUD.`,
        blocks: [
          head,
          section(
            `:rotating_light: *${user} reported the push as fraud* ${answered}. The real ${user} did not expect it: treat this call as a possible impersonation. Make no change, end the call politely, and tell your security team.`,
          ),
          context('The audit channel has been alerted.', sent),
          ref,
        ],
      };
    case 'timed_out':
      return {
        text: `No answer to the verification push for ${v.username}: not verified.`,
        blocks: [
          head,
          section(`:hourglass: No answer within 120 seconds. The caller is *not verified*: make no change.`),
          context('Send a new push if the caller has their phone, or verify another way.', sent),
          ref,
        ],
      };
    default:
      return {
        text: `The verification push for ${v.username} could not be completed.`,
        blocks: [head, section(':warning: The push could not be completed. The caller is *not verified*.'), ref],
      };
  }
}
