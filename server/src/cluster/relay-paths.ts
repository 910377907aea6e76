/**
 * Where a node takes pages relayed by another node (./session-relay.ts → ./relay-endpoint.ts):
 * one internal WebSocket path per connection kind, beside the public ones. Only an upgrade with a
 * valid relay assertion (./relay-assertion.ts) gets through; a load balancer may well block the
 * prefix for outside callers, as defence in depth.
 */
import { CONNECTION_KINDS, type ConnectionKind } from '../../../shared/src/protocol/kinds.js';

export const RELAY_PATH_PREFIX = '/internal/v1/relay/';
/** Where a node takes a session owner's watcher action another node forwarded (./watcher-forwarding.ts); HTTP, not WebSocket. */
export const WATCHER_ACTION_PATH = '/internal/v1/watcher-action';

export function relayPath(kind: ConnectionKind): string {
  return `${RELAY_PATH_PREFIX}${kind}`;
}

const KIND_BY_RELAY_PATH: ReadonlyMap<string, ConnectionKind> = new Map(CONNECTION_KINDS.map((kind) => [relayPath(kind), kind]));

/** The kind relayed at this path (without its query), or null. */
export function kindOfRelayPath(path: string): ConnectionKind | null {
  return KIND_BY_RELAY_PATH.get(path) ?? null;
}

export function isRelayPath(path: string): boolean {
  return path.startsWith(RELAY_PATH_PREFIX);
}

/** The internal WebSocket URL of a node (PORTHOLE_NODE_URL, an http(s) URL) for this kind. */
export function relayUrl(nodeUrl: string, kind: ConnectionKind): string {
  const url = new URL(`${nodeUrl}${relayPath(kind)}`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}
