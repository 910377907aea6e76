import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, createHash, getDiffieHellman } from 'node:crypto';
import {
  ARD_MAX_KEY_BYTES,
  ARD_MIN_KEY_BYTES,
  ardResponse,
  desEcbEncrypt,
  modPow,
  parseArdChallenge,
  RfbAuthError,
  vncAuthResponse,
  type ArdChallenge,
} from '../../server/src/protocols/vnc/rfb-auth.js';

const ARD_CREDENTIALS_BYTES = 128;
const ARD_FIELD_BYTES = 64;

const counting = (length: number): Buffer => Buffer.from(Array.from({ length }, (_, index) => index & 0xff));
const hex = (value: string): Buffer => Buffer.from(value.replace(/\s+/g, ''), 'hex');
const bigIntOf = (bytes: Buffer): bigint => BigInt(`0x${bytes.toString('hex')}`);
const mirror = (byte: number): number => Number.parseInt(byte.toString(2).padStart(8, '0').split('').reverse().join(''), 2);

test('DES primitive matches the FIPS 81 vector', () => {
  assert.equal(desEcbEncrypt(hex('0123456789ABCDEF'), Buffer.alloc(8)).toString('hex'), 'd5d44ff720683d0d');
});

test('VncAuth matches noVNC 1.7 (core/crypto/des.js) for password "passwd" and challenge 0..15', () => {
  // Derived by running noVNC's own DES with the same inputs (its test only compares against itself).
  assert.equal(vncAuthResponse('passwd', counting(16)).toString('hex'), 'e8399b58571e87ed8445c8716b6dd945');
});

test('VncAuth matches TigerVNC vncpasswd, which obfuscates with the same bit-reversed DES', () => {
  // `printf passwd | vncpasswd -f` = VncAuth-DES of "passwd\0\0" under the fixed key {23,82,107,6,35,78,88,7}.
  const fixedKey = String.fromCharCode(23, 82, 107, 6, 35, 78, 88, 7);
  const block = (text: string): Buffer => {
    const padded = Buffer.alloc(8);
    padded.write(text, 'latin1');
    return Buffer.concat([padded, padded]);
  };
  assert.equal(vncAuthResponse(fixedKey, block('passwd')).subarray(0, 8).toString('hex'), '2101f4d191cf99ca');
  assert.equal(vncAuthResponse(fixedKey, block('Porthole')).subarray(0, 8).toString('hex'), '0a1959b0d36c64a2');
});

test('VncAuth is DES keyed with each password byte bit-reversed, NUL-padded and cut to 8 bytes', () => {
  const challenge = counting(16);
  const password = 'Sésame!';
  const utf8 = Buffer.from(password, 'utf8');
  assert.equal(utf8.length, 8);
  const key = Buffer.from([...utf8].map(mirror));
  assert.deepEqual(vncAuthResponse(password, challenge), desEcbEncrypt(key, challenge));
  assert.notDeepEqual(vncAuthResponse(password, challenge), desEcbEncrypt(utf8, challenge));

  assert.deepEqual(vncAuthResponse('abc', challenge), desEcbEncrypt(Buffer.from([...Buffer.from('abc\0\0\0\0\0')].map(mirror)), challenge));
  assert.deepEqual(vncAuthResponse('12345678', challenge), vncAuthResponse('12345678 and more', challenge));
  assert.deepEqual(vncAuthResponse('', challenge), desEcbEncrypt(Buffer.alloc(8), challenge));
  // ECB: each half of the challenge is encrypted on its own.
  const halves = Buffer.concat([challenge.subarray(0, 8), challenge.subarray(0, 8)]);
  const response = vncAuthResponse(password, halves);
  assert.deepEqual(response.subarray(0, 8), response.subarray(8));
});

test('VncAuth refuses challenges that are not 16 bytes', () => {
  assert.throws(() => vncAuthResponse('pw', Buffer.alloc(15)), RfbAuthError);
  assert.throws(() => vncAuthResponse('pw', Buffer.alloc(17)), RfbAuthError);
});

test('ARD reproduces noVNC tests/test.rfb.js "ARD authentication (type 30) handler" byte for byte', () => {
  // noVNC's vector: g = 0x7fff, p = bytes 0..127, and getRandomValues stubbed to bytes 0..127, which
  // makes both DH private keys and the credential padding 0..127; username "user", password "password".
  const sequence = counting(128);
  // Both sides have the same private key, so the server's public key is also the client's. Derived
  // by running noVNC 1.7's core/crypto/dh.js with that stub (the test computes it at run time).
  const publicKey = hex(`
    0000ec059c14df5cd71f0be0adb98b90f5d95ec92932b9bb445cd298e4940033e79cf1e361ef9ac1a9fded6fde1043f4
    6936bf538eeb0a21cff08253714447e8c407862c0cb666f8aeef52a063b7c80120cc30329654e5b5c827a204f0f04144
    f54230d515720c09d1b73dcd8aa428508578945dd674f878796571dce1056bed`);
  const expectedEncrypted = Buffer.from([
    199, 39, 204, 95, 190, 70, 127, 66, 5, 106, 153, 228, 123, 236, 150, 206,
    62, 107, 11, 4, 21, 242, 92, 184, 9, 81, 35, 125, 56, 167, 1, 215,
    182, 145, 183, 75, 245, 197, 47, 19, 122, 94, 64, 76, 77, 163, 222, 143,
    186, 174, 84, 39, 244, 179, 227, 114, 83, 231, 42, 106, 205, 43, 159, 110,
    209, 240, 157, 246, 237, 206, 134, 153, 195, 112, 92, 60, 28, 234, 91, 66,
    131, 38, 187, 195, 110, 167, 212, 241, 32, 250, 212, 213, 202, 89, 180, 21,
    71, 217, 209, 81, 42, 61, 118, 248, 65, 123, 98, 78, 139, 111, 202, 137,
    50, 185, 37, 173, 58, 99, 187, 53, 42, 125, 13, 165, 232, 163, 151, 42,
  ]);
  const requested: number[] = [];
  const response = ardResponse(
    { generator: 0x7fff, keyLength: 128, prime: sequence, serverPublicKey: publicKey },
    'user',
    'password',
    {
      privateKey: bigIntOf(sequence),
      random: (bytes) => {
        requested.push(bytes);
        return counting(bytes);
      },
    },
  );
  assert.deepEqual(response, Buffer.concat([expectedEncrypted, publicKey]));
  assert.deepEqual(requested, [ARD_CREDENTIALS_BYTES], 'a fixed private key leaves only the padding random');
});

/** The server half, done independently with OpenSSL's DH so a shared bug cannot cancel out. */
function serverDecrypt(server: ReturnType<typeof getDiffieHellman>, response: Buffer): { username: Buffer; password: Buffer } {
  const keyLength = server.getPrime().length;
  assert.equal(response.length, ARD_CREDENTIALS_BYTES + keyLength);
  const secret = server.computeSecret(response.subarray(ARD_CREDENTIALS_BYTES));
  const padded = Buffer.concat([Buffer.alloc(keyLength - secret.length), secret]);
  const decipher = createDecipheriv('aes-128-ecb', createHash('md5').update(padded).digest(), null);
  decipher.setAutoPadding(false);
  const block = Buffer.concat([decipher.update(response.subarray(0, ARD_CREDENTIALS_BYTES)), decipher.final()]);
  const field = (offset: number): Buffer => {
    const raw = block.subarray(offset, offset + ARD_FIELD_BYTES);
    const end = raw.indexOf(0);
    assert.ok(end >= 0, 'every field is NUL-terminated');
    return Buffer.from(raw.subarray(0, end));
  };
  return { username: field(0), password: field(ARD_FIELD_BYTES) };
}

function modp2Challenge(): { server: ReturnType<typeof getDiffieHellman>; challenge: ArdChallenge } {
  const server = getDiffieHellman('modp2');
  server.generateKeys();
  const prime = server.getPrime();
  const publicKey = server.getPublicKey();
  return {
    server,
    challenge: {
      generator: 2,
      keyLength: prime.length,
      prime,
      serverPublicKey: Buffer.concat([Buffer.alloc(prime.length - publicKey.length), publicKey]),
    },
  };
}

test('ARD round-trips through an OpenSSL Diffie-Hellman server', () => {
  const { server, challenge } = modp2Challenge();
  const decrypted = serverDecrypt(server, ardResponse(challenge, 'builder', 'pässwörd 🔑'));
  assert.equal(decrypted.username.toString('utf8'), 'builder');
  assert.equal(decrypted.password.toString('utf8'), 'pässwörd 🔑');
});

test('ARD cuts usernames and passwords to 63 bytes, keeping the NUL terminator', () => {
  const { server, challenge } = modp2Challenge();
  const long = 'u'.repeat(100);
  const decrypted = serverDecrypt(server, ardResponse(challenge, long, `${'p'.repeat(62)}é`));
  assert.equal(decrypted.username.toString('utf8'), 'u'.repeat(63));
  // Byte-wise, like noVNC: the 2-byte "é" straddles the limit and loses its second byte.
  assert.deepEqual(decrypted.password, Buffer.concat([Buffer.from('p'.repeat(62)), Buffer.from('é').subarray(0, 1)]));
  const exact = serverDecrypt(server, ardResponse(challenge, 'x'.repeat(63), ''));
  assert.equal(exact.username.length, 63);
  assert.equal(exact.password.length, 0);
});

test('ARD uses fresh randomness per call and a 256-bit private exponent by default', () => {
  const { challenge } = modp2Challenge();
  assert.notDeepEqual(ardResponse(challenge, 'u', 'p'), ardResponse(challenge, 'u', 'p'));
  const requested: number[] = [];
  ardResponse(challenge, 'u', 'p', {
    random: (bytes) => {
      requested.push(bytes);
      return Buffer.alloc(bytes);
    },
  });
  assert.deepEqual(requested, [32, ARD_CREDENTIALS_BYTES]);
  // All-zero random bytes must still give a usable exponent (the top bit is forced).
  const zeroed = ardResponse(challenge, 'u', 'p', { random: (bytes) => Buffer.alloc(bytes) });
  const expectedPublic = modPow(2n, 1n << 255n, bigIntOf(challenge.prime));
  assert.equal(bigIntOf(zeroed.subarray(ARD_CREDENTIALS_BYTES)), expectedPublic);
});

test('ARD rejects degenerate parameters from the server', () => {
  const { challenge } = modp2Challenge();
  const p = bigIntOf(challenge.prime);
  const key = (value: bigint): Buffer => Buffer.from(value.toString(16).padStart(challenge.keyLength * 2, '0'), 'hex');
  for (const bad of [0n, 1n, p - 1n, p]) {
    assert.throws(() => ardResponse({ ...challenge, serverPublicKey: key(bad) }, 'u', 'p'), RfbAuthError);
  }
  assert.throws(() => ardResponse({ ...challenge, generator: 1 }, 'u', 'p'), RfbAuthError);
  assert.throws(() => ardResponse({ ...challenge, generator: 0 }, 'u', 'p'), RfbAuthError);
  assert.throws(() => ardResponse({ ...challenge, prime: Buffer.alloc(challenge.keyLength) }, 'u', 'p'), RfbAuthError);
  assert.throws(() => ardResponse({ ...challenge, prime: challenge.prime.subarray(1) }, 'u', 'p'), RfbAuthError);
  assert.throws(() => ardResponse({ ...challenge, keyLength: 32, prime: challenge.prime.subarray(0, 32), serverPublicKey: challenge.serverPublicKey.subarray(0, 32) }, 'u', 'p'), RfbAuthError);
  assert.throws(() => ardResponse(challenge, 'u', 'p', { privateKey: 1n }), RangeError);
  assert.throws(() => ardResponse(challenge, 'u', 'p', { random: (bytes) => Buffer.alloc(bytes - 1) }), RangeError);
});

function encodeChallenge(generator: number, keyLength: number, bodyBytes = 2 * keyLength): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(generator, 0);
  header.writeUInt16BE(keyLength, 2);
  return Buffer.concat([header, counting(bodyBytes)]);
}

test('parseArdChallenge waits for the whole challenge', () => {
  const whole = encodeChallenge(5, 128);
  for (const length of [0, 1, 3, 4, 5, 4 + 128, whole.length - 1]) {
    assert.equal(parseArdChallenge(whole.subarray(0, length)), null, `${length} bytes`);
  }
});

test('parseArdChallenge returns the fields and how many bytes they used', () => {
  const whole = encodeChallenge(5, 128);
  const parsed = parseArdChallenge(Buffer.concat([whole, Buffer.from([0xaa, 0xbb])]));
  assert.ok(parsed);
  assert.equal(parsed.bytesUsed, 4 + 256);
  assert.equal(parsed.challenge.generator, 5);
  assert.equal(parsed.challenge.keyLength, 128);
  assert.deepEqual(parsed.challenge.prime, whole.subarray(4, 132));
  assert.deepEqual(parsed.challenge.serverPublicKey, whole.subarray(132, 260));
  // Copies: zeroing the receive buffer afterwards must not change the challenge.
  whole.fill(0);
  assert.notDeepEqual(parsed.challenge.prime, Buffer.alloc(128));
});

test('parseArdChallenge accepts the key-length limits and throws outside them from the header alone', () => {
  assert.equal(ARD_MIN_KEY_BYTES, 64);
  assert.equal(ARD_MAX_KEY_BYTES, 1024);
  assert.equal(parseArdChallenge(encodeChallenge(2, ARD_MIN_KEY_BYTES))?.challenge.keyLength, ARD_MIN_KEY_BYTES);
  assert.equal(parseArdChallenge(encodeChallenge(2, ARD_MAX_KEY_BYTES))?.challenge.keyLength, ARD_MAX_KEY_BYTES);
  for (const keyLength of [0, ARD_MIN_KEY_BYTES - 1, ARD_MAX_KEY_BYTES + 1, 0xffff]) {
    assert.throws(() => parseArdChallenge(encodeChallenge(2, keyLength, 0)), RfbAuthError, `${keyLength} bytes`);
  }
});

test('modPow agrees with naive exponentiation and handles the edges', () => {
  const naive = (base: bigint, exponent: bigint, modulus: bigint): bigint => {
    let result = 1n % modulus;
    for (let i = 0n; i < exponent; i += 1n) result = (result * base) % modulus;
    return result;
  };
  for (const modulus of [1n, 2n, 7n, 97n, 65_537n]) {
    for (const base of [0n, 1n, 2n, 3n, 96n, 12_345n, -5n]) {
      for (const exponent of [0n, 1n, 2n, 15n, 16n, 17n, 255n, 256n, 1000n]) {
        const expected = naive(((base % modulus) + modulus) % modulus, exponent, modulus);
        assert.equal(modPow(base, exponent, modulus), expected, `${base}^${exponent} mod ${modulus}`);
      }
    }
  }
  assert.throws(() => modPow(2n, 1n, 0n), RangeError);
  assert.throws(() => modPow(2n, -1n, 7n), RangeError);
});
