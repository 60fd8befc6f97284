export { makeGroup, makeHardwareToken, makePhone, makeUser, makeWebAuthn, userIdFor } from './build.js';
export { DEMO_PURPOSES, DEMO_USERNAMES, demoDirectory } from './demo-directory.js';
export { generateDirectory, prng } from './generate.js';
export { startDuoSimulator } from './server.js';
export type {
  AutoAnswer,
  Clock,
  DuoSimulator,
  DuoSimulatorOptions,
  EnrollmentEmail,
  FaultKind,
  FaultSpec,
  PushAnswer,
  SimBypassCode,
  SimGrant,
  SimLogger,
  SimPhone,
  SimPush,
  SimRequestRecord,
  SimUser,
  SimUserStatus,
} from './types.js';
