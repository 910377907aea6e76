/**
 * Which VM a connection reached: a fingerprint of everything the gateway dials and logs in with
 * (host, port, user name, sealed secrets, host key). A build re-registered with another VM, or
 * with rotated credentials, gets another fingerprint, and the connections to the old one end.
 *
 * Sealed secrets are compared, not plaintexts: the control API keeps a stored ciphertext when the
 * orchestrator sends the same secret again (see keepSealedIfSame), so only a real change of
 * secret changes the fingerprint, and no node needs the key to compare.
 */
import { createHash } from 'node:crypto';
import type { SecretBox } from '../crypto/secret-box.js';
import type { BuildRecord } from '../store/store.js';
import type { ConnectionKind } from '../../../shared/src/protocol/kinds.js';

/** The fingerprint of each kind's endpoint; null: the build has no such endpoint (any more). */
export type EndpointFingerprints = Readonly<Record<ConnectionKind, string | null>>;

export function endpointFingerprints(build: Pick<BuildRecord, 'ssh' | 'vnc'>): EndpointFingerprints {
  const { ssh, vnc } = build;
  return {
    // The pin is left out: the gateway writes it after connecting, and it is not the orchestrator's to change.
    ssh: digest(['ssh', ssh.host, ssh.port, ssh.username, ssh.sealedPassword, ssh.sealedPrivateKey, ssh.hostKey]),
    vnc: vnc ? digest(['vnc', vnc.host, vnc.port, vnc.username, vnc.sealedPassword]) : null,
  };
}

/**
 * The stored ciphertext when it still opens to `plaintext`, otherwise a new sealing. Sealing is
 * randomised, so without this every replayed PUT would look like rotated credentials.
 */
export function keepSealedIfSame(box: SecretBox, stored: string | null | undefined, plaintext: string, context: string): string {
  if (stored) {
    const opened = box.open(stored, context);
    if (opened.ok && opened.value === plaintext) return stored;
  }
  return box.seal(plaintext, context);
}

function digest(parts: readonly (string | number | null)[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}
