/**
 * The cryptography of the two RFB security types the gateway answers on the user's behalf, as
 * pure functions over bytes (the socket work lives in upstream.ts):
 *
 *   VncAuth (2):   S→C 16 B challenge | C→S DES-ECB(key = password, 16 B)
 *   Apple ARD (30): S→C U16 g | U16 keyLength | p | Ys   (p, Ys: keyLength B, big-endian)
 *                  C→S AES-128-ECB(MD5(Ys^x mod p), 128 B credentials) | Yc = g^x mod p
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';

/** The server sent something these handshakes cannot be completed with. */
export class RfbAuthError extends Error {
  override readonly name = 'RfbAuthError';
}

/** RFC 6143 §7.2.2: the VncAuth challenge and response are two DES blocks. */
const VNC_CHALLENGE_BYTES = 16;
/** Single DES key; VncAuth silently ignores password bytes beyond it. */
const DES_KEY_BYTES = 8;
const DES_BLOCK_BYTES = 8;

/** U16 generator + U16 key length in front of the ARD prime. */
const ARD_HEADER_BYTES = 4;
/** 512-bit groups are the smallest anyone ships; anything shorter is a downgrade, not a Mac. */
export const ARD_MIN_KEY_BYTES = 64;
/** 8192-bit, TigerVNC's ceiling too; also caps the BigInt work a hostile server can ask for. */
export const ARD_MAX_KEY_BYTES = 1024;
/** 256-bit exponent: ~128-bit security against discrete-log attacks at a fraction of full-length cost. */
const ARD_PRIVATE_KEY_BYTES = 32;
/** Two 64-byte fields, username then password, encrypted as eight AES blocks. */
const ARD_CREDENTIALS_BYTES = 128;
const ARD_CREDENTIAL_FIELD_BYTES = 64;
/** Leaves room for the NUL terminator in each field; noVNC truncates the same way. */
const ARD_CREDENTIAL_MAX_BYTES = ARD_CREDENTIAL_FIELD_BYTES - 1;

/** 4-bit windows: one multiplication per four exponent bits instead of one per set bit (~20 % faster). */
const MODPOW_WINDOW_BITS = 4;

export interface ArdChallenge {
  readonly generator: number;
  /** Length of the prime and of both public keys, in bytes. */
  readonly keyLength: number;
  readonly prime: Buffer;
  readonly serverPublicKey: Buffer;
}

export interface ArdResponseOptions {
  /** Fixes the DH private exponent (tests); default: a random 256-bit exponent. */
  readonly privateKey?: bigint;
  /** Source of the private exponent and of the credential padding (tests); default randomBytes. */
  readonly random?: (bytes: number) => Buffer;
}

/** The 16 bytes a VncAuth client answers the server's challenge with. */
export function vncAuthResponse(password: string, challenge: Buffer): Buffer {
  if (challenge.length !== VNC_CHALLENGE_BYTES) {
    throw new RfbAuthError(`VncAuth challenge must be ${VNC_CHALLENGE_BYTES} bytes, got ${challenge.length}`);
  }
  const key = Buffer.alloc(DES_KEY_BYTES);
  const secret = Buffer.from(password, 'utf8');
  secret.copy(key, 0, 0, DES_KEY_BYTES);
  secret.fill(0);
  // The original VNC code fed DES its key bits least-significant first; every server kept that
  // (RFC 6143 erratum 4951), so a standard DES needs each key byte mirrored to interoperate.
  for (const [index, byte] of key.entries()) key[index] = reverseBits(byte);
  try {
    return desEcbEncrypt(key, challenge);
  } finally {
    key.fill(0);
  }
}

/**
 * Plain DES-ECB without padding. Internal; exported for the FIPS test vector.
 * OpenSSL 3 moved single DES to the legacy provider, but 3DES-EDE with K|K|K collapses to
 * E(K) ∘ D(K) ∘ E(K) = E(K), which the default provider still offers.
 */
export function desEcbEncrypt(key: Buffer, data: Buffer): Buffer {
  if (key.length !== DES_KEY_BYTES) throw new RangeError(`DES key must be ${DES_KEY_BYTES} bytes`);
  if (data.length % DES_BLOCK_BYTES !== 0) throw new RangeError(`DES input must be whole ${DES_BLOCK_BYTES}-byte blocks`);
  const tripleKey = Buffer.concat([key, key, key]);
  try {
    const cipher = createCipheriv('des-ede3', tripleKey, null);
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(data), cipher.final()]);
  } finally {
    tripleKey.fill(0);
  }
}

/**
 * Parses the ARD key-exchange parameters from the start of `buf`. Null until all of them have
 * arrived; throws RfbAuthError as soon as the header shows a key length outside the limits, so a
 * caller never waits for (or buffers) an absurd body.
 */
export function parseArdChallenge(buf: Buffer): { challenge: ArdChallenge; bytesUsed: number } | null {
  if (buf.length < ARD_HEADER_BYTES) return null;
  const generator = buf.readUInt16BE(0);
  const keyLength = buf.readUInt16BE(2);
  checkKeyLength(keyLength);
  const bytesUsed = ARD_HEADER_BYTES + 2 * keyLength;
  if (buf.length < bytesUsed) return null;
  const primeEnd = ARD_HEADER_BYTES + keyLength;
  return {
    // Copies, so the caller may reuse or zero its receive buffer.
    challenge: {
      generator,
      keyLength,
      prime: Buffer.from(buf.subarray(ARD_HEADER_BYTES, primeEnd)),
      serverPublicKey: Buffer.from(buf.subarray(primeEnd, bytesUsed)),
    },
    bytesUsed,
  };
}

/**
 * The exact bytes an ARD client sends: 128 B encrypted credentials, then its public key
 * left-padded to keyLength. Usernames and passwords are cut to 63 UTF-8 bytes.
 *
 * BigInt instead of crypto.createDiffieHellman(prime): the latter checks primality first, which
 * blocks the event loop for seconds with the 4096-bit groups macOS uses.
 */
export function ardResponse(challenge: ArdChallenge, username: string, password: string, options: ArdResponseOptions = {}): Buffer {
  const { keyLength } = challenge;
  checkKeyLength(keyLength);
  if (challenge.prime.length !== keyLength || challenge.serverPublicKey.length !== keyLength) {
    throw new RfbAuthError(`ARD prime and public key must be ${keyLength} bytes each`);
  }
  const prime = bigIntFromBytes(challenge.prime);
  const generator = BigInt(challenge.generator);
  const serverPublicKey = bigIntFromBytes(challenge.serverPublicKey);
  // 1 and p−1 (and anything outside [0, p)) would make the shared secret guessable by anyone.
  if (prime <= 3n) throw new RfbAuthError('ARD prime is too small');
  if (generator < 2n || generator >= prime - 1n) throw new RfbAuthError('ARD generator is out of range');
  if (serverPublicKey < 2n || serverPublicKey >= prime - 1n) throw new RfbAuthError('ARD server public key is out of range');

  const random = options.random ?? randomBytes;
  const privateKey = options.privateKey ?? randomPrivateKey(random);
  if (privateKey < 2n) throw new RangeError('ARD private key must be at least 2');

  const clientPublicKey = bytesFromBigInt(modPow(generator, privateKey, prime), keyLength);
  const sharedSecret = bytesFromBigInt(modPow(serverPublicKey, privateKey, prime), keyLength);
  const aesKey = createHash('md5').update(sharedSecret).digest();
  const credentials = randomExactly(random, ARD_CREDENTIALS_BYTES);
  try {
    writeCredentialField(credentials, 0, username);
    writeCredentialField(credentials, ARD_CREDENTIAL_FIELD_BYTES, password);
    const cipher = createCipheriv('aes-128-ecb', aesKey, null);
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(credentials), cipher.final(), clientPublicKey]);
  } finally {
    sharedSecret.fill(0);
    aesKey.fill(0);
    credentials.fill(0);
  }
}

/** base^exponent mod modulus, left-to-right with fixed windows. Internal; exported for tests. */
export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  if (modulus <= 0n) throw new RangeError('modulus must be positive');
  if (exponent < 0n) throw new RangeError('exponent must not be negative');
  if (modulus === 1n) return 0n;
  const reduced = ((base % modulus) + modulus) % modulus;
  const powers: bigint[] = [1n];
  let power = 1n;
  for (let digit = 1; digit < 1 << MODPOW_WINDOW_BITS; digit += 1) {
    power = (power * reduced) % modulus;
    powers.push(power);
  }
  const bits = exponent.toString(2);
  const digits = bits.padStart(Math.ceil(bits.length / MODPOW_WINDOW_BITS) * MODPOW_WINDOW_BITS, '0');
  let result = 1n;
  for (let offset = 0; offset < digits.length; offset += MODPOW_WINDOW_BITS) {
    for (let square = 0; square < MODPOW_WINDOW_BITS; square += 1) result = (result * result) % modulus;
    const factor = powers[Number.parseInt(digits.slice(offset, offset + MODPOW_WINDOW_BITS), 2)] ?? 1n;
    if (factor !== 1n) result = (result * factor) % modulus;
  }
  return result;
}

function checkKeyLength(keyLength: number): void {
  if (keyLength < ARD_MIN_KEY_BYTES || keyLength > ARD_MAX_KEY_BYTES) {
    throw new RfbAuthError(`ARD key length ${keyLength} bytes is outside ${ARD_MIN_KEY_BYTES}..${ARD_MAX_KEY_BYTES}`);
  }
}

function randomPrivateKey(random: (bytes: number) => Buffer): bigint {
  const bytes = randomExactly(random, ARD_PRIVATE_KEY_BYTES);
  // The top bit keeps the exponent at full strength whatever the random bytes are.
  const key = bigIntFromBytes(bytes) | (1n << BigInt(ARD_PRIVATE_KEY_BYTES * 8 - 1));
  bytes.fill(0);
  return key;
}

function randomExactly(random: (bytes: number) => Buffer, length: number): Buffer {
  const bytes = random(length);
  if (bytes.length !== length) throw new RangeError(`random source returned ${bytes.length} bytes, wanted ${length}`);
  // A copy, so zeroing it afterwards cannot touch a buffer the source still owns.
  return Buffer.from(bytes);
}

/** Cuts at a byte boundary like noVNC, even inside a multi-byte character: the server compares bytes. */
function writeCredentialField(block: Buffer, offset: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  const length = Math.min(bytes.length, ARD_CREDENTIAL_MAX_BYTES);
  bytes.copy(block, offset, 0, length);
  block[offset + length] = 0;
  bytes.fill(0);
}

function reverseBits(byte: number): number {
  let reversed = 0;
  for (let bit = 0; bit < 8; bit += 1) reversed = (reversed << 1) | ((byte >> bit) & 1);
  return reversed;
}

function bigIntFromBytes(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
}

function bytesFromBigInt(value: bigint, length: number): Buffer {
  const hex = value.toString(16);
  if (hex.length > length * 2) throw new RangeError(`value does not fit in ${length} bytes`);
  return Buffer.from(hex.padStart(length * 2, '0'), 'hex');
}
