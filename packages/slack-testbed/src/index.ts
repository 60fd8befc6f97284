export {
  type ElementKey,
  type FormValues,
  SlackDriver,
  type SlackDriverOptions,
  type SuggestResult,
  type Surface,
  signSlackRequest,
} from './driver.js';
export { type ElementLocator, type InputValue, SlackClientError } from './elements.js';
export type {
  Clock,
  DriverResponse,
  FakeChannel,
  FakeUser,
  Fault,
  Json,
  RecordedCall,
  ResponseUrlContext,
  SentRequest,
  StoredFile,
  StoredMessage,
  StoredView,
  TestbedLogger,
} from './types.js';
export type { Conversation, Screen } from './visibility.js';
export {
  type FakeSlack,
  type FakeSlackOptions,
  type MessageFilter,
  startFakeSlack,
  type WaitForOptions,
  waitFor,
} from './web-api.js';
