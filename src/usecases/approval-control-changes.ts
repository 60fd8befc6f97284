import { z } from 'zod';
import { Responder } from '../db/entities.js';
import { ROLES, type Role } from '../domain/roles.js';
import { formatSettingValue, isSettingName, type SettingName } from '../domain/settings.js';
import { findActor } from './access.js';
import type { ApprovalKind, KindContext } from './approval-model.js';
import { applyGrant } from './responders.js';
import { changeSetting, loadSettings } from './settings.js';
import { applyTotpReset } from './step-up.js';

/**
 * Changes that weaken the controls themselves: a setting that removes or loosens a guard, the Owner or
 * Administrator role, the approver flag, and resetting another responder's step-up. They need the
 * actor's step-up always and a second owner's approval, or, with a single owner, an announced delay
 * during which any owner can cancel. Only an owner may still be behind the request when it runs.
 */
const requesterStillOwner = async ({ em }: KindContext, r: { teamId: string; requesterUserId: string }) =>
  (await findActor(em, r.teamId, r.requesterUserId))?.role === 'owner';

export const SettingChangeParams = z
  .object({
    name: z.string().refine(isSettingName, 'unknown setting'),
    value: z.union([z.boolean(), z.number(), z.string()]),
  })
  .strict();
export type SettingChangeParams = { name: SettingName; value: boolean | number | string };

export const settingChangeKind: ApprovalKind<SettingChangeParams, { current: string }> = {
  name: 'setting_change',
  audit: 'setting_change',
  params: SettingChangeParams as z.ZodType<SettingChangeParams>,
  stillAllowed: requesterStillOwner,
  async cardFacts({ em }, r) {
    return { current: formatSettingValue((await loadSettings(em, r.teamId))[r.params.name]) };
  },
  async execute(ctx, r) {
    const out = await changeSetting(
      ctx.deps,
      ctx.em,
      ctx.actor,
      r.teamId,
      r.params.name,
      r.params.value,
      ctx.correlationId ?? r.id,
      r.id,
    );
    return { state: 'done', result: { before: out.before, after: out.after } };
  },
};

export const ResponderChangeParams = z
  .object({ userId: z.string().regex(/^[UW][A-Z0-9]{2,}$/), role: z.enum(ROLES), approver: z.boolean() })
  .strict();
export type ResponderChangeParams = { userId: string; role: Role; approver: boolean };

export interface ResponderChangeCard {
  currentRole: Role | null;
  currentApprover: boolean;
}

export const responderChangeKind: ApprovalKind<ResponderChangeParams, ResponderChangeCard> = {
  name: 'responder_change',
  audit: 'responder_change',
  params: ResponderChangeParams,
  stillAllowed: requesterStillOwner,
  async cardFacts({ em }, r) {
    const now = await em.findOne(Responder, { teamId: r.teamId, userId: r.params.userId }, { refresh: true });
    return { currentRole: now?.role ?? null, currentApprover: now?.approver ?? false };
  },
  async execute(ctx, r) {
    const out = await applyGrant(
      ctx.deps,
      ctx.em,
      ctx.actor,
      { teamId: r.teamId, userId: r.params.userId, role: r.params.role, approver: r.params.approver },
      ctx.correlationId ?? r.id,
      r.id,
    );
    return { state: 'done', result: { previousRole: out.before, created: out.created } };
  },
};

export const StepUpResetParams = z.object({ userId: z.string().regex(/^[UW][A-Z0-9]{2,}$/) }).strict();
export type StepUpResetParams = z.infer<typeof StepUpResetParams>;

export const stepUpResetKind: ApprovalKind<StepUpResetParams, { enrolled: boolean }> = {
  name: 'stepup_reset',
  audit: 'stepup_reset',
  params: StepUpResetParams,
  stillAllowed: requesterStillOwner,
  async cardFacts({ em }, r) {
    const now = await em.findOne(Responder, { teamId: r.teamId, userId: r.params.userId }, { refresh: true });
    return { enrolled: now?.totpStatus === 'active' };
  },
  async execute(ctx, r) {
    await applyTotpReset(ctx.deps, ctx.em, ctx.actor, r.teamId, r.params.userId, ctx.correlationId ?? r.id, r.id);
    return { state: 'done' };
  },
};
