/**
 * Host key checks for VM connections. The expected key is the one the orchestrator registered,
 * else the one pinned the first time this build's VM was reached; any other key is an attack or
 * a swapped VM, and the connection is refused.
 */
import { createHash } from 'node:crypto';

/** OpenSSH's format: "SHA256:" + unpadded base64 of the SHA-256 of the key blob. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** Registered fingerprints may carry base64 padding; compare without it. */
export function sameFingerprint(a: string, b: string): boolean {
  return a.replace(/=+$/, '') === b.replace(/=+$/, '');
}

export type HostKeyDecision = { readonly kind: 'accept' } | { readonly kind: 'pin' } | { readonly kind: 'reject'; readonly expected: string };

export function decideHostKey(expected: string | null, presented: string): HostKeyDecision {
  if (expected === null) return { kind: 'pin' };
  return sameFingerprint(expected, presented) ? { kind: 'accept' } : { kind: 'reject', expected };
}
