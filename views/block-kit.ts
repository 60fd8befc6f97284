import type { types } from '@slack/bolt';

/** Slack's own Block Kit types (@slack/types, as re-exported by Bolt), under the names the builders use. */
export type KnownBlock = types.KnownBlock;
export type ModalView = types.ModalView;
export type HomeView = types.HomeView;
export type SectionBlock = types.SectionBlock;
export type ContextBlock = types.ContextBlock;
export type ActionsBlock = types.ActionsBlock;
export type InputBlock = types.InputBlock;
export type Button = types.Button;
export type ActionsBlockElement = types.ActionsBlockElement;
export type PlainTextElement = types.PlainTextElement;
export type MrkdwnElement = types.MrkdwnElement;
export type PlainTextOption = types.PlainTextOption;
export type InputBlockElement = InputBlock['element'];

/** A message as builders return it: the notification text and its blocks. */
export interface Message {
  text: string;
  blocks?: KnownBlock[];
}
