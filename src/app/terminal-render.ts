/** Renders what the bot sent to Slack as plain text for the terminal (`duo-desk slack`). */
type Json = Record<string, unknown>;

/** Slack's date tokens read as their fallback text in a terminal. */
const plainDates = (s: string) => s.replace(/<!date\^\d+\^[^|>]*\|([^>]+)>/g, '$1');
const textOf = (t: unknown): string => (t && typeof t === 'object' ? plainDates(String((t as Json).text ?? '')) : '');

export function renderBlocks(blocks: unknown[] | undefined, fallback = ''): string {
  if (!blocks?.length) return fallback;
  const lines: string[] = [];
  for (const raw of blocks) {
    const b = raw as Json;
    switch (b.type) {
      case 'header':
        lines.push(`== ${textOf(b.text)} ==`);
        break;
      case 'section': {
        if (b.text) lines.push(textOf(b.text));
        for (const f of (b.fields as unknown[] | undefined) ?? []) lines.push(`  ${textOf(f)}`);
        const acc = b.accessory as Json | undefined;
        if (acc?.type === 'button') lines.push(`  [${textOf(acc.text)}]`);
        break;
      }
      case 'context':
        lines.push(((b.elements as unknown[]) ?? []).map(textOf).join('  '));
        break;
      case 'divider':
        lines.push('----');
        break;
      case 'actions':
        lines.push(
          ((b.elements as Json[]) ?? [])
            .map((e) => (e.type === 'button' ? `[${textOf(e.text)}]` : `<${String(e.type)}>`))
            .join(' '),
        );
        break;
      case 'input':
        lines.push(`${textOf(b.label)}: ____`);
        break;
      case 'image':
        lines.push(`(image: ${String(b.alt_text ?? '')})`);
        break;
      default:
        break;
    }
  }
  return lines.join('\n');
}

export function renderCall(method: string, args: Json): string | undefined {
  switch (method) {
    case 'ack':
    case 'response_url':
    case 'chat.postEphemeral':
    case 'chat.postMessage':
    case 'chat.update': {
      const where = method === 'ack' ? 'reply' : method === 'response_url' ? 'reply' : method;
      const body = renderBlocks(args.blocks as unknown[] | undefined, String(args.text ?? ''));
      return body ? `--- ${where}${args.channel ? ` (${String(args.channel)})` : ''}\n${body}` : undefined;
    }
    case 'views.open':
    case 'views.update':
    case 'views.push': {
      const view = (typeof args.view === 'string' ? JSON.parse(args.view) : args.view) as Json;
      return `--- ${method}: ${textOf(view.title)}\n${renderBlocks(view.blocks as unknown[])}`;
    }
    default:
      return undefined;
  }
}
