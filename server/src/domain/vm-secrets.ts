/**
 * Names the sealed VM secrets of a build. The name is the AES-GCM associated data, so a sealed
 * value only opens in the row and field it was written for.
 */
import type { BuildId } from '../../../shared/src/ids.js';

export type VmSecretField = 'ssh.password' | 'ssh.privateKey' | 'vnc.password';

export function vmSecretContext(buildId: BuildId, field: VmSecretField): string {
  return `build:${buildId}:${field}`;
}
