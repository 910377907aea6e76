/**
 * Which connection kinds a build offers and where their WebSockets live. A kind exists only when
 * the gateway has an adapter for it and the build registered the matching VM endpoint.
 */
import { err, ok, type Result } from '../../../shared/src/result.js';
import type { BuildRecord } from '../store/store.js';
import { SUBPROTOCOLS, WEBSOCKET_PATHS, type ConnectionKind } from '../../../shared/src/protocol/kinds.js';


export interface ConnectionEndpoints {
  readonly enabledKinds: ReadonlySet<ConnectionKind>;
  /** Names the build (not secret) so a ticket can only open the connection it was minted for. */
  webSocketUrl(kind: ConnectionKind, buildId: string): string;
  subprotocol(kind: ConnectionKind): string;
}

export function connectionEndpoints(publicUrl: URL, enabledKinds: readonly ConnectionKind[]): ConnectionEndpoints {
  const wsBase = new URL(publicUrl.href);
  wsBase.protocol = publicUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  return {
    enabledKinds: new Set(enabledKinds),
    webSocketUrl: (kind, buildId) => {
      const url = new URL(WEBSOCKET_PATHS[kind], wsBase);
      url.searchParams.set('build', buildId);
      return url.href;
    },
    subprotocol: (kind) => SUBPROTOCOLS[kind],
  };
}

export function kindAvailability(build: BuildRecord, kind: ConnectionKind, endpoints: ConnectionEndpoints): Result<void, string> {
  if (!endpoints.enabledKinds.has(kind)) return err(`${kind} connections are not available on this gateway`);
  if (kind === 'vnc' && (build.stack !== 'macos' || build.vnc === null)) return err('vnc is only available on macOS builds with a registered screen');
  return ok(undefined);
}
