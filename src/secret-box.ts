import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { AppError } from './errors.js';

/**
 * Secrets at rest (TOTP secrets): AES-256-GCM with DUO_DESK_ENCRYPTION_KEY. The stored form is
 * `v2:<key id>:<iv>:<tag>:<ciphertext>` (base64url parts); the key id lets keys rotate.
 *
 * A v2 secret is bound to its row: the team and user it belongs to are in the additional
 * authenticated data, so a ciphertext copied onto another responder's row fails to open there.
 * v1 secrets (sealed before binding, AAD = key id only) open only through `openUnbound`, which the
 * start-up rebinding uses once to re-seal them as v2.
 */
export interface SecretOwner {
  teamId: string;
  userId: string;
}

/** The ciphertext opened, but not for this row (copied from another responder) or was altered. */
export class SecretBindingError extends Error {
  constructor() {
    super('the sealed secret does not belong to this row (copied from another row, or altered)');
    this.name = 'SecretBindingError';
  }
}

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

  static isBound(sealed: string): boolean {
    return sealed.startsWith('v2:');
  }

  seal(plaintext: string, owner: SecretOwner): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentId)!, iv);
    cipher.setAAD(boundAad(this.currentId, owner));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      'v2',
      this.currentId,
      iv.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
      ct.toString('base64url'),
    ].join(':');
  }

  /** Opens a v2 secret sealed for `owner`; throws SecretBindingError when it was sealed for another row. */
  open(sealed: string, owner: SecretOwner): string {
    const parts = this.parse(sealed, 'v2');
    return decrypt(parts, boundAad(parts.keyId, owner));
  }

  /** Opens a v1 secret (sealed before secrets were bound to their rows), to re-seal it as v2. */
  openUnbound(sealed: string): string {
    const parts = this.parse(sealed, 'v1');
    return decrypt(parts, Buffer.from(parts.keyId));
  }

  private parse(sealed: string, version: 'v1' | 'v2') {
    const [v, keyId, iv, tag, ct] = sealed.split(':');
    if (v !== version && (v === 'v1' || v === 'v2')) throw new SecretBindingError();
    const key = keyId ? this.keys.get(keyId) : undefined;
    if (v !== version || !key || !iv || !tag || ct === undefined)
      throw new AppError(
        'CONFIG_INVALID',
        'a stored secret was sealed with an unknown key (was DUO_DESK_ENCRYPTION_KEY changed?)',
      );
    return { key, keyId: keyId!, iv, tag, ct };
  }
}

const boundAad = (keyId: string, owner: SecretOwner) =>
  Buffer.from(JSON.stringify(['v2', keyId, owner.teamId, owner.userId]));

function decrypt(p: { key: Buffer; iv: string; tag: string; ct: string }, aad: Buffer): string {
  const decipher = createDecipheriv('aes-256-gcm', p.key, Buffer.from(p.iv, 'base64url'));
  decipher.setAAD(aad);
  decipher.setAuthTag(Buffer.from(p.tag, 'base64url'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(p.ct, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretBindingError();
  }
}
