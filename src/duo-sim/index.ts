export { makeGroup, makeHardwareToken, makePhone, makeUser, makeWebAuthn, userIdFor } from './build.js';
export { DEMO_USERNAMES, demoDirectory } from './demo-directory.js';
export { generateDirectory } from './generate.js';
export { startDuoSimulator } from './server.js';
export type {
  AutoAnswer,
  DuoSimulator,
  DuoSimulatorOptions,
  EnrollmentEmail,
  FaultKind,
  FaultSpec,
  PushAnswer,
  SimBypassCode,
  SimPhone,
  SimPush,
  SimRequestRecord,
  SimUser,
  SimUserStatus,
} from './types.js';
