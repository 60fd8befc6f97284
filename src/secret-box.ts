import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from './errors.js';
import type { Logger } from './log.js';

/**
 * Secrets at rest (TOTP secrets): AES-256-GCM with DUO_DESK_ENCRYPTION_KEY. The stored form is
 * `v1:<key id>:<iv>:<tag>:<ciphertext>` (base64url parts); the key id lets keys rotate.
 */
export class SecretBox {
  private readonly keys = new Map<string, Buffer>();
  private readonly currentId: string;

  constructor(key: Buffer, previous: Buffer[] = []) {
    if (key.length !== 32) throw new AppError('CONFIG_INVALID', 'DUO_DESK_ENCRYPTION_KEY must be 32 bytes');
    this.currentId = SecretBox.keyId(key);
    this.keys.set(this.currentId, key);
    for (const k of previous) this.keys.set(SecretBox.keyId(k), k);
  }

  static keyId(key: Buffer): string {
    return createHash('sha256').update(key).digest('base64url').slice(0, 8);
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentId)!, iv);
    cipher.setAAD(Buffer.from(this.currentId));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      'v1',
      this.currentId,
      iv.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
      ct.toString('base64url'),
    ].join(':');
  }

  open(sealed: string): string {
    const [v, keyId, iv, tag, ct] = sealed.split(':');
    const key = keyId ? this.keys.get(keyId) : undefined;
    if (v !== 'v1' || !key || !iv || !tag || ct === undefined)
      throw new AppError(
        'CONFIG_INVALID',
        'a stored secret was sealed with an unknown key (was DUO_DESK_ENCRYPTION_KEY changed?)',
      );
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(keyId!));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }
}

/**
 * The key from the environment; in local mode only, one generated into the data directory
 * (with a warning), so a first run needs no set-up.
 */
export function loadEncryptionKey(opts: {
  configured: string | undefined;
  local: boolean;
  dataDir: string;
  logger: Logger;
}): Buffer {
  if (opts.configured) return Buffer.from(opts.configured, 'base64');
  if (!opts.local)
    throw new AppError(
      'CONFIG_INVALID',
      'DUO_DESK_ENCRYPTION_KEY is required outside local mode: set it to 32 random bytes, base64 (openssl rand -base64 32).',
    );
  mkdirSync(opts.dataDir, { recursive: true });
  const path = join(opts.dataDir, 'encryption.key');
  if (!existsSync(path)) {
    writeFileSync(path, randomBytes(32).toString('base64'), { mode: 0o600 });
    opts.logger.warn('generated a local encryption key; set DUO_DESK_ENCRYPTION_KEY in production', { path });
  }
  chmodSync(path, 0o600);
  return Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
}
