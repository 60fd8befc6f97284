import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from './chain.js';
import type { AuditKey, AuditKeyring } from './keys.js';

/**
 * A checkpoint: "installation T's chain was at event #seq with link L at time t", signed with a key
 * derived from the audit key. The relay posts one every 100 events and at least hourly; copied out of
 * Slack into storage the database admin cannot change, checkpoints let an auditor prove later what the
 * trail said, even if both the database and the channel were altered afterwards.
 */
export interface Checkpoint {
  teamId: string;
  seq: number;
  link: string;
  signedAt: Date;
  keyId: string;
  signature: string;
}

const signed = (key: AuditKey, c: Omit<Checkpoint, 'keyId' | 'signature'>) =>
  createHmac('sha256', key.checkpointKey)
    .update(canonicalJson(['checkpoint', key.id, c.teamId, c.seq, c.link, c.signedAt.toISOString()]))
    .digest('hex');

export function signCheckpoint(key: AuditKey, c: Omit<Checkpoint, 'keyId' | 'signature'>): Checkpoint {
  return { ...c, keyId: key.id, signature: signed(key, c) };
}

/** 'valid', 'invalid', or 'unknown key' (signed with a key this keyring does not hold). */
export function checkCheckpoint(keyring: AuditKeyring, c: Checkpoint): 'valid' | 'invalid' | 'unknown key' {
  const key = keyring.get(c.keyId);
  if (!key) return 'unknown key';
  const expected = Buffer.from(signed(key, c));
  const given = Buffer.from(c.signature);
  return expected.length === given.length && timingSafeEqual(expected, given) ? 'valid' : 'invalid';
}
