import { esc, slackDate } from './common.js';
import { SLASH_COMMAND } from './ids.js';

/**
 * How facts are set in a sentence. The same sentences (views/problems.ts) are read in Slack, where
 * they are mrkdwn with mentions and dates, and on the command line, where they are plain words.
 */
export interface Fmt {
  /** Text from Duo or a person, inline. */
  text(s: string): string;
  /** A name that must stand out (a Duo username in a sentence). */
  strong(s: string): string;
  /** Something the person types or copies exactly (a username, a setting, a value). */
  code(s: string): string;
  /** A `/duo …` command to run. */
  command(rest: string): string;
  /** A Slack user. */
  user(slackUserId: string): string;
  /** A Slack channel. */
  channel(channelId: string): string;
  date(d: Date): string;
}

export const mrkdwn: Fmt = {
  text: esc,
  strong: (s) => `*${esc(s)}*`,
  code: (s) => `\`${esc(s)}\``,
  command: (rest) => `\`${SLASH_COMMAND}${rest ? ` ${esc(rest)}` : ''}\``,
  user: (id) => `<@${id}>`,
  channel: (id) => `<#${id}>`,
  date: (d) => slackDate(d),
};

export const plainWords: Fmt = {
  text: (s) => s,
  strong: (s) => s,
  code: (s) => `"${s}"`,
  command: (rest) => `"${SLASH_COMMAND}${rest ? ` ${rest}` : ''}"`,
  user: (id) => id,
  channel: (id) => id,
  date: (d) => `${d.toISOString().replace('T', ' ').slice(0, 16)} UTC`,
};
