import { z } from 'zod';
import { fail } from '../src/errors.js';
import { actionListener } from '../src/slack/listener.js';
import type { Notifier } from '../src/slack/notifier.js';
import { ensureAllowed } from '../src/usecases/access.js';
import { AUDIT_VIEW_MAX, exportAuditFile, readAudit } from '../src/usecases/audit-read.js';
import type { Caller, Deps, EntityManager } from '../src/usecases/deps.js';
import { parseUserQuery } from '../src/usecases/lookup.js';
import { auditExportFileInfo, auditExportPreparing, auditExportSent, auditHistoryMessage } from '../views/audit.js';
import { ACTIONS } from '../views/ids.js';
import type { FlowCommands } from './kit.js';

/** `/duo audit [user]` lists the recent events; `/duo audit export csv|json [since] [until]` sends the file. */
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/)
  .transform((s, ctx) => {
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) {
      ctx.addIssue({ code: 'custom', message: 'not a real date' });
      return z.NEVER;
    }
    return d;
  });

const exportArgs = z
  .object({ format: z.enum(['csv', 'json']), since: isoDate.optional(), until: isoDate.optional() })
  .refine((a) => !a.since || !a.until || a.since < a.until);

/** What was wrong with the arguments, from the first zod issue's path. */
const badArgs = (issue?: z.core.$ZodIssue) => {
  const at = issue?.path[0];
  if (!issue) return fail('INVALID_INPUT', 'audit.bad_args', { issue: 'too_many' });
  if (at === 'format') return fail('INVALID_INPUT', 'audit.bad_args', { issue: 'format' });
  if (at === 'since' || at === 'until') return fail('INVALID_INPUT', 'audit.bad_args', { issue: 'date', flag: at });
  return fail('INVALID_INPUT', 'audit.bad_args', { issue: 'order' });
};

function parseExport(words: string[]) {
  if (words.length > 3) throw badArgs();
  const [format, since, until] = words;
  const parsed = exportArgs.safeParse({ format: format?.toLowerCase(), since, until });
  if (!parsed.success) throw badArgs(parsed.error.issues[0]);
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

export const auditFlow: FlowCommands['audit'] = {
  async run(c, { ack, respond }, rest, { deps, notifier }) {
    const words = rest ? rest.split(/\s+/) : [];
    if (words[0]?.toLowerCase() === 'export') {
      const input = parseExport(words.slice(1));
      await ensureAllowed(deps, c.em, c.caller, 'audit.export');
      await ack({ response_type: 'ephemeral', text: auditExportPreparing(input.format) });
      const file = await sendExport(deps, notifier, c.em, c.caller, input);
      await respond({ response_type: 'ephemeral', replace_original: true, text: auditExportSent(file) });
      return;
    }
    if (words.length > 1) throw badArgs();
    const username = words[0] ? parseUserQuery(words[0]) : undefined;
    const model = await readAudit(deps, c.em, c.caller, { username, limit: AUDIT_VIEW_MAX });
    // Through response_url (not the ack body), so the export button can be clicked on it.
    await ack();
    await respond({ response_type: 'ephemeral', ...auditHistoryMessage(model) });
  },
  register(app, { deps, notifier }) {
    app.action(
      ACTIONS.auditExport,
      actionListener(deps, async (c, { respond }) => {
        const file = await sendExport(deps, notifier, c.em, c.caller, { format: 'csv' });
        await respond({ response_type: 'ephemeral', replace_original: false, text: auditExportSent(file) });
      }),
    );
  },
};
