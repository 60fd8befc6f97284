/** Renders what a person sees in the local workspace as plain text for the terminal (`duo-desk slack`). */
type Json = Record<string, unknown>;

/** Display names for mentions: people by id, and the channels the person is in. */
export interface Names {
  users: Record<string, string>;
  channels: Record<string, string>;
}

/** Slack's `<…>` tokens as a reader sees them: @name, #channel, a date's fallback, a link's label. */
export function plainMrkdwn(s: string, names: Names): string {
  return s
    .replace(/<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g, (_, id: string) => `@${names.users[id] ?? id}`)
    .replace(/<#([CG][A-Z0-9]+)(?:\|([^>]*))?>/g, (_, id: string, label?: string) =>
      names.channels[id] ? `#${names.channels[id]}` : label ? `#${label}` : '#private-channel',
    )
    .replace(/<!date\^\d+\^[^|>]*\|([^>]+)>/g, '$1')
    .replace(/<!(here|channel|everyone)>/g, '@$1')
    .replace(/<([^|>]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/<([^>]+)>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

const textOf = (t: unknown, names: Names): string =>
  t && typeof t === 'object' ? plainMrkdwn(String((t as Json).text ?? ''), names) : '';

const optionTexts = (e: Json, names: Names) =>
  [...((e.options as Json[]) ?? []), ...((e.option_groups as Json[]) ?? []).flatMap((g) => (g.options as Json[]) ?? [])]
    .map((o) => textOf(o.text, names))
    .join(' | ');

/** One interactive element, as `[Button]`, `<menu: a | b>` or `____` with what it takes. */
function element(e: Json, names: Names): string {
  const type = String(e.type);
  if (type === 'button') return `[${textOf(e.text, names)}]${e.style === 'danger' ? '!' : ''}`;
  if (type === 'static_select' || type === 'multi_static_select' || type === 'radio_buttons' || type === 'checkboxes')
    return `<${type.replace(/_/g, ' ')}: ${optionTexts(e, names)}>`;
  if (type === 'overflow') return `<… ${optionTexts(e, names)}>`;
  if (type.endsWith('external_select')) return '<type to search>';
  if (type.endsWith('users_select')) return '<pick a person>';
  if (type === 'number_input') return '____ (a number)';
  return '____';
}

export function renderBlocks(blocks: unknown[] | undefined, fallback: string, names: Names): string {
  if (!blocks?.length) return plainMrkdwn(fallback, names);
  const lines: string[] = [];
  for (const raw of blocks) {
    const b = raw as Json;
    switch (b.type) {
      case 'header':
        lines.push(`== ${textOf(b.text, names)} ==`);
        break;
      case 'section': {
        if (b.text) lines.push(textOf(b.text, names));
        for (const f of (b.fields as unknown[] | undefined) ?? [])
          lines.push(`  ${textOf(f, names).replace(/\n/g, ': ')}`);
        const acc = b.accessory as Json | undefined;
        if (acc && acc.type !== 'image') lines.push(`  ${element(acc, names)}`);
        break;
      }
      case 'context':
        lines.push(
          ((b.elements as Json[]) ?? [])
            .map((e) => (e.type === 'image' ? `(image: ${String(e.alt_text ?? '')})` : textOf(e, names)))
            .join('  '),
        );
        break;
      case 'divider':
        lines.push('----');
        break;
      case 'actions':
        lines.push(((b.elements as Json[]) ?? []).map((e) => element(e, names)).join(' '));
        break;
      case 'input':
        lines.push(`${textOf(b.label, names)}${b.optional ? ' (optional)' : ''}: ${element(b.element as Json, names)}`);
        break;
      case 'image':
        lines.push(`(image: ${String(b.alt_text ?? '')}${b.slack_file ? ', open the page to see it' : ''})`);
        break;
      default:
        lines.push(`(${String(b.type)})`);
    }
  }
  return lines.join('\n');
}

/** A modal with its buttons: what `--submit` fills and `--click` presses. */
export function renderModal(
  m: { title: unknown; submit: unknown; close: unknown; blocks: Json[]; errors: Record<string, string> },
  names: Names,
): string {
  const body = renderBlocks(m.blocks, '', names);
  const errors = Object.entries(m.errors).map(([block, msg]) => `  ! ${block}: ${msg}`);
  const buttons = [m.submit ? `[${textOf(m.submit, names)}]` : '', m.close ? `[${textOf(m.close, names)}]` : '']
    .filter(Boolean)
    .join(' ');
  return [`--- form: ${textOf(m.title, names)}`, body, ...errors, buttons].filter(Boolean).join('\n');
}
