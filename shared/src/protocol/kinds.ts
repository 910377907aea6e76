/**
 * The kinds of connection a page can open: where each one's WebSocket lives and which data
 * subprotocol it speaks. The connection ticket travels as a second subprotocol,
 * `porthole.ticket.<ticket>`, so it never appears in a URL (docs/protocol.md, section 3).
 */
import { SSH_SUBPROTOCOL } from './ssh-v1.js';

export const CONNECTION_KINDS = ['ssh', 'vnc'] as const;
export type ConnectionKind = (typeof CONNECTION_KINDS)[number];

export const WEBSOCKET_PATHS: Readonly<Record<ConnectionKind, string>> = { ssh: '/ws/ssh', vnc: '/ws/vnc' };

/** websockify's name for raw RFB bytes, the one noVNC offers. */
export const VNC_SUBPROTOCOL = 'binary';

export const SUBPROTOCOLS: Readonly<Record<ConnectionKind, string>> = { ssh: SSH_SUBPROTOCOL, vnc: VNC_SUBPROTOCOL };

export const TICKET_SUBPROTOCOL_PREFIX = 'porthole.ticket.';

export function isConnectionKind(value: unknown): value is ConnectionKind {
  return (CONNECTION_KINDS as readonly unknown[]).includes(value);
}

const KIND_BY_PATH: ReadonlyMap<string, ConnectionKind> = new Map(CONNECTION_KINDS.map((kind) => [WEBSOCKET_PATHS[kind], kind]));

/** The kind whose WebSocket lives at this path (without its query), or null. */
export function kindOfWebSocketPath(path: string): ConnectionKind | null {
  return KIND_BY_PATH.get(path) ?? null;
}
