/**
 * The WebSocket transport: the ws server's limits, the upgrade itself and the raw HTTP refusal.
 * Who may connect is decided before the upgrade, on the plain HTTP request and before anything is
 * dialled, by the admission (../sessions/admission.ts); a refusal is an ordinary HTTP error
 * response. An accepted socket is handed to its owner (../sessions/live-connection.ts).
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { GatewayError, storeUnavailableError } from '../errors.js';
import type { Logger } from '../log.js';
import { isStoreUnavailable } from '../store/store-errors.js';
import type { ReadGate } from '../protocols/frames.js';
import { kindOfWebSocketPath, SUBPROTOCOLS, type ConnectionKind } from '../../../shared/src/protocol/kinds.js';
import type { Result } from '../../../shared/src/result.js';
import { sliceReads } from './read-slices.js';
import { requestPath } from './request-path.js';

/** Terminal control messages and keystroke frames are small; a paste is sent in chunks below this. */
export const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;
/**
 * Browsers send every WebSocket message as one frame; a message in more is a client making the
 * gateway do per-frame work for nothing (ws would allow 16,384). ws closes it with 1008.
 */
export const MAX_FRAMES_PER_CLIENT_MESSAGE = 16;
/**
 * Socket reads one frame may take to arrive: a 64 KiB frame in 536-byte segments (TCP's minimum
 * MSS) takes 123; far more is a sender dribbling bytes (ws would allow 262,144). ws closes with 1008.
 */
export const MAX_READS_PER_CLIENT_FRAME = 512;

export interface UpgradeDeps<Admitted extends { abandon(): void }> {
  /**
   * Decides on the HTTP request: a refusal (already filed by the admission) is answered quietly;
   * a rejection is logged and answered by what it was.
   */
  readonly admit: (req: IncomingMessage) => Promise<Result<Admitted, GatewayError>>;
  /** Takes the upgraded socket; from then on it owns it. */
  readonly accept: (ws: WebSocket, readGate: ReadGate, admitted: Admitted) => void;
  readonly logger: Logger;
  /** The kind served at a path, whose data subprotocol the upgrade selects; the public paths by default. */
  readonly kindOfPath?: (path: string) => ConnectionKind | null;
}

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export function createUpgradeHandler<Admitted extends { abandon(): void }>(deps: UpgradeDeps<Admitted>): { handle: UpgradeHandler; close: () => void } {
  const kindOfPath = deps.kindOfPath ?? kindOfWebSocketPath;
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
    maxFragments: MAX_FRAMES_PER_CLIENT_MESSAGE,
    maxBufferedChunks: MAX_READS_PER_CLIENT_FRAME,
    clientTracking: true,
    // Validated before the upgrade: select this endpoint's data subprotocol, never the ticket.
    handleProtocols: (protocols, req) => {
      const kind = kindOfPath(requestPath(req));
      return kind !== null && protocols.has(SUBPROTOCOLS[kind]) ? SUBPROTOCOLS[kind] : false;
    },
  });

  const handle: UpgradeHandler = (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    deps.admit(req).then(
      (decision) => {
        if (!decision.ok) return refuse(socket, decision.error);
        const admitted = decision.value;
        if (socket.destroyed) return admitted.abandon();
        let upgraded = false;
        wss.handleUpgrade(req, socket, head, (ws) => {
          upgraded = true;
          deps.accept(ws, sliceReads(socket, ws), admitted);
        });
        // ws refuses bad handshakes (no key, wrong version) without calling back, synchronously.
        if (!upgraded) admitted.abandon();
      },
      (error: unknown) => {
        const refusal = error instanceof GatewayError ? error : isStoreUnavailable(error) ? storeUnavailableError() : new GatewayError('internal', 'Something went wrong on our side.');
        if (refusal.code === 'internal') deps.logger.error({ err: error }, 'upgrade failed');
        deps.logger.info({ event: 'upgrade_refused', path: requestPath(req), code: refusal.code }, 'websocket upgrade refused');
        refuse(socket, refusal);
      },
    );
  };

  return {
    handle,
    // Live sockets were already sent their close frames by their owners; let them flush.
    close: () => wss.close(),
  };
}

function refuse(socket: Duplex, error: GatewayError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(error.toBody());
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json; charset=utf-8\r\n' +
      'Cache-Control: no-store\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
