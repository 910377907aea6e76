/**
 * The gateway as an RFB client of the build VM: version handshake, security negotiation and
 * authentication with the stored credentials (Apple ARD type 30, VncAuth type 2, or None), up to
 * the SecurityResult. Afterwards the socket is handed to the bridge. The socket reads into pooled
 * buffers (../pooled-reads.ts); the handshake takes copies, the bridge the buffers themselves.
 *
 *   S→C "RFB 003.00x\n" | C→S version | S→C types (3.7+: U8 n, n×U8; 3.3: U32 type)
 *   C→S U8 type | auth bytes | S→C SecurityResult U32 (3.8: + U32 len + reason on failure)
 */
import type { Socket } from 'node:net';
import { err, ok, type Result } from '../../../../shared/src/result.js';
import type { Dialer, DialTarget } from '../dialer.js';
import { ByteQueue } from '../byte-queue.js';
import { PooledReads } from '../pooled-reads.js';
import type { BufferPool } from '../buffer-pool.js';
import { MAX_BINARY_FRAME_HEADER_BYTES } from '../raw-binary-frame.js';
import { ardResponse, parseArdChallenge, RfbAuthError, vncAuthResponse } from './rfb-auth.js';

export const SECURITY_NONE = 1;
export const SECURITY_VNC_AUTH = 2;
export const SECURITY_ARD = 30;
/** Banner, key exchange and auth over a slow tunnel fit in this. */
export const RFB_HANDSHAKE_TIMEOUT_MS = 20_000;
/** The largest handshake message is an ARD challenge with a 1024-byte key (2 × 1024 + 4). */
const HANDSHAKE_BUFFER_LIMIT_BYTES = 16 * 1024;
/** Failure reasons are for logs; longer ones are cut. */
const REASON_LIMIT_BYTES = 1024;
const VNC_CHALLENGE_BYTES = 16;

export interface VncCredentials {
  readonly username: string | null;
  readonly password: string;
}

export type RfbUpstreamFailure =
  | { readonly kind: 'unreachable'; readonly detail: string }
  | { readonly kind: 'unsupported_server'; readonly detail: string }
  | { readonly kind: 'auth_failed'; readonly detail: string }
  | { readonly kind: 'timeout'; readonly detail: string }
  | { readonly kind: 'aborted'; readonly detail: string };

export interface RfbUpstream {
  readonly socket: Socket;
  /** The socket's reads: the bridge sets their sink. */
  readonly reads: PooledReads;
  readonly securityType: number;
  /** Bytes the VM sent beyond the SecurityResult (normally none: it waits for ClientInit). */
  readonly leftover: Buffer;
}

export async function openRfbUpstream(options: {
  readonly target: DialTarget;
  readonly credentials: VncCredentials;
  readonly dialer: Dialer;
  readonly signal: AbortSignal;
  /** Where the socket's read buffers come from. */
  readonly pool: BufferPool;
}): Promise<Result<RfbUpstream, RfbUpstreamFailure>> {
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(RFB_HANDSHAKE_TIMEOUT_MS)]);
  // Room for the WebSocket frame header the bridge writes in front of each read (../raw-binary-frame.ts).
  const reads = new PooledReads(options.pool, MAX_BINARY_FRAME_HEADER_BYTES);
  let socket: Socket;
  try {
    socket = await options.dialer.dial(options.target, signal, { onread: reads.onread });
  } catch (error) {
    return err(failureFromSignal(signal, options.signal) ?? { kind: 'unreachable', detail: error instanceof Error ? error.message : String(error) });
  }
  socket.setNoDelay(true);
  // The socket waits for the browser's ClientInit before the bridge takes it over; an 'error'
  // event with no listener in that gap would crash the gateway.
  socket.on('error', () => undefined);
  const queue = new ByteQueue(HANDSHAKE_BUFFER_LIMIT_BYTES);
  const onEnd = (): void => queue.fail(new Error('the VM closed the connection'));
  const onAbort = (): void => queue.fail(new Error('aborted'));
  reads.copyTo((chunk) => queue.push(chunk));
  socket.once('end', onEnd);
  socket.once('error', onEnd);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const type = await negotiate(socket, queue, options.credentials);
    return ok({ socket, reads, securityType: type, leftover: queue.takeRest() });
  } catch (error) {
    socket.destroy();
    if (error instanceof HandshakeRefusal) return err(error.failure);
    if (error instanceof RfbAuthError) return err({ kind: 'unsupported_server', detail: error.message });
    return err(failureFromSignal(signal, options.signal) ?? { kind: 'unreachable', detail: error instanceof Error ? error.message : String(error) });
  } finally {
    reads.copyTo(null);
    socket.off('end', onEnd);
    socket.off('error', onEnd);
    signal.removeEventListener('abort', onAbort);
  }
}

class HandshakeRefusal extends Error {
  constructor(readonly failure: RfbUpstreamFailure) {
    super(failure.detail);
  }
}

async function negotiate(socket: Socket, queue: ByteQueue, credentials: VncCredentials): Promise<number> {
  const banner = (await queue.read(12)).toString('latin1');
  const version = /^RFB 003\.(\d{3})\n$/.exec(banner)?.[1];
  const minor = version === '889' ? 8 : Number(version);
  if (version === undefined || (minor !== 3 && minor !== 7 && minor !== 8)) {
    throw new HandshakeRefusal({ kind: 'unsupported_server', detail: 'the VM does not speak RFB 3.3, 3.7 or 3.8' });
  }
  socket.write(`RFB 003.00${minor}\n`);

  let offered: number[];
  if (minor === 3) {
    const type = (await queue.read(4)).readUInt32BE(0);
    if (type === 0) throw await refusalWithReason(queue, 'the VM refused the connection');
    offered = [type];
  } else {
    const count = (await queue.read(1)).readUInt8(0);
    if (count === 0) throw await refusalWithReason(queue, 'the VM refused the connection');
    offered = [...(await queue.read(count))];
  }
  const chosen = chooseSecurityType(offered, credentials);
  if (chosen === null) {
    throw new HandshakeRefusal({ kind: 'unsupported_server', detail: `no supported security type among [${offered.join(', ')}]` });
  }
  if (minor !== 3) socket.write(Buffer.from([chosen]));

  if (chosen === SECURITY_ARD) {
    const header = await queue.read(4);
    parseArdChallenge(header); // throws on an absurd key length before waiting for the body
    const body = await queue.read(2 * header.readUInt16BE(2));
    const parsed = parseArdChallenge(Buffer.concat([header, body]));
    if (!parsed) throw new HandshakeRefusal({ kind: 'unsupported_server', detail: 'malformed ARD challenge' });
    socket.write(ardResponse(parsed.challenge, credentials.username ?? '', credentials.password));
  } else if (chosen === SECURITY_VNC_AUTH) {
    const challenge = await queue.read(VNC_CHALLENGE_BYTES);
    socket.write(vncAuthResponse(credentials.password, challenge));
  }

  // RFB 3.3 and 3.7 send no SecurityResult after None.
  if (chosen === SECURITY_NONE && minor !== 8) return chosen;
  const result = (await queue.read(4)).readUInt32BE(0);
  if (result !== 0) {
    throw minor === 8 ? await refusalWithReason(queue, 'the VM refused the login', 'auth_failed') : new HandshakeRefusal({ kind: 'auth_failed', detail: 'the VM refused the login' });
  }
  return chosen;
}

/** ARD when the VM offers it and we know the account; else the VNC password; else nothing. */
function chooseSecurityType(offered: readonly number[], credentials: VncCredentials): number | null {
  if (offered.includes(SECURITY_ARD) && credentials.username) return SECURITY_ARD;
  if (offered.includes(SECURITY_VNC_AUTH)) return SECURITY_VNC_AUTH;
  if (offered.includes(SECURITY_NONE)) return SECURITY_NONE;
  return null;
}

async function refusalWithReason(queue: ByteQueue, summary: string, kind: 'auth_failed' | 'unsupported_server' = 'unsupported_server'): Promise<HandshakeRefusal> {
  try {
    const length = (await queue.read(4)).readUInt32BE(0);
    const reason = length > 0 && length <= REASON_LIMIT_BYTES ? (await queue.read(length)).toString('utf8') : '';
    return new HandshakeRefusal({ kind, detail: reason ? `${summary}: ${reason}` : summary });
  } catch {
    return new HandshakeRefusal({ kind, detail: summary });
  }
}

function failureFromSignal(signal: AbortSignal, callerSignal: AbortSignal): RfbUpstreamFailure | null {
  if (callerSignal.aborted) return { kind: 'aborted', detail: 'cancelled' };
  if (signal.aborted) return { kind: 'timeout', detail: 'the VM did not complete the RFB handshake in time' };
  return null;
}
