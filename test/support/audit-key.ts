import { randomBytes } from 'node:crypto';
import { AuditKeyring } from '../../src/audit/keys.js';

/** The audit key of this test process: the harness, direct trails and the CLI child processes share it. */
export const TEST_AUDIT_KEY = randomBytes(32).toString('base64');
export const testKeyring = () => new AuditKeyring(Buffer.from(TEST_AUDIT_KEY, 'base64'));
