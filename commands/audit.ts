import type { App } from '@slack/bolt';
import { z } from 'zod';
import { AppError } from '../src/errors.js';
import { actionListener } from '../src/slack/listener.js';
import type { Notifier } from '../src/slack/notifier.js';
import { ensureAllowed } from '../src/usecases/access.js';
import { AUDIT_VIEW_MAX, exportAuditFile, readAudit } from '../src/usecases/audit-read.js';
import type { Caller, Deps, EntityManager } from '../src/usecases/deps.js';
import { parseUserQuery } from '../src/usecases/lookup.js';
import { auditExportFileInfo, auditExportPreparing, auditExportSent, auditHistoryMessage } from '../views/audit.js';
import { ACTIONS, SLASH_COMMAND } from '../views/ids.js';
import type { CommandEnv, SubcommandHandler } from './kit.js';

/** `/duo audit [user]` lists the recent events; `/duo audit export csv|json [since] [until]` sends the file. */
const isoDate = (flag: string) =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/, {
      message: `${flag} must be an ISO date such as 2026-11-01 or 2026-11-01T08:00:00Z.`,
    })
    .transform((s, ctx) => {
      const d = new Date(s);
      if (Number.isNaN(d.getTime())) {
        ctx.addIssue({ code: 'custom', message: `${flag} is not a real date.` });
        return z.NEVER;
      }
      return d;
    });

const exportArgs = z
  .object({
    format: z.enum(['csv', 'json'], { message: 'Say which format: `csv` or `json`.' }),
    since: isoDate('since').optional(),
    until: isoDate('until').optional(),
  })
  .refine((a) => !a.since || !a.until || a.since < a.until, { message: 'since must be before until.' });

const usage = `Usage: \`${SLASH_COMMAND} audit [user]\` or \`${SLASH_COMMAND} audit export csv|json [since] [until]\`.`;

function parseExport(words: string[]) {
  if (words.length > 3) throw new AppError('INVALID_INPUT', 'too many audit export arguments', { userMessage: usage });
  const [format, since, until] = words;
  const parsed = exportArgs.safeParse({ format: format?.toLowerCase(), since, until });
  if (!parsed.success)
    throw new AppError('INVALID_INPUT', 'audit export arguments invalid', {
      userMessage: `${parsed.error.issues[0]?.message ?? 'Invalid arguments.'} ${usage}`,
    });
  return parsed.data;
}

async function sendExport(
  deps: Deps,
  notifier: Notifier,
  em: EntityManager,
  caller: Caller,
  input: ReturnType<typeof parseExport>,
) {
  const file = await exportAuditFile(deps, em, caller, input);
  await notifier.uploadToUser(caller.userId, {
    filename: file.filename,
    content: file.content,
    ...auditExportFileInfo(file),
  });
  return file;
}

export const audit: SubcommandHandler = async (c, { ack, respond }, rest, { deps, notifier }) => {
  const words = rest ? rest.split(/\s+/) : [];
  if (words[0]?.toLowerCase() === 'export') {
    const input = parseExport(words.slice(1));
    await ensureAllowed(deps, c.em, c.caller, 'audit.export');
    await ack({ response_type: 'ephemeral', text: auditExportPreparing(input.format) });
    const file = await sendExport(deps, notifier, c.em, c.caller, input);
    await respond({ response_type: 'ephemeral', replace_original: true, text: auditExportSent(file) });
    return;
  }
  if (words.length > 1) throw new AppError('INVALID_INPUT', 'too many audit arguments', { userMessage: usage });
  const username = words[0] ? parseUserQuery(words[0]) : undefined;
  const model = await readAudit(deps, c.em, c.caller, { username, limit: AUDIT_VIEW_MAX });
  // Through response_url (not the ack body), so the export button can be clicked on it.
  await ack();
  await respond({ response_type: 'ephemeral', ...auditHistoryMessage(model) } as never);
};

export function registerAudit(app: App, { deps, notifier }: CommandEnv): void {
  app.action(
    ACTIONS.auditExport,
    actionListener(deps, async (c, { respond }) => {
      const file = await sendExport(deps, notifier, c.em, c.caller, { format: 'csv' });
      await respond({ response_type: 'ephemeral', replace_original: false, text: auditExportSent(file) });
    }),
  );
}
