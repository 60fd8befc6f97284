/**
 * Block Kit handling on Slack's side: generated ids, the limits Slack enforces on what apps send,
 * and the `state.values` the Slack client keeps for stateful elements.
 */
import { randomInt } from 'node:crypto';
import type { Block, Json } from './types.js';

const ID_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
function shortId(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += ID_CHARS[randomInt(ID_CHARS.length)];
  return s;
}

export function isObj(v: unknown): v is Json {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Plain text of a text object (`{type, text}`) or a string. */
export function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObj(v) && typeof v.text === 'string') return v.text;
  return undefined;
}

/** Elements that carry state in `state.values`, with the key Slack uses for their value. */
const STATE_KEY: Record<string, string> = {
  plain_text_input: 'value',
  email_text_input: 'value',
  url_text_input: 'value',
  number_input: 'value',
  static_select: 'selected_option',
  external_select: 'selected_option',
  radio_buttons: 'selected_option',
  users_select: 'selected_user',
  conversations_select: 'selected_conversation',
  channels_select: 'selected_channel',
  multi_static_select: 'selected_options',
  multi_external_select: 'selected_options',
  checkboxes: 'selected_options',
  multi_users_select: 'selected_users',
  multi_conversations_select: 'selected_conversations',
  multi_channels_select: 'selected_channels',
  datepicker: 'selected_date',
  timepicker: 'selected_time',
  datetimepicker: 'selected_date_time',
};

const INITIAL_KEY: Record<string, string> = {
  value: 'initial_value',
  selected_option: 'initial_option',
  selected_options: 'initial_options',
  selected_user: 'initial_user',
  selected_users: 'initial_users',
  selected_conversation: 'initial_conversation',
  selected_conversations: 'initial_conversations',
  selected_channel: 'initial_channel',
  selected_channels: 'initial_channels',
  selected_date: 'initial_date',
  selected_time: 'initial_time',
  selected_date_time: 'initial_date_time',
};

export function stateKeyOf(elementType: string): string | undefined {
  return STATE_KEY[elementType];
}

export interface LocatedElement {
  block: Block;
  blockIndex: number;
  element: Json;
  /** `actions` (actions block), `accessory` (section), `input` (input block element). */
  place: 'actions' | 'accessory' | 'input';
}

/** Every interactive element in a list of blocks, in display order. */
export function elementsOf(blocks: Block[] | undefined): LocatedElement[] {
  const out: LocatedElement[] = [];
  (blocks ?? []).forEach((block, blockIndex) => {
    if (block.type === 'actions' && Array.isArray(block.elements)) {
      for (const el of block.elements) if (isObj(el)) out.push({ block, blockIndex, element: el, place: 'actions' });
    } else if (block.type === 'section' && isObj(block.accessory) && block.accessory.type !== 'image') {
      out.push({ block, blockIndex, element: block.accessory, place: 'accessory' });
    } else if (block.type === 'input' && isObj(block.element)) {
      out.push({ block, blockIndex, element: block.element, place: 'input' });
    }
  });
  return out;
}

/** Deep copy of blocks with the block_id / action_id Slack generates when the app leaves them out. */
export function withGeneratedIds(blocks: unknown): Block[] | undefined {
  if (!Array.isArray(blocks)) return undefined;
  const copy = structuredClone(blocks) as Block[];
  for (const block of copy) {
    if (!isObj(block)) continue;
    if (typeof block.block_id !== 'string') block.block_id = shortId();
  }
  for (const { element } of elementsOf(copy)) {
    if (typeof element.action_id !== 'string') element.action_id = shortId();
  }
  return copy;
}

/** All options of a select/radio/checkbox element, option groups flattened. */
export function optionsOf(element: Json): Json[] {
  const out: Json[] = [];
  if (Array.isArray(element.options)) for (const o of element.options) if (isObj(o)) out.push(o);
  if (Array.isArray(element.option_groups)) {
    for (const g of element.option_groups) {
      if (isObj(g) && Array.isArray(g.options)) for (const o of g.options) if (isObj(o)) out.push(o);
    }
  }
  return out;
}

/** The state entry Slack reports for an element: the given value, else the element's initial value, else empty. */
export function stateEntry(element: Json, value?: unknown): Json | undefined {
  const type = String(element.type);
  const key = STATE_KEY[type];
  if (!key) return undefined;
  const initial = element[INITIAL_KEY[key]!];
  const isMulti = key.endsWith('s');
  let v = value !== undefined ? value : initial !== undefined ? structuredClone(initial) : undefined;
  if (v === undefined) v = isMulti ? [] : null;
  return { type, [key]: v };
}

/**
 * `state.values` for a surface. Values the user already entered survive when the same block_id/action_id
 * (and element type) is still there, as in Slack's client after views.update.
 */
export function computeState(
  blocks: Block[] | undefined,
  previous: Record<string, Record<string, Json>> = {},
): Record<string, Record<string, Json>> {
  const values: Record<string, Record<string, Json>> = {};
  for (const { block, element } of elementsOf(blocks)) {
    const blockId = String(block.block_id);
    const actionId = String(element.action_id);
    const prev = previous[blockId]?.[actionId];
    const entry = prev && prev.type === element.type ? structuredClone(prev) : stateEntry(element);
    if (!entry) continue;
    values[blockId] ??= {};
    values[blockId][actionId] = entry;
  }
  return values;
}

const MAX = {
  messageBlocks: 50,
  modalBlocks: 100,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  headerText: 150,
  blockId: 255,
  actionId: 255,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  messageText: 40000,
  viewTitle: 24,
  privateMetadata: 3000,
  callbackId: 255,
  inputLabel: 2000,
  altText: 2000,
};

/** Whether a file id may be shown in an image block (it exists, is a processed image the bot can see). */
export type FileCheck = (fileId: string) => boolean;

/**
 * Block-level problems Slack reports as `invalid_blocks`, in Slack's `[ERROR] … [json-pointer:…]` form.
 * With `usableFile`, an image block's `slack_file` id is also checked against the workspace's files.
 */
export function blockProblems(blocks: Block[], root: string, maxBlocks: number, usableFile?: FileCheck): string[] {
  const problems: string[] = [];
  const p = (msg: string, ptr: string) => problems.push(`[ERROR] ${msg} [json-pointer:${root}${ptr}]`);
  if (blocks.length > maxBlocks) p(`no more than ${maxBlocks} items allowed`, '');
  const seen = new Set<string>();
  blocks.forEach((b, i) => {
    if (!isObj(b) || typeof b.type !== 'string') {
      p('missing required field: type', `/${i}`);
      return;
    }
    if (typeof b.block_id === 'string') {
      if (b.block_id.length > MAX.blockId) p(`must be less than ${MAX.blockId + 1} characters`, `/${i}/block_id`);
      if (seen.has(b.block_id)) p('duplicate block_id', `/${i}/block_id`);
      seen.add(b.block_id);
    }
    if (b.type === 'section') {
      const t = textOf(b.text);
      if (t !== undefined && t.length > MAX.sectionText)
        p(`must be less than ${MAX.sectionText + 1} characters`, `/${i}/text/text`);
      if (t === undefined && !Array.isArray(b.fields)) p('must provide text or fields', `/${i}`);
      if (Array.isArray(b.fields)) {
        if (b.fields.length > MAX.fields) p(`no more than ${MAX.fields} items allowed`, `/${i}/fields`);
        b.fields.forEach((f, j) => {
          const ft = textOf(f) ?? '';
          if (ft.length > MAX.fieldText)
            p(`must be less than ${MAX.fieldText + 1} characters`, `/${i}/fields/${j}/text`);
        });
      }
    } else if (b.type === 'header') {
      const t = textOf(b.text) ?? '';
      if (t.length > MAX.headerText) p(`must be less than ${MAX.headerText + 1} characters`, `/${i}/text/text`);
      if (isObj(b.text) && b.text.type !== 'plain_text') p('must be plain_text', `/${i}/text/type`);
    } else if (b.type === 'actions') {
      const els = Array.isArray(b.elements) ? b.elements : [];
      if (els.length === 0) p('must have at least one element', `/${i}/elements`);
      if (els.length > MAX.actionsElements) p(`no more than ${MAX.actionsElements} items allowed`, `/${i}/elements`);
    } else if (b.type === 'image') {
      if (typeof b.alt_text !== 'string') p('missing required field: alt_text', `/${i}`);
      else if (b.alt_text.length > MAX.altText) p(`must be less than ${MAX.altText + 1} characters`, `/${i}/alt_text`);
      const file = isObj(b.slack_file) ? b.slack_file : undefined;
      if ((typeof b.image_url === 'string') === (file !== undefined))
        p('must provide exactly one of image_url or slack_file', `/${i}`);
      if (file) {
        const id = file.id;
        if ((typeof id === 'string') === (typeof file.url === 'string'))
          p('must provide exactly one of id or url', `/${i}/slack_file`);
        else if (typeof id === 'string' && !/^F[A-Z0-9]{8,}$/.test(id))
          p('input must match regex pattern: ^[F][A-Z0-9]{8,}$', `/${i}/slack_file/id`);
        else if (typeof id === 'string' && usableFile && !usableFile(id)) p('invalid slack file', `/${i}/slack_file`);
      }
    } else if (b.type === 'input') {
      const label = textOf(b.label);
      if (label === undefined) p('missing required field: label', `/${i}`);
      else if (label.length > MAX.inputLabel) p(`must be less than ${MAX.inputLabel + 1} characters`, `/${i}/label`);
      if (!isObj(b.element)) p('missing required field: element', `/${i}`);
    }
  });
  for (const { blockIndex, element, place } of elementsOf(blocks)) {
    const at =
      place === 'accessory' ? `/${blockIndex}/accessory` : `/${blockIndex}/element${place === 'actions' ? 's' : ''}`;
    if (typeof element.action_id === 'string' && element.action_id.length > MAX.actionId)
      p(`must be less than ${MAX.actionId + 1} characters`, `${at}/action_id`);
    if (element.type === 'button') {
      if ((textOf(element.text) ?? '').length > MAX.buttonText)
        p(`must be less than ${MAX.buttonText + 1} characters`, `${at}/text`);
      if (typeof element.value === 'string' && element.value.length > MAX.buttonValue)
        p(`must be less than ${MAX.buttonValue + 1} characters`, `${at}/value`);
    }
  }
  return problems;
}

/** Problems Slack reports for a message's text length. */
export function messageTextTooLong(text: string | undefined): boolean {
  return (text?.length ?? 0) > MAX.messageText;
}

/** View-level problems (`invalid_arguments` on views.open/update/push/publish). */
export function viewProblems(view: Json, usableFile?: FileCheck): string[] {
  const problems: string[] = [];
  const p = (msg: string, ptr: string) => problems.push(`[ERROR] ${msg} [json-pointer:/view${ptr}]`);
  if (view.type !== 'modal' && view.type !== 'home') p('must be one of modal, home', '/type');
  const blocks = Array.isArray(view.blocks) ? (view.blocks as Block[]) : undefined;
  if (!blocks) p('missing required field: blocks', '');
  if (view.type === 'modal') {
    const title = textOf(view.title);
    if (title === undefined) p('missing required field: title', '');
    else if (title.length > MAX.viewTitle) p(`must be less than ${MAX.viewTitle + 1} characters`, '/title/text');
    for (const key of ['submit', 'close']) {
      const t = textOf(view[key]);
      if (t !== undefined && t.length > MAX.viewTitle)
        p(`must be less than ${MAX.viewTitle + 1} characters`, `/${key}/text`);
    }
    if (blocks?.some((b) => isObj(b) && b.type === 'input') && view.submit === undefined)
      p('must provide submit when using input blocks', '/submit');
  }
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > MAX.privateMetadata)
    p(`must be less than ${MAX.privateMetadata + 1} characters`, '/private_metadata');
  if (typeof view.callback_id === 'string' && view.callback_id.length > MAX.callbackId)
    p(`must be less than ${MAX.callbackId + 1} characters`, '/callback_id');
  if (blocks)
    problems.push(...blockProblems(blocks, '/view/blocks', view.type === 'home' ? 100 : MAX.modalBlocks, usableFile));
  return problems;
}

export const LIMITS = MAX;
