import { describe, expect, it } from 'vitest';
import { FLOW_COMMANDS } from '../../commands/flows.js';
import type { FlowCommands } from '../../commands/kit.js';
import { CARD_FLOWS, FLOW_NAMES } from '../../src/domain/flows.js';
import { FLOW_TEXT, type FlowTexts } from '../../views/flows.js';

/**
 * A flow is its core policy (src/domain/flows.ts), its command (commands/flows.ts) and its words
 * (views/flows.ts). Forgetting a part must not compile: the `@ts-expect-error` lines below fail
 * `npm run typecheck` the day a missing part stops being a type error.
 */
describe('every flow has all its parts', () => {
  it('when a flow lacks its command, its help or its card button, then it does not compile', () => {
    const { mfa: _mfa, ...withoutMfa } = FLOW_COMMANDS;
    // @ts-expect-error a flow without a command
    const commands: FlowCommands = withoutMfa;
    // @ts-expect-error a card flow without its card handler
    const noCard: FlowCommands = { ...FLOW_COMMANDS, verify: { run: FLOW_COMMANDS.verify.run } };
    // @ts-expect-error a card flow without its button text
    const noButton: FlowTexts = { ...FLOW_TEXT, unlock: { help: FLOW_TEXT.unlock.help } };
    expect([commands, noCard, noButton].length).toBe(3);
  });

  it('when the app starts, then every flow name has a command, help text, and every card flow a handler and button', () => {
    for (const f of FLOW_NAMES) {
      expect(typeof FLOW_COMMANDS[f].run, f).toBe('function');
      expect(FLOW_TEXT[f].help.usage.startsWith(f), f).toBe(true);
    }
    for (const f of CARD_FLOWS) {
      expect(typeof FLOW_COMMANDS[f].onCard, f).toBe('function');
      expect(FLOW_TEXT[f].card.text.length, f).toBeGreaterThan(2);
    }
  });
});
