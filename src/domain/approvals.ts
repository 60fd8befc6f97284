/**
 * A guarded change waiting for, or past, its second person: the approval lifecycle every dangerous
 * change goes through (bypass codes, bypass status, weakening settings, powerful roles, step-up
 * resets, and the device and account changes that follow). Its states and the only transitions
 * between them are declared here, once; the store applies each transition as one conditional update
 * (`where state = <from>`), so the first decision wins across instances.
 *
 *   requested ──approve──▶ approved ──▶ executing ──▶ done           (a one-off change)
 *       │  └─deny / cancel / expire                    └──▶ active ──▶ ending ──▶ ended   (time-boxed)
 *   scheduled ──delay passed──▶ approved                └──▶ failed | unknown
 *       └─cancel (any owner)
 */
export const APPROVAL_STATES = [
  'requested',
  'scheduled',
  'approved',
  'denied',
  'expired',
  'cancelled',
  'executing',
  'done',
  'active',
  'ending',
  'ended',
  'failed',
  'unknown',
] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];

export const TRANSITIONS: { readonly [S in ApprovalState]: readonly ApprovalState[] } = {
  /** Waiting for a second person (or the requester's cancel, or the expiry). */
  requested: ['approved', 'denied', 'cancelled', 'expired'],
  /** A weakening change with nobody to approve it: takes effect after the delay unless an owner cancels. */
  scheduled: ['approved', 'cancelled'],
  /** Decided; the executor runs next. A crash here is settled as unknown, never re-run. */
  approved: ['executing', 'unknown'],
  /** The executor's Duo or database change is under way (its audit intent is written). */
  executing: ['done', 'active', 'failed', 'unknown'],
  /** A time-boxed change in effect (bypass status): ends at its time, or earlier on request. */
  active: ['ending'],
  /** Undoing a time-boxed change; back to active when the undo failed (it is tried again). */
  ending: ['ended', 'active'],
  denied: [],
  expired: [],
  cancelled: [],
  done: [],
  ended: [],
  failed: [],
  unknown: [],
};

export const canTransition = (from: ApprovalState, to: ApprovalState): boolean => TRANSITIONS[from].includes(to);

/** States in which a request still waits for someone's decision (cards show their buttons). */
export const UNDECIDED: readonly ApprovalState[] = ['requested', 'scheduled'];

/** States from which nothing follows. */
export const FINAL: readonly ApprovalState[] = APPROVAL_STATES.filter((s) => TRANSITIONS[s].length === 0);

/**
 * Who has to agree before a guarded change happens:
 * - none: the settings exempt the requester (the change runs at once, still recorded as a request);
 * - second_person: an approver other than the requester (Owner, Administrator, or the approver flag);
 * - second_owner: another Owner (changes that weaken the controls themselves);
 * - delay: no second owner exists, so the change waits out a delay, announced, during which any owner can cancel.
 */
export const APPROVAL_POLICIES = ['none', 'second_person', 'second_owner', 'delay'] as const;
export type ApprovalPolicy = (typeof APPROVAL_POLICIES)[number];
