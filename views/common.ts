import type {
  ActionsBlock,
  ActionsBlockElement,
  Button,
  ContextBlock,
  InputBlock,
  KnownBlock,
  ModalView,
  MrkdwnElement,
  PlainTextElement,
  PlainTextOption,
  SectionBlock,
} from './block-kit.js';
import { BLOCKS, inputActionId } from './ids.js';

/** Small Block Kit helpers shared by the builders. Builders are pure: no client, no database, no clock. */
export type Block = KnownBlock;

export const mrkdwn = (text: string): MrkdwnElement => ({ type: 'mrkdwn', text });
export const plain = (text: string): PlainTextElement => ({
  type: 'plain_text',
  text: truncate(text, 150),
  emoji: true,
});
export const section = (text: string, extra: Partial<Omit<SectionBlock, 'type' | 'text'>> = {}): SectionBlock => ({
  type: 'section',
  text: mrkdwn(truncate(text, 3000)),
  ...extra,
});
export const context = (...texts: string[]): ContextBlock => ({
  type: 'context',
  elements: texts.slice(0, 10).map((t) => mrkdwn(truncate(t, 2000))),
});
export const divider = (): KnownBlock => ({ type: 'divider' });
export const header = (text: string): KnownBlock => ({ type: 'header', text: plain(truncate(text, 150)) });

export const button = (
  text: string,
  actionId: string,
  value: string,
  style?: 'primary' | 'danger',
  confirm?: Button['confirm'],
): Button => ({
  type: 'button',
  text: plain(text),
  action_id: actionId,
  value,
  ...(style ? { style } : {}),
  ...(confirm ? { confirm } : {}),
});

export const actions = (blockId: string, elements: ActionsBlockElement[]): ActionsBlock => ({
  type: 'actions',
  block_id: blockId,
  elements: elements.slice(0, 25),
});

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Escapes text that came from Duo or a person before it goes into mrkdwn. */
export const esc = (s: string | null | undefined): string =>
  (s ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export const modalTitle = (s: string) => plain(truncate(s, 24));

export const option = (text: string, value: string | number): PlainTextOption => ({
  text: plain(text),
  value: String(value),
});

/** A static select input whose element id follows the block id; the first option is preselected. */
export function selectInput(blockId: string, labelText: string, options: PlainTextOption[], hint?: string): InputBlock {
  return {
    type: 'input',
    block_id: blockId,
    label: plain(labelText),
    element: {
      type: 'static_select',
      action_id: inputActionId(blockId),
      options,
      ...(options[0] ? { initial_option: options[0] } : {}),
    },
    ...(hint ? { hint: plain(hint) } : {}),
  };
}

export function errorModal(text: string): ModalView {
  return {
    type: 'modal',
    title: modalTitle('duo-desk'),
    close: plain('Close'),
    blocks: [section(text)],
  };
}

export function workingModal(title: string, what: string, callbackId: string): ModalView {
  return {
    type: 'modal',
    callback_id: callbackId,
    title: modalTitle(title),
    close: plain('Cancel'),
    blocks: [section(`:hourglass_flowing_sand: ${what}`)],
  };
}

export const slackDate = (d: Date, fallback?: string) =>
  `<!date^${Math.floor(d.getTime() / 1000)}^{date_short_pretty} {time}|${fallback ?? d.toISOString().replace('T', ' ').slice(0, 16)} UTC>`;

/** A text input block whose element id follows the block id (views/ids.ts inputActionId). */
export function textInput(
  blockId: string,
  labelText: string,
  opts: { multiline?: boolean; optional?: boolean; min?: number; max: number; placeholder?: string; hint?: string },
): InputBlock {
  return {
    type: 'input',
    block_id: blockId,
    label: plain(labelText),
    optional: opts.optional ?? false,
    element: {
      type: 'plain_text_input',
      action_id: inputActionId(blockId),
      multiline: opts.multiline ?? false,
      max_length: opts.max,
      ...(opts.min ? { min_length: opts.min } : {}),
      ...(opts.placeholder ? { placeholder: plain(opts.placeholder) } : {}),
    },
    ...(opts.hint ? { hint: plain(opts.hint) } : {}),
  };
}

/** The reason every change asks for (audited, never a secret: the use case refuses code-like text). */
export const reasonInput = (placeholder = 'What the caller asked for and how you verified them') =>
  textInput(BLOCKS.reason, 'Reason', { multiline: true, max: 500, placeholder });

/** The optional ticket reference beside the reason. */
export const ticketInput = () =>
  textInput(BLOCKS.ticket, 'Ticket reference', { optional: true, max: 100, placeholder: 'e.g. INC-12345' });
