import { createHmac, hkdfSync } from 'node:crypto';
import { AppError } from '../errors.js';
import { loadKey } from '../key-material.js';
import type { Logger } from '../log.js';

/**
 * The audit keys, kept outside the database: DUO_DESK_AUDIT_KEY links new events (HMAC-SHA-256) and
 * signs checkpoints (with a key derived from it); retired keys (DUO_DESK_AUDIT_KEYS_RETIRED) are only
 * needed to verify the events they linked before a rotation. A key is known by its id, a keyed hash
 * of the key itself, so rows and checkpoints can say which key made them without revealing it.
 */
export interface AuditKey {
  id: string;
  /** HMAC key for event links. */
  linkKey: Buffer;
  /** HMAC key for checkpoints: derived, so a checkpoint signature never doubles as a row link. */
  checkpointKey: Buffer;
}

export class AuditKeyring {
  readonly current: AuditKey;
  private readonly byId = new Map<string, AuditKey>();

  constructor(current: Buffer, retired: Buffer[] = []) {
    for (const k of [current, ...retired])
      if (k.length !== 32) throw new AppError('CONFIG_INVALID', 'audit keys must be 32 bytes');
    this.current = deriveKey(current);
    this.byId.set(this.current.id, this.current);
    for (const k of retired) {
      const key = deriveKey(k);
      if (!this.byId.has(key.id)) this.byId.set(key.id, key);
    }
  }

  get(id: string): AuditKey | undefined {
    return this.byId.get(id);
  }

  isRetired(id: string): boolean {
    return id !== this.current.id && this.byId.has(id);
  }
}

export const auditKeyId = (key: Buffer): string =>
  createHmac('sha256', key).update('duo-desk audit key id').digest('base64url').slice(0, 12);

function deriveKey(key: Buffer): AuditKey {
  return {
    id: auditKeyId(key),
    linkKey: key,
    checkpointKey: Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'duo-desk audit checkpoint v1', 32)),
  };
}

/** DUO_DESK_AUDIT_KEY (generated into the data directory in local mode) and the retired keys. */
export function loadAuditKeyring(opts: {
  configured: string | undefined;
  retired: string[];
  local: boolean;
  dataDir: string;
  logger: Logger;
}): AuditKeyring {
  const current = loadKey({
    variable: 'DUO_DESK_AUDIT_KEY',
    fileName: 'audit.key',
    configured: opts.configured,
    local: opts.local,
    dataDir: opts.dataDir,
    logger: opts.logger,
  });
  return new AuditKeyring(
    current,
    opts.retired.map((k) => Buffer.from(k, 'base64')),
  );
}
