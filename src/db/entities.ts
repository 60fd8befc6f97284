import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { APPROVAL_POLICIES, APPROVAL_STATES } from '../domain/approvals.js';
import { AUDIT_OUTCOMES } from '../domain/audit.js';
import { ROLES } from '../domain/roles.js';
import { TOTP_ENROLLMENT_STATUSES, TOTP_STATUSES } from '../domain/step-up.js';
import { VERIFICATION_PURPOSES, VERIFICATION_STATUSES } from '../domain/verification.js';

/**
 * Entities mirror the tables created by migrations/ (the migrations are the source of truth).
 * The enums they store (roles, statuses, outcomes) are defined in the domain.
 */

export const Responder = defineEntity({
  name: 'Responder',
  tableName: 'responder',
  properties: {
    id: p.integer().primary().autoincrement(),
    teamId: p.string(),
    userId: p.string(),
    role: p.enum([...ROLES]),
    approver: p.boolean().default(false),
    grantedBy: p.string().nullable(),
    totpSecret: p.text().nullable(),
    totpStatus: p.enum([...TOTP_STATUSES]).default('none'),
    totpLastStep: p.bigint('number').nullable(),
    stepUpLockedUntil: p.datetime().nullable(),
    /** The enrollment attempt (TotpEnrollment) the pending secret belongs to. */
    totpPendingEnrollment: p.uuid().nullable(),
    /** The Duo account (user id) the active enrollment was bound to. */
    totpDuoUserId: p.string().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
    version: p.integer().version(),
  },
  uniques: [{ properties: ['teamId', 'userId'] }],
});
export type IResponder = InferEntity<typeof Responder>;

export const Setting = defineEntity({
  name: 'Setting',
  tableName: 'setting',
  properties: {
    teamId: p.string().primary(),
    name: p.string().primary(),
    value: p.json<unknown>(),
    updatedBy: p.string().nullable(),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});
export type ISetting = InferEntity<typeof Setting>;

export const AuditEvent = defineEntity({
  name: 'AuditEvent',
  tableName: 'audit_event',
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    teamId: p.string(),
    seq: p.bigint('number'),
    occurredAt: p.datetime(),
    actorUserId: p.string().nullable(),
    actorRole: p.string().nullable(),
    action: p.string(),
    /** 'intent' rows precede a Duo mutation; their 'outcome' row points back through intentId. */
    phase: p.enum(['event', 'intent', 'outcome']),
    targetDuoUserId: p.string().nullable(),
    targetUsername: p.string().nullable(),
    outcome: p.enum([...AUDIT_OUTCOMES]),
    reason: p.text().nullable(),
    ticket: p.string().nullable(),
    correlationId: p.string().nullable(),
    intentId: p.bigint('number').nullable(),
    requestRef: p.string().nullable(),
    duoRef: p.string().nullable(),
    params: p.json<Record<string, unknown>>(),
    prevHash: p.string(),
    hash: p.string(),
    /** The audit key that linked the row (HMAC); null for rows from before the keyed chain. */
    keyId: p.string().nullable(),
    /** The writing transaction, stamped by a database trigger (not part of the link). */
    txid: p.bigint('number').nullable(),
  },
  uniques: [{ properties: ['teamId', 'seq'] }],
});
export type IAuditEvent = InferEntity<typeof AuditEvent>;

export const AuditChainHead = defineEntity({
  name: 'AuditChainHead',
  tableName: 'audit_chain_head',
  properties: {
    teamId: p.string().primary(),
    seq: p.bigint('number'),
    hash: p.string(),
  },
});

export const AuditOutbox = defineEntity({
  name: 'AuditOutbox',
  tableName: 'audit_outbox',
  properties: {
    eventId: p.bigint('number').primary().autoincrement(false),
    teamId: p.string(),
    seq: p.bigint('number'),
    status: p.enum(['pending', 'sending', 'posted', 'skipped']).default('pending'),
    postedTs: p.string().nullable(),
    postedChannel: p.string().nullable(),
    attempts: p.integer().default(0),
    lastError: p.text().nullable(),
    /** Posted ahead of the backlog (fraud reports, lockouts, bypass status, weakening changes). */
    alert: p.boolean().default(false),
    /** A gap before this event was already reported (so it is reported once). */
    gapReported: p.boolean().default(false),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});

/** A signed checkpoint (seq, link, time) for the audit channel. */
export const AuditCheckpoint = defineEntity({
  name: 'AuditCheckpoint',
  tableName: 'audit_checkpoint',
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    teamId: p.string(),
    seq: p.bigint('number'),
    link: p.string(),
    keyId: p.string(),
    signedAt: p.datetime(),
    signature: p.string(),
    status: p.enum(['pending', 'sending', 'posted']).default('pending'),
    postedTs: p.string().nullable(),
    postedChannel: p.string().nullable(),
    attempts: p.integer().default(0),
    lastError: p.text().nullable(),
    updatedAt: p.datetime(),
  },
});

/** Written only by the database trigger on responder and setting: which columns changed, by whom, in which transaction. */
export const AuditDbChange = defineEntity({
  name: 'AuditDbChange',
  tableName: 'audit_db_change',
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    at: p.datetime(),
    txid: p.bigint('number'),
    dbUser: p.string(),
    tableName: p.string(),
    operation: p.string(),
    teamId: p.string().nullable(),
    rowRef: p.string().nullable(),
    columns: p.json<string[]>(),
  },
});

export const Job = defineEntity({
  name: 'Job',
  tableName: 'job',
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    kind: p.string(),
    payload: p.json<Record<string, unknown>>(),
    dedupeKey: p.string().nullable(),
    status: p.enum(['queued', 'running', 'done', 'failed']).default('queued'),
    runAt: p.datetime(),
    attempts: p.integer().default(0),
    maxAttempts: p.integer().default(10),
    lockedUntil: p.datetime().nullable(),
    leaseOwner: p.string().nullable(),
    lastError: p.text().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});
export type IJob = InferEntity<typeof Job>;

export const DirectoryEntry = defineEntity({
  name: 'DirectoryEntry',
  tableName: 'directory_entry',
  properties: {
    duoUserId: p.string().primary(),
    username: p.string(),
    aliases: p.json<string[]>(),
    email: p.string().nullable(),
    realname: p.string().nullable(),
    status: p.string().nullable(),
    refreshedAt: p.datetime(),
    /** The users overview's facts (null until the entry's next refresh after the upgrade). */
    isEnrolled: p.boolean().nullable(),
    lastLogin: p.datetime().nullable(),
    created: p.datetime().nullable(),
    directorySynced: p.boolean().nullable(),
  },
});
export type IDirectoryEntry = InferEntity<typeof DirectoryEntry>;

export const Verification = defineEntity({
  name: 'Verification',
  tableName: 'verification',
  properties: {
    id: p.uuid().primary(),
    teamId: p.string(),
    responderUserId: p.string(),
    duoUserId: p.string(),
    username: p.string(),
    phoneId: p.string(),
    phoneLabel: p.string().nullable(),
    pushId: p.string().nullable(),
    status: p.enum([...VERIFICATION_STATUSES]),
    sentAt: p.datetime(),
    answeredAt: p.datetime().nullable(),
    validUntil: p.datetime().nullable(),
    messageChannel: p.string().nullable(),
    messageTs: p.string().nullable(),
    correlationId: p.string().nullable(),
    purpose: p.enum([...VERIFICATION_PURPOSES]).default('caller'),
    version: p.integer().version(),
  },
});
export type IVerification = InferEntity<typeof Verification>;

export const ApprovalRequest = defineEntity({
  name: 'ApprovalRequest',
  tableName: 'approval_request',
  properties: {
    id: p.uuid().primary(),
    teamId: p.string(),
    kind: p.string(),
    params: p.json<Record<string, unknown>>(),
    state: p.enum([...APPROVAL_STATES]),
    policy: p.enum([...APPROVAL_POLICIES]),
    requesterUserId: p.string(),
    requesterRole: p.string(),
    targetDuoUserId: p.string().nullable(),
    targetUsername: p.string().nullable(),
    reason: p.text(),
    ticket: p.string().nullable(),
    requestChannel: p.string().nullable(),
    cardChannel: p.string().nullable(),
    cardTs: p.string().nullable(),
    decidedBy: p.string().nullable(),
    decidedAt: p.datetime().nullable(),
    decisionNote: p.text().nullable(),
    expiresAt: p.datetime(),
    executeAfter: p.datetime().nullable(),
    activeUntil: p.datetime().nullable(),
    result: p.json<Record<string, string | number | boolean | null>>(),
    failureReason: p.text().nullable(),
    verificationId: p.string().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
    version: p.integer().version(),
  },
});
export type IApprovalRequest = InferEntity<typeof ApprovalRequest>;

export const StepUpFailure = defineEntity({
  name: 'StepUpFailure',
  tableName: 'step_up_failure',
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    teamId: p.string(),
    userId: p.string(),
    at: p.datetime(),
  },
});

export const VerificationPushAttempt = defineEntity({
  name: 'VerificationPushAttempt',
  tableName: 'verification_push_attempt',
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    teamId: p.string(),
    responderUserId: p.string(),
    duoUserId: p.string(),
    at: p.datetime(),
  },
});

export const TotpEnrollment = defineEntity({
  name: 'TotpEnrollment',
  tableName: 'totp_enrollment',
  properties: {
    id: p.uuid().primary(),
    teamId: p.string(),
    userId: p.string(),
    duoUserId: p.string(),
    username: p.string(),
    verificationId: p.uuid().nullable(),
    qrFileId: p.string().nullable(),
    viewId: p.string().nullable(),
    status: p.enum([...TOTP_ENROLLMENT_STATUSES]),
    reenrollment: p.boolean().default(false),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
    finishedAt: p.datetime().nullable(),
    qrDeletedAt: p.datetime().nullable(),
  },
});
export type ITotpEnrollment = InferEntity<typeof TotpEnrollment>;

export const SeenRequest = defineEntity({
  name: 'SeenRequest',
  tableName: 'seen_request',
  properties: {
    key: p.string().primary(),
    seenAt: p.datetime(),
    expiresAt: p.datetime(),
  },
});

export const DEVICE_CONFIRMATION_STATES = ['sent', 'confirmed', 'rejected', 'expired'] as const;

/** A "verify another way" confirmation sent to the employee's own Slack (src/usecases/device-confirmation.ts). */
export const DeviceConfirmation = defineEntity({
  name: 'DeviceConfirmation',
  tableName: 'device_confirmation',
  properties: {
    id: p.uuid().primary(),
    teamId: p.string(),
    responderUserId: p.string(),
    duoUserId: p.string(),
    username: p.string(),
    action: p.string(),
    phoneId: p.string(),
    employeeUserId: p.string(),
    state: p.enum([...DEVICE_CONFIRMATION_STATES]),
    sentAt: p.datetime(),
    expiresAt: p.datetime(),
    answeredAt: p.datetime().nullable(),
    dmChannel: p.string().nullable(),
    dmTs: p.string().nullable(),
    formViewId: p.string().nullable(),
    correlationId: p.string().nullable(),
    version: p.integer().version(),
  },
});
export type IDeviceConfirmation = InferEntity<typeof DeviceConfirmation>;

export const entities = [
  Responder,
  Setting,
  AuditEvent,
  AuditChainHead,
  AuditOutbox,
  AuditCheckpoint,
  AuditDbChange,
  Job,
  DirectoryEntry,
  Verification,
  ApprovalRequest,
  StepUpFailure,
  VerificationPushAttempt,
  TotpEnrollment,
  SeenRequest,
  DeviceConfirmation,
];
