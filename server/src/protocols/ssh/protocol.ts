/**
 * The terminal: an SSH shell on the VM, spoken to the page as porthole.ssh.v1. The gateway logs
 * in with the build's stored password or key and pins the VM's host key on first sight.
 */
import type { BuildId } from '../../../../shared/src/ids.js';
import type { ProtocolAdapter } from '../protocol.js';
import { TerminalBridge } from './bridge.js';

export interface SshProtocolDeps {
  /** Pins a first-seen host key for the build; resolves to the key now pinned (the first writer's). */
  readonly pinHostKey: (buildId: BuildId, fingerprint: string) => Promise<string | null>;
  /** How long output may wait unread before the browser is considered gone (tests shorten it). */
  readonly stallTimeoutMs: number;
  /** Output a resumable session keeps beyond what its page has not acknowledged (PORTHOLE_RESUME_BUFFER_BYTES). */
  readonly resumeBufferBytes: number;
}

export function sshProtocol(deps: SshProtocolDeps): ProtocolAdapter<'ssh'> {
  return {
    kind: 'ssh',
    viewOnly: false,
    recordable: true,
    unavailableOn: () => null,
    open: (context) => {
      const { ssh } = context.build;
      return new TerminalBridge({
        ...context,
        credentials: {
          username: ssh.username,
          password: context.openSecret(ssh.sealedPassword, 'ssh.password'),
          privateKey: context.openSecret(ssh.sealedPrivateKey, 'ssh.privateKey'),
        },
        expectedHostKey: ssh.hostKey ?? ssh.pinnedHostKey,
        pinHostKey: async (fingerprint) => (await deps.pinHostKey(context.build.id, fingerprint)) ?? '',
        stallTimeoutMs: deps.stallTimeoutMs,
        resumeBufferBytes: deps.resumeBufferBytes,
      });
    },
  };
}
