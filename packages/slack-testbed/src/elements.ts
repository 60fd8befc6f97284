/**
 * What the Slack client does with Block Kit on the user's side: finding the element a person would click or fill in,
 * turning what they chose into `state.values` entries, and the checks the client makes before it submits a modal.
 */
import { elementsOf, isObj, type LocatedElement, optionsOf, stateKeyOf, textOf } from './blocks.js';
import type { Block, Json } from './types.js';

export class SlackClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SlackClientError';
  }
}

/** A value the driver puts into an input: text, several option texts/values, or an explicit option. */
export type InputValue = string | string[] | { value: string; text?: string };

/** One exact element, as a client that rendered the blocks knows it (labels and texts need not be unique). */
export interface ElementLocator {
  blockId: string;
  actionId: string;
}

const isLocator = (key: unknown): key is ElementLocator =>
  typeof key === 'object' && key !== null && !(key instanceof RegExp) && 'blockId' in key;
const locatorText = (l: ElementLocator) => `block_id ${l.blockId} / action_id ${l.actionId}`;
const locatedBy = (l: ElementLocator) => (e: LocatedElement) =>
  e.block.block_id === l.blockId && e.element.action_id === l.actionId;

function describe(blocks: Block[] | undefined): string {
  return elementsOf(blocks)
    .map(({ block, element }) => {
      const label = textOf(block.label) ?? textOf(block.text) ?? textOf(element.text) ?? '';
      return `${String(element.type)} "${label}" (block_id ${String(block.block_id)}, action_id ${String(element.action_id)})`;
    })
    .join('; ');
}

export function findButton(
  blocks: Block[] | undefined,
  text: string | RegExp | ElementLocator,
  where: string,
): LocatedElement {
  const buttons = elementsOf(blocks).filter((e) => e.element.type === 'button');
  const hit = buttons.find((e) => {
    if (isLocator(text)) return locatedBy(text)(e);
    const t = textOf(e.element.text) ?? '';
    return typeof text === 'string' ? t === text : text.test(t);
  });
  if (!hit) {
    const names = buttons.map((b) => `"${textOf(b.element.text)}"`).join(', ') || 'none';
    const wanted = isLocator(text) ? locatorText(text) : String(text);
    throw new SlackClientError(`no button ${wanted} in ${where}; buttons there: ${names}`);
  }
  return hit;
}

/** Finds an element by its block's label (input) or text (section), its block_id, its action_id, or exactly. */
export function findElement(
  blocks: Block[] | undefined,
  key: string | ElementLocator,
  where: string,
  types?: string[],
): LocatedElement {
  const all = elementsOf(blocks).filter((e) => !types || types.includes(String(e.element.type)));
  const hit = isLocator(key)
    ? all.find(locatedBy(key))
    : (all.find((e) => textOf(e.block.label) === key) ??
      all.find((e) => e.block.block_id === key) ??
      all.find((e) => e.element.action_id === key) ??
      all.find((e) => e.place === 'accessory' && textOf(e.block.text) === key));
  if (!hit) {
    const kinds = types ? ` of type ${types.join('/')}` : '';
    const wanted = isLocator(key) ? locatorText(key) : `"${key}"`;
    throw new SlackClientError(
      `no element${kinds} ${wanted} in ${where}; elements there: ${describe(blocks) || 'none'}`,
    );
  }
  return hit;
}

export function findOption(element: Json, wanted: string, where: string): Json {
  const options = optionsOf(element);
  const hit = options.find((o) => textOf(o.text) === wanted) ?? options.find((o) => o.value === wanted);
  if (!hit) {
    const names = options.map((o) => `"${textOf(o.text)}"`).join(', ') || 'none';
    throw new SlackClientError(`no option "${wanted}" in ${where}; options: ${names}`);
  }
  return structuredClone(hit);
}

/** The state entry for an element once the user entered `input` (options already resolved for external selects). */
export function stateFor(located: LocatedElement, input: InputValue, where: string, resolved?: Json[]): Json {
  const { element } = located;
  const type = String(element.type);
  const key = stateKeyOf(type);
  if (!key) throw new SlackClientError(`${type} in ${where} holds no value`);
  const many = Array.isArray(input) ? input : [input];
  const toOption = (v: string | { value: string; text?: string }): Json => {
    if (typeof v !== 'string')
      return { text: { type: 'plain_text', text: v.text ?? v.value, emoji: true }, value: v.value };
    return resolved?.find((o) => textOf(o.text) === v || o.value === v) ?? findOption(element, v, where);
  };
  switch (key) {
    case 'value':
      if (typeof input !== 'string') throw new SlackClientError(`${type} in ${where} takes a string`);
      return { type, value: input === '' ? null : input };
    case 'selected_option':
      if (Array.isArray(input)) throw new SlackClientError(`${type} in ${where} takes one option`);
      return { type, selected_option: toOption(input) };
    case 'selected_options':
      return { type, selected_options: many.map(toOption) };
    default: {
      const values = many.map((v) => (typeof v === 'string' ? v : v.value));
      return { type, [key]: key.endsWith('s') ? values : (values[0] ?? null) };
    }
  }
}

function isEmpty(entry: Json | undefined): boolean {
  if (!entry) return true;
  const v = entry[stateKeyOf(String(entry.type)) ?? 'value'];
  return v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
}

/** Checks the Slack client makes before sending view_submission (it shows the error itself and sends nothing). */
export function clientValidation(blocks: Block[] | undefined, values: Record<string, Record<string, Json>>): string[] {
  const problems: string[] = [];
  for (const { block, element, place } of elementsOf(blocks)) {
    if (place !== 'input') continue;
    const label = textOf(block.label) ?? String(block.block_id);
    const entry = values[String(block.block_id)]?.[String(element.action_id)];
    if (isEmpty(entry)) {
      if (block.optional !== true) problems.push(`"${label}" is required`);
      continue;
    }
    const value = entry!.value;
    if (typeof value !== 'string') continue;
    if (typeof element.min_length === 'number' && value.length < element.min_length)
      problems.push(`"${label}" needs at least ${element.min_length} characters`);
    if (typeof element.max_length === 'number' && value.length > element.max_length)
      problems.push(`"${label}" allows at most ${element.max_length} characters`);
    if (element.type === 'number_input') {
      const n = Number(value);
      if (!Number.isFinite(n) || (element.is_decimal_allowed !== true && !Number.isInteger(n)))
        problems.push(`"${label}" must be a ${element.is_decimal_allowed ? 'number' : 'whole number'}`);
      else if (element.min_value !== undefined && n < Number(element.min_value))
        problems.push(`"${label}" must be at least ${element.min_value}`);
      else if (element.max_value !== undefined && n > Number(element.max_value))
        problems.push(`"${label}" must be at most ${element.max_value}`);
    }
    if (element.type === 'email_text_input' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value))
      problems.push(`"${label}" must be an email address`);
  }
  return problems;
}

/** Options from a block_suggestion answer (`options` or `option_groups`). */
export function optionsFromAnswer(body: unknown): Json[] {
  if (!isObj(body)) return [];
  return optionsOf(body);
}
