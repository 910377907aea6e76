/**
 * Starts the protocol session for an upgraded, authorized WebSocket and hands it to the access
 * enforcer for its whole life. VM credentials are decrypted here, at the last moment, and never
 * leave the process.
 */
import type { WebSocket } from 'ws';
import { CloseCode } from '../../../shared/src/protocol/close-codes.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { vmSecretContext, type VmSecretField } from '../domain/vm-secrets.js';
import type { Logger } from '../log.js';
import type { BuildRecord, Store } from '../store/store.js';
import type { Dialer } from '../protocols/dialer.js';
import { TerminalSession } from '../protocols/ssh/terminal-bridge.js';
import { ScreenSession } from '../protocols/vnc/screen-bridge.js';
import type { TicketClaims } from '../connections/tickets.js';
import type { AcceptedConnection } from '../ws/upgrade.js';
import type { LiveRegistration } from './access-enforcer.js';

export interface AcceptDeps {
  readonly store: Store;
  readonly secrets: SecretBox;
  readonly dialer: Dialer;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly stallTimeoutMs: number;
}

/** What every protocol session offers its owner. */
interface ProtocolSession {
  start(): Promise<void>;
  end(code: number, reason: string): void;
  windowChanged(closesAt: Date | null): void;
}

interface SessionHooks {
  readonly onInput: () => void;
  readonly onEnd: (summary: { readonly closeCode: number; readonly reason: string } & object) => void;
}

export function createConnectionAcceptor(deps: AcceptDeps): (connection: AcceptedConnection) => void {
  return ({ ws, claims, build, pending }) => {
    const openedAt = deps.now();
    const log = { userId: claims.userId, buildId: build.id, kind: claims.kind };
    if (pending.cancelled) {
      pending.abandon();
      ws.close(pending.cancelled.code, pending.cancelled.reason);
      return;
    }
    let registration: LiveRegistration | null = null;
    const hooks: SessionHooks = {
      onInput: () => registration?.touch(),
      onEnd: (summary) => {
        registration?.release();
        deps.logger.info({ event: 'connection_closed', ...log, ...summary, durationMs: deps.now().getTime() - openedAt.getTime() }, 'connection closed');
      },
    };
    let session: ProtocolSession;
    try {
      session = createSession(deps, ws, claims, build, hooks);
    } catch (error) {
      pending.abandon();
      deps.logger.error({ ...log, err: error }, 'cannot start the session');
      ws.close(CloseCode.internalError, 'internal error');
      return;
    }
    registration = pending.activate(
      {
        userId: claims.userId,
        appId: build.appId,
        buildId: build.id,
        kind: claims.kind,
        openedAt,
        end: (code, reason) => session.end(code, reason),
        windowChanged: (closesAt) => session.windowChanged(closesAt),
      },
      build.closesAt,
    );
    deps.logger.info({ event: 'connection_opened', ...log, viewOnly: claims.viewOnly }, 'connection opened');
    session.start().catch((error: unknown) => {
      deps.logger.error({ ...log, err: error }, 'session failed');
      session.end(CloseCode.internalError, 'internal error');
    });
  };
}

function createSession(deps: AcceptDeps, ws: WebSocket, claims: TicketClaims, build: BuildRecord, hooks: SessionHooks): ProtocolSession {
  const open = (sealed: string | null, field: VmSecretField): string | null => {
    if (sealed === null) return null;
    const opened = deps.secrets.open(sealed, vmSecretContext(build.id, field));
    if (!opened.ok) throw new Error(`stored ${field} of build ${build.id} cannot be decrypted (${opened.error})`);
    return opened.value;
  };
  switch (claims.kind) {
    case 'ssh':
      return new TerminalSession({
        ws,
        build,
        credentials: { username: build.ssh.username, password: open(build.ssh.sealedPassword, 'ssh.password'), privateKey: open(build.ssh.sealedPrivateKey, 'ssh.privateKey') },
        expectedHostKey: build.ssh.hostKey ?? build.ssh.pinnedHostKey,
        pinHostKey: async (fingerprint) => (await deps.store.pinHostKey(build.id, fingerprint)) ?? '',
        dialer: deps.dialer,
        logger: deps.logger,
        now: deps.now,
        stallTimeoutMs: deps.stallTimeoutMs,
        onInput: hooks.onInput,
        onEnd: hooks.onEnd,
      });
    case 'vnc': {
      const vnc = build.vnc;
      if (!vnc) throw new Error(`build ${build.id} has no vnc endpoint`);
      return new ScreenSession({
        ws,
        build,
        credentials: { username: vnc.username, password: open(vnc.sealedPassword, 'vnc.password') ?? '' },
        viewOnly: claims.viewOnly,
        dialer: deps.dialer,
        logger: deps.logger,
        onInput: hooks.onInput,
        onEnd: hooks.onEnd,
      });
    }
  }
}
