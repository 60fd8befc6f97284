import { z } from 'zod';
import { USER_FILTERS, type UserFilter } from '../src/domain/users-overview.js';
import { fail } from '../src/errors.js';
import { actionListener } from '../src/slack/listener.js';
import type { Notifier } from '../src/slack/notifier.js';
import { ensureAllowed } from '../src/usecases/access.js';
import type { Caller, Deps, EntityManager } from '../src/usecases/deps.js';
import { exportUsers, usersOverview, usersPage } from '../src/usecases/users-overview.js';
import { ACTIONS } from '../views/ids.js';
import {
  usersExportFileInfo,
  usersExportPreparing,
  usersExportSent,
  usersOverviewMessage,
  usersPageMessage,
} from '../views/users.js';
import { buttonValue, type FlowCommands } from './kit.js';

/**
 * `/duo users` shows the counts; `/duo users <filter>` a filter's first page; `/duo users export csv|json [filter]`
 * sends the filter as a file to the caller's DMs. The buttons carry a filter and a position, never authority.
 */
const filterSchema = z.enum(USER_FILTERS);
const cursor = z.tuple([z.string().max(600), z.string().min(1).max(255)]);
const pageRef = z
  .string()
  .max(2000)
  .transform((s, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.strictObject({ f: filterSchema, a: cursor.optional(), b: cursor.optional() }));
const exportRef = z
  .string()
  .max(200)
  .transform((s, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.strictObject({ f: filterSchema, fmt: z.enum(['csv', 'json']) }));

const parseFilter = (word: string | undefined): UserFilter => {
  const parsed = filterSchema.safeParse((word ?? 'all').toLowerCase().replace(/-/g, '_'));
  if (!parsed.success) throw fail('INVALID_INPUT', 'users.bad_args', { issue: 'filter' });
  return parsed.data;
};

async function sendExport(
  deps: Deps,
  notifier: Notifier,
  em: EntityManager,
  caller: Caller,
  input: { filter: UserFilter; format: 'csv' | 'json' },
) {
  const file = await exportUsers(deps, em, caller, input);
  await notifier.uploadToUser(caller.userId, {
    filename: file.filename,
    content: file.content,
    ...usersExportFileInfo(file),
  });
  return file;
}

export const usersFlow: FlowCommands['users'] = {
  async run(c, { ack, respond }, rest, { deps, notifier }) {
    const words = rest ? rest.split(/\s+/) : [];
    if (words[0]?.toLowerCase() === 'export') {
      if (words.length > 3) throw fail('INVALID_INPUT', 'users.bad_args', { issue: 'filter' });
      const format = z.enum(['csv', 'json']).safeParse(words[1]?.toLowerCase());
      if (!format.success) throw fail('INVALID_INPUT', 'users.bad_args', { issue: 'format' });
      const filter = parseFilter(words[2]);
      await ensureAllowed(deps, c.em, c.caller, 'users.export');
      await ack({ response_type: 'ephemeral', text: usersExportPreparing(format.data, filter) });
      const file = await sendExport(deps, notifier, c.em, c.caller, { filter, format: format.data });
      await respond({ response_type: 'ephemeral', replace_original: true, text: usersExportSent(file) });
      return;
    }
    if (words.length > 1) throw fail('INVALID_INPUT', 'users.bad_args', { issue: 'filter' });
    // Through response_url (not the ack body), so the buttons can be clicked on it.
    if (words.length === 0) {
      const overview = await usersOverview(deps, c.em, c.caller);
      await ack();
      await respond({ response_type: 'ephemeral', ...usersOverviewMessage(overview) });
      return;
    }
    const page = await usersPage(deps, c.em, c.caller, { filter: parseFilter(words[0]) });
    await ack();
    await respond({ response_type: 'ephemeral', ...usersPageMessage(page) });
  },
  register(app, { deps, notifier }) {
    app.action(
      ACTIONS.usersFilter,
      actionListener(deps, async (c, { action, respond }) => {
        const filter = buttonValue(filterSchema, action);
        const page = await usersPage(deps, c.em, c.caller, { filter });
        await respond({ response_type: 'ephemeral', replace_original: true, ...usersPageMessage(page) });
      }),
    );
    app.action(
      ACTIONS.usersPage,
      actionListener(deps, async (c, { action, respond }) => {
        const ref = buttonValue(pageRef, action);
        const at = (t: [string, string] | undefined) => (t ? { key: t[0], id: t[1] } : undefined);
        const page = await usersPage(deps, c.em, c.caller, { filter: ref.f, after: at(ref.a), before: at(ref.b) });
        await respond({ response_type: 'ephemeral', replace_original: true, ...usersPageMessage(page) });
      }),
    );
    app.action(
      ACTIONS.usersOverview,
      actionListener(deps, async (c, { respond }) => {
        const overview = await usersOverview(deps, c.em, c.caller);
        await respond({ response_type: 'ephemeral', replace_original: true, ...usersOverviewMessage(overview) });
      }),
    );
    app.action(
      ACTIONS.usersExport,
      actionListener(deps, async (c, { action, respond }) => {
        const ref = buttonValue(exportRef, action);
        const file = await sendExport(deps, notifier, c.em, c.caller, { filter: ref.f, format: ref.fmt });
        await respond({ response_type: 'ephemeral', replace_original: false, text: usersExportSent(file) });
      }),
    );
  },
};
