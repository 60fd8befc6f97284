import { z } from 'zod';
import { USER_FILTERS, type UserFilter } from '../src/domain/users-overview.js';
import { fail } from '../src/errors.js';
import { actionListener, viewListener } from '../src/slack/listener.js';
import type { Notifier } from '../src/slack/notifier.js';
import { ensureAllowed } from '../src/usecases/access.js';
import { BULK_STATUS_MAX } from '../src/usecases/approval-bulk-status.js';
import { bypassReport, REPORT_ROWS } from '../src/usecases/bypass-report.js';
import type { Caller, Deps, EntityManager } from '../src/usecases/deps.js';
import { requestBulkStatus } from '../src/usecases/users-bulk-status.js';
import { exportUsers, usersOverview, usersPage } from '../src/usecases/users-overview.js';
import { requestWeakCodesDeletion } from '../src/usecases/weak-codes.js';
import { bypassReportMessage, weakCodesModal, weakCodesSubmittedModal } from '../views/bypass-report.js';
import { ACTIONS, BLOCKS, VIEWS } from '../views/ids.js';
import {
  bulkStatusModal,
  bulkSubmittedModal,
  usersExportFileInfo,
  usersExportPreparing,
  usersExportSent,
  usersOverviewMessage,
  usersPageMessage,
} from '../views/users.js';
import { buttonValue, channelOf, type FlowCommands, formState, parsePrivateMetadata } from './kit.js';

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

const bulkRef = z
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
  .pipe(z.strictObject({ f: filterSchema, s: cursor }));
const bulkMeta = z.strictObject({ f: filterSchema, channelId: z.string().max(40) });

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
    if (words[0]?.toLowerCase() === 'codes' && words.length === 1) {
      const report = await bypassReport(deps, c.em, c.caller);
      await ack();
      await respond({ response_type: 'ephemeral', ...bypassReportMessage(report, REPORT_ROWS) });
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
  register(app, { deps, notifier, approvals }) {
    app.action(
      ACTIONS.usersBulk,
      actionListener(deps, async (c, { action, body }) => {
        const ref = buttonValue(bulkRef, action);
        // The entry check: the least a bulk change needs (Active); the submit authorizes the status asked for.
        await ensureAllowed(deps, c.em, c.caller, 'user.set_status', {
          kind: 'status',
          toStatus: 'active',
          directorySynced: false,
        });
        const page = await usersPage(
          deps,
          c.em,
          c.caller,
          { filter: ref.f, from: { key: ref.s[0], id: ref.s[1] } },
          BULK_STATUS_MAX,
        );
        if (!page.users.length)
          throw fail('INVALID_INPUT', 'users.bulk_bad_input', { issue: 'none', max: BULK_STATUS_MAX });
        await notifier.openView(body.trigger_id, bulkStatusModal(page, { f: ref.f, channelId: channelOf(body) }));
      }),
    );
    app.action(
      ACTIONS.codesDeleteWeak,
      actionListener(deps, async (c, { action, body }) => {
        buttonValue(z.literal('weak'), action);
        await ensureAllowed(deps, c.em, c.caller, 'bypass_codes.delete');
        const report = await bypassReport(deps, c.em, c.caller);
        if (!report.weak) throw fail('INVALID_INPUT', 'codes.no_weak_codes', {});
        await notifier.openView(body.trigger_id, weakCodesModal(report.weak, channelOf(body)));
      }),
    );
    app.view(
      VIEWS.weakCodes,
      viewListener(deps, async (c, { ack, view }) => {
        const meta = parsePrivateMetadata(
          z.strictObject({ channelId: z.string().max(40) }),
          view.private_metadata,
          'users',
        );
        const form = formState(view.state.values);
        const submitted = await requestWeakCodesDeletion(deps, c.em, c.caller, approvals, {
          reason: form.text(BLOCKS.reason),
          totp: form.text(BLOCKS.totp),
          requestChannel: meta.channelId || null,
        });
        await ack({
          response_action: 'update',
          view: weakCodesSubmittedModal(
            submitted.outcome,
            (submitted.request.params as { targets: unknown[] }).targets.length,
            deps.config.approvalChannel,
          ),
        });
      }),
    );
    app.view(
      VIEWS.usersBulk,
      viewListener(deps, async (c, { ack, view }) => {
        const meta = parsePrivateMetadata(bulkMeta, view.private_metadata, 'users');
        const form = formState(view.state.values);
        const submitted = await requestBulkStatus(deps, c.em, c.caller, approvals, {
          duoUserIds: form.choices(BLOCKS.bulkUsers),
          toStatus: form.choice(BLOCKS.status) ?? '',
          reason: form.text(BLOCKS.reason),
          totp: form.text(BLOCKS.totp),
          requestChannel: meta.channelId || null,
        });
        await ack({
          response_action: 'update',
          view: bulkSubmittedModal(
            submitted.outcome,
            (submitted.request.params as { users: unknown[] }).users.length,
            deps.config.approvalChannel,
          ),
        });
      }),
    );
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
