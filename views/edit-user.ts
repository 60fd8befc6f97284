import type { InputBlock, ModalView } from '@slack/types';
import type { EditField } from '../src/domain/authorize.js';
import type { EditModalModel, EditResult } from '../src/usecases/edit-user.js';
import {
  type Block,
  context,
  esc,
  modalTitle,
  option,
  plain,
  reasonInput,
  section,
  selectInput,
  textInput,
  ticketInput,
} from './common.js';
import { BLOCKS, VIEWS } from './ids.js';

/** The edit form: only the fields this responder may change; a synced user's directory fields shown read-only. */
const FIELD_LABEL: Record<EditField, string> = {
  realname: 'Full name',
  email: 'Email',
  notes: 'Notes',
  aliases: 'Username aliases',
  enable_auto_prompt: 'Authentication experience',
};

const withValue = (b: InputBlock, value: string | null | undefined): InputBlock =>
  value
    ? { ...b, optional: true, element: { ...(b.element as object), initial_value: value } as InputBlock['element'] }
    : { ...b, optional: true };

export function editModal(m: EditModalModel, channelId: string): ModalView {
  const u = m.user;
  const aliases = Object.entries(u.aliases ?? {})
    .filter(([, v]) => Boolean(v))
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .map(([, v]) => v)
    .join('\n');
  const can = (f: EditField) => m.editable.includes(f);
  const blocks: Block[] = [section(`Editing *${esc(u.realname || u.username)}* (\`${esc(u.username)}\`).`)];
  if (m.directory) {
    const which = m.directory.names.length ? m.directory.names.map(esc).join(' or ') : 'a directory';
    blocks.push(
      context(
        `:lock: Managed by directory sync (${which}): ${m.directory.fields.map((f) => FIELD_LABEL[f].toLowerCase()).join(', ')} are read-only here. Change them in the directory, then \`/duo sync ${esc(u.username)}\`.`,
      ),
    );
  }
  if (can('realname')) blocks.push(withValue(textInput(BLOCKS.realname, 'Full name', { max: 100 }), u.realname));
  if (can('email')) {
    blocks.push(
      withValue(
        textInput(BLOCKS.email, 'Email', {
          max: 200,
          hint: m.emailGuarded
            ? 'This user is enrolled: a new email needs a verified caller and a second person’s approval (it redirects enrollment mail).'
            : 'Enrollment and activation emails go to this address.',
        }),
        u.email,
      ),
    );
  }
  if (can('notes')) blocks.push(withValue(textInput(BLOCKS.notes, 'Notes', { max: 500, multiline: true }), u.notes));
  if (can('aliases'))
    blocks.push(
      withValue(
        textInput(BLOCKS.aliases, 'Username aliases', {
          max: 900,
          multiline: true,
          placeholder: 'one per line, up to 8',
        }),
        aliases,
      ),
    );
  if (can('enable_auto_prompt')) {
    const on = (u as { enable_auto_prompt?: boolean }).enable_auto_prompt !== false;
    const opts = [
      option('Automatic selection of authentication methods', 'on'),
      option('The user selects a method', 'off'),
    ];
    blocks.push(selectInput(BLOCKS.autoPrompt, 'Authentication experience', on ? opts : [opts[1]!, opts[0]!]));
  }
  if (m.stepUp)
    blocks.push(
      textInput(BLOCKS.totp, 'Code from your authenticator app', {
        optional: true,
        max: 6,
        hint: 'Needed only when you change the email of this enrolled user.',
      }),
    );
  blocks.push(reasonInput(), ticketInput());
  return {
    type: 'modal',
    callback_id: VIEWS.editUser,
    private_metadata: JSON.stringify({ duoUserId: u.user_id, channelId }),
    title: modalTitle('Edit user'),
    submit: plain('Save'),
    close: plain('Cancel'),
    blocks,
  };
}

export function editDoneModal(r: EditResult): ModalView {
  const lines: string[] = [];
  if (r.changed.length)
    lines.push(
      `:white_check_mark: Changed ${r.changed.map((f) => FIELD_LABEL[f].toLowerCase()).join(', ')} of \`${esc(r.username)}\` in Duo.`,
    );
  if (r.emailRequest)
    lines.push(
      r.emailRequest.outcome === 'pending'
        ? ':hourglass_flowing_sand: The new email waits for a second person in the approvals channel: nothing changed there yet.'
        : r.emailRequest.outcome === 'done'
          ? ':white_check_mark: The email was changed (your role needs no second person).'
          : `The email change ended as ${r.emailRequest.outcome}.`,
    );
  return {
    type: 'modal',
    callback_id: VIEWS.working,
    title: modalTitle('Edit user'),
    close: plain('Done'),
    blocks: lines.map((l) => section(l)),
  };
}
