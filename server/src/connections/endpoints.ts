/**
 * Which connection kinds a build offers and where their WebSockets live. A kind exists only when
 * the gateway has a protocol adapter for it and the build registered the matching VM endpoint.
 */
import { err, ok, type Result } from '../../../shared/src/result.js';
import type { BuildRecord } from '../store/store.js';
import { SUBPROTOCOLS, WEBSOCKET_PATHS, type ConnectionKind } from '../../../shared/src/protocol/kinds.js';
import type { ProtocolAdapter, ProtocolRegistry } from '../protocols/protocol.js';

export interface ConnectionEndpoints {
  readonly enabledKinds: ReadonlySet<ConnectionKind>;
  /** Kinds whose sessions may be opened view-only. */
  readonly viewOnlyKinds: ReadonlySet<ConnectionKind>;
  /** Names the build (not secret) so a ticket can only open the connection it was minted for. */
  webSocketUrl(kind: ConnectionKind, buildId: string): string;
  subprotocol(kind: ConnectionKind): string;
  /** Whether the build offers this kind here; the error is shown to the user. */
  availability(build: BuildRecord, kind: ConnectionKind): Result<void, string>;
}

export function connectionEndpoints(publicUrl: URL, protocols: ProtocolRegistry): ConnectionEndpoints {
  const wsBase = new URL(publicUrl.href);
  wsBase.protocol = publicUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  const adapters: readonly ProtocolAdapter[] = Object.values(protocols);
  return {
    enabledKinds: new Set(adapters.map((a) => a.kind)),
    viewOnlyKinds: new Set(adapters.filter((a) => a.viewOnly).map((a) => a.kind)),
    webSocketUrl: (kind, buildId) => {
      const url = new URL(WEBSOCKET_PATHS[kind], wsBase);
      url.searchParams.set('build', buildId);
      return url.href;
    },
    subprotocol: (kind) => SUBPROTOCOLS[kind],
    availability: (build, kind) => {
      const adapter = adapters.find((a) => a.kind === kind);
      if (!adapter) return err(`${kind} connections are not available on this gateway`);
      const unavailable = adapter.unavailableOn(build);
      return unavailable === null ? ok(undefined) : err(unavailable);
    },
  };
}
