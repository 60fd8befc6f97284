export { makeGroup, makeHardwareToken, makePhone, makeUser, makeWebAuthn, userIdFor } from './build.js';
export { DEMO_DIRECTORIES, DEMO_PURPOSES, DEMO_USERNAMES, demoDirectory } from './demo-directory.js';
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
  SimActivation,
  SimBypassCode,
  SimDirectory,
  SimDirectoryPerson,
  SimGrant,
  SimLogger,
  SimPhone,
  SimPush,
  SimRequestRecord,
  SimSettings,
  SimSms,
  SimUser,
  SimUserStatus,
} from './types.js';
