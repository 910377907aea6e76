/**
 * Starts the protocol session for an upgraded, authorized WebSocket and keeps it registered while
 * it lives. VM credentials are decrypted here, at the last moment, and never leave the process.
 */
import { CloseCode } from '../../../shared/src/protocol/close-codes.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { vmSecretContext, type VmSecretField } from '../domain/vm-secrets.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { Dialer } from '../protocols/dialer.js';
import { TerminalSession } from '../protocols/ssh/terminal-bridge.js';
import type { AcceptedConnection } from '../ws/upgrade.js';
import type { LiveConnections } from './live-connections.js';

export interface AcceptDeps {
  readonly store: Store;
  readonly secrets: SecretBox;
  readonly dialer: Dialer;
  readonly live: LiveConnections;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly stallTimeoutMs: number;
}

export function createConnectionAcceptor(deps: AcceptDeps): (connection: AcceptedConnection) => void {
  return ({ ws, claims, build }) => {
    const openedAt = deps.now();
    const open = (sealed: string | null, field: VmSecretField): string | null => {
      if (sealed === null) return null;
      const opened = deps.secrets.open(sealed, vmSecretContext(build.id, field));
      if (!opened.ok) throw new Error(`stored ${field} of build ${build.id} cannot be decrypted (${opened.error})`);
      return opened.value;
    };
    const log = { userId: claims.userId, buildId: build.id, kind: claims.kind };
    if (claims.kind !== 'ssh') {
      ws.close(CloseCode.forbidden, 'connection kind not available');
      return;
    }
    let credentials;
    try {
      credentials = {
        username: build.ssh.username,
        password: open(build.ssh.sealedPassword, 'ssh.password'),
        privateKey: open(build.ssh.sealedPrivateKey, 'ssh.privateKey'),
      };
    } catch (error) {
      deps.logger.error({ ...log, err: error }, 'cannot open VM credentials');
      ws.close(CloseCode.internalError, 'internal error');
      return;
    }

    let registration: { id: number } | null = null;
    const session = new TerminalSession({
      ws,
      build,
      credentials,
      expectedHostKey: build.ssh.hostKey ?? build.ssh.pinnedHostKey,
      pinHostKey: async (fingerprint) => (await deps.store.pinHostKey(build.id, fingerprint)) ?? '',
      dialer: deps.dialer,
      logger: deps.logger,
      now: deps.now,
      stallTimeoutMs: deps.stallTimeoutMs,
      onEnd: (summary) => {
        if (registration) deps.live.unregister(registration.id);
        deps.logger.info(
          {
            event: 'connection_closed',
            ...log,
            closeCode: summary.closeCode,
            reason: summary.reason,
            bytesToBrowser: summary.bytesToBrowser,
            bytesFromBrowser: summary.bytesFromBrowser,
            pauses: summary.pauses,
            durationMs: deps.now().getTime() - openedAt.getTime(),
          },
          'connection closed',
        );
      },
    });
    registration = deps.live.register({ userId: claims.userId, buildId: build.id, kind: claims.kind, openedAt, end: (code, reason) => session.end(code, reason) });
    deps.logger.info({ event: 'connection_opened', ...log }, 'connection opened');
    session.start().catch((error: unknown) => {
      deps.logger.error({ ...log, err: error }, 'terminal session failed');
      session.end(CloseCode.internalError, 'internal error');
    });
  };
}
