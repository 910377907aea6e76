/**
 * Encrypts VM secrets at rest with AES-256-GCM. The additional authenticated data names the row
 * and field, so a ciphertext copied into another build's row or another column fails to open.
 *
 * Format: "v1." + base64url(iv[12] | tag[16] | ciphertext)
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { err, ok, type Result } from '../../../shared/src/result.js';

const FORMAT_PREFIX = 'v1.';
/** 96-bit nonces are GCM's native size; random ones are safe far beyond our write volume. */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error(`SecretBox needs a ${KEY_BYTES}-byte key`);
    this.#key = Buffer.from(key);
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return FORMAT_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  open(sealed: string, context: string): Result<string, 'malformed' | 'tampered_or_wrong_key'> {
    if (!sealed.startsWith(FORMAT_PREFIX)) return err('malformed');
    const raw = Buffer.from(sealed.slice(FORMAT_PREFIX.length), 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) return err('malformed');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
      return ok(text.toString('utf8'));
    } catch {
      return err('tampered_or_wrong_key');
    }
  }
}
