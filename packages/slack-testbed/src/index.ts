export {
  type SentRequest,
  SlackDriver,
  type SlackDriverOptions,
  type SuggestResult,
  type Surface,
  signSlackRequest,
} from './driver.js';
export { type InputValue, SlackClientError } from './elements.js';
export type {
  Clock,
  DriverResponse,
  FakeChannel,
  FakeUser,
  Fault,
  Json,
  RecordedCall,
  ResponseUrlContext,
  StoredFile,
  StoredMessage,
  StoredView,
  TestbedLogger,
} from './types.js';
export {
  type FakeSlack,
  type FakeSlackOptions,
  type MessageFilter,
  startFakeSlack,
  type WaitForOptions,
  waitFor,
} from './web-api.js';
