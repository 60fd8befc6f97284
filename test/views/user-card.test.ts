import { describe, expect, it } from 'vitest';
import type { User } from '../../src/domain/duo-objects.js';
import { CARD_FLOWS } from '../../src/domain/flows.js';
import type { UserCardModel } from '../../src/usecases/lookup.js';
import { FLOW_TEXT } from '../../views/flows.js';
import { helpMessage } from '../../views/help.js';
import { cardActionId } from '../../views/ids.js';
import { userCard } from '../../views/user-card.js';

const bob: User = {
  user_id: 'DUBOB0000000000000001',
  username: 'bob',
  realname: 'Bob <Builder>',
  status: 'locked out',
  phones: [],
  tokens: [],
  webauthncredentials: [],
  groups: [],
};
const model = (actions: UserCardModel['actions']): UserCardModel => ({
  user: bob,
  activeBypassCodes: 0,
  lastVerification: null,
  directorySynced: false,
  actions,
});
const buttons = (blocks: unknown[]) =>
  blocks.flatMap((b) => ((b as { elements?: unknown[] }).elements ?? []) as Array<Record<string, unknown>>);

describe('the user card builder', () => {
  it('when the model offers flows, then each is a button with its flow text, action id and the Duo user id', () => {
    const card = userCard(model(['verify', 'unlock']));
    const rendered = buttons(card.blocks ?? []).filter((e) => e.type === 'button');
    expect(rendered.map((b) => [b.action_id, b.value, (b.text as { text: string }).text])).toEqual([
      [cardActionId('verify'), bob.user_id, FLOW_TEXT.verify.card.text],
      [cardActionId('unlock'), bob.user_id, FLOW_TEXT.unlock.card.text],
    ]);
  });

  it('when the model offers nothing, then the card says the role allows no actions and has no buttons', () => {
    const card = userCard(model([]));
    expect(buttons(card.blocks ?? []).some((e) => e.type === 'button')).toBe(false);
    expect(JSON.stringify(card.blocks)).toContain('Your role allows no actions on this user.');
  });

  it("when Duo's names contain markup, then the card escapes them", () => {
    expect(JSON.stringify(userCard(model([])).blocks)).toContain('Bob &lt;Builder&gt;');
  });

  it('when every card flow is rendered, then each one has a distinct action id', () => {
    const ids = buttons(userCard(model([...CARD_FLOWS])).blocks ?? []).map((b) => b.action_id);
    expect(new Set(ids).size).toBe(CARD_FLOWS.length);
  });
});

describe('the help builder', () => {
  it('when given the flows a role may start, then it lists exactly those, without help itself', () => {
    const m = helpMessage({ teamId: 'T1', userId: 'U1', role: 'read_only', approver: false }, [
      'help',
      'lookup',
      'audit',
    ]);
    const text = JSON.stringify(m.blocks);
    expect(text).toContain(`/duo ${FLOW_TEXT.lookup.help.usage}`);
    expect(text).toContain('/duo audit');
    expect(text).not.toContain('/duo help');
    expect(text).not.toContain('/duo unlock');
    expect(m.text).toContain('Read-only');
  });
});
