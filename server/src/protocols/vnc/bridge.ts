/**
 * Joins a browser's noVNC WebSocket to the VM's VNC server. The gateway authenticates to the VM
 * itself and plays an RFB 3.8 server to the browser that offers only security type None, so the
 * VNC password never leaves the gateway. After ClientInit (always shared upstream, so the user's
 * own Screen Sharing session is never kicked) bytes are spliced both ways with backpressure.
 *
 *   gateway → browser: "RFB 003.008\n", [1, 1] (one type: None), SecurityResult, then VM bytes
 *   browser → gateway: version, chosen type 1, ClientInit, then client messages
 *
 * Other members' pages may watch the session (watcher.ts): each gets a bridge like this one, with
 * a VM connection of its own, and input only while the owner lets it drive.
 */
import type { Socket } from 'node:net';
import { toBuffer } from '../frames.js';
import { CloseCode } from '../../../../shared/src/protocol/close-codes.js';
import type { AttachMode } from '../../../../shared/src/protocol/ssh-v1.js';
import type { Attachment, Person, ProtocolContext, ProtocolSession, RelayedBytes, WatcherHandle } from '../protocol.js';
import { ByteQueue } from '../byte-queue.js';
import { openRfbUpstream, SECURITY_NONE, type RfbUpstream, type RfbUpstreamFailure, type VncCredentials } from './upstream.js';
import type { Result } from '../../../../shared/src/result.js';
import { ChunkQueue } from '../chunk-queue.js';
import { decideFlow, type FlowLimits } from '../../flow/backpressure.js';
import { ASSEMBLY_REFUSALS } from '../message-assembly.js';
import { ClientMessageFilter, RFB_ASSEMBLY_LIMITS, type FilterRefusal } from './client-message-filter.js';
import { checkServerInit, SERVER_INIT_HEADER_BYTES } from './server-init.js';
import { ScreenWatcher } from './watcher.js';
import type { BufferPool } from '../buffer-pool.js';
import type { PooledReads } from '../pooled-reads.js';
import { sendBinaryInPlace } from '../raw-binary-frame.js';

/** A browser that has not finished the RFB greeting in this long is not a VNC client. */
export const BROWSER_HANDSHAKE_TIMEOUT_MS = 20_000;
/** The browser greeting is 14 bytes; anything near this is not noVNC. */
const BROWSER_HANDSHAKE_LIMIT_BYTES = 4 * 1024;
/** noVNC sends its greeting in 3 WebSocket messages; a browser dribbling it in more is not noVNC. */
const BROWSER_HANDSHAKE_MAX_FRAMES = 32;
/**
 * Screen updates queued for the browser beyond this pause reading from the VM; a 1080p raw
 * frame is ~8 MiB, so one frame in flight keeps the link busy without unbounded buffering.
 */
const WS_BUFFERED_HIGH_BYTES = 8 * 1024 * 1024;
const WS_BUFFERED_LOW_BYTES = 2 * 1024 * 1024;
/** The terminal's decider (flow/backpressure.ts); RFB has no render acks, so only the socket's queue counts. */
const FLOW_LIMITS: FlowLimits = {
  unackedHighBytes: Number.POSITIVE_INFINITY,
  unackedLowBytes: Number.POSITIVE_INFINITY,
  bufferedHighBytes: WS_BUFFERED_HIGH_BYTES,
  bufferedLowBytes: WS_BUFFERED_LOW_BYTES,
};
/**
 * RFB has no keepalive, so after this long without a byte from the VM the gateway asks for one
 * pixel (a non-incremental FramebufferUpdateRequest, which the server must answer); a VM silent
 * for another interval is gone. A stalled tunnel is therefore noticed within 3 intervals (15 s),
 * inside the SSH keepalive bound.
 */
export const VNC_PROBE_INTERVAL_MS = 5_000;
const PROBE_REQUEST = Buffer.from([3, 0, 0, 0, 0, 0, 0, 1, 0, 1]);
/**
 * The SecurityResult failure reason the page shows (issue #21: say what happened, not always "a
 * login"). The gateway's own sentence: the VM's reason (untrusted, possibly revealing) is only logged.
 */
export const VM_REFUSED_SCREEN_LOGIN = 'The build VM refused the screen login; its screen password may have changed. Rebuild with remote access if it persists.';
export const VM_SCREEN_UNREACHABLE = "The build VM's screen could not be reached; it may still be starting. Reconnect in a moment.";

export interface ScreenBridgeDeps extends ProtocolContext {
  readonly credentials: VncCredentials;
  /** The VM socket's read buffers (../buffer-pool.ts). */
  readonly readPool: BufferPool;
  /** A watcher's filter (watcher.ts), kept by its seat to switch input on and off; else one from viewOnly. */
  readonly filter?: ClientMessageFilter;
}

export class ScreenBridge implements ProtocolSession {
  readonly #deps: ScreenBridgeDeps;
  readonly #abort = new AbortController();
  readonly #greeting = new ByteQueue(BROWSER_HANDSHAKE_LIMIT_BYTES);
  readonly #filter: ClientMessageFilter;
  #vm: Socket | null = null;
  /** The VM handshake in flight: a session ending before it settles must still close its socket. */
  #upstream: Promise<Result<RfbUpstream, RfbUpstreamFailure>> | null = null;
  #spliced = false;
  /** The VM's ServerInit, held until it is whole and checked; null once forwarded. */
  #serverInit: ChunkQueue | null = new ChunkQueue();
  #greetingFrames = 0;
  /** Ends a browser message that stays incomplete too long (RFB_ASSEMBLY_LIMITS.maxMillis). */
  #assemblyTimer: NodeJS.Timeout | null = null;
  #vmSpoke = false;
  #probeOutstanding = false;
  #probeTimer: NodeJS.Timeout | null = null;
  #ended = false;
  #vmPaused = false;
  #toBrowser = 0;
  #fromBrowser = 0;
  /** Other members' pages watching this screen, each on a VM connection of its own (issue #16). */
  readonly #watchers = new Set<ScreenWatcher>();

  constructor(deps: ScreenBridgeDeps) {
    this.#deps = deps;
    this.#filter = deps.filter ?? new ClientMessageFilter({ dropInput: deps.viewOnly, onInput: deps.onInput });
  }

  async start(): Promise<void> {
    this.#deps.ws.on('message', (data, isBinary) => this.#fromBrowserMessage(toBuffer(data), isBinary));
    const timer = setTimeout(() => this.#deps.close(CloseCode.protocolError, 'RFB greeting timed out'), BROWSER_HANDSHAKE_TIMEOUT_MS);
    try {
      await this.#handshake();
    } catch (error) {
      if (!this.#ended) this.#deps.close(CloseCode.protocolError, error instanceof Error ? error.message : 'RFB greeting failed');
    } finally {
      clearTimeout(timer);
    }
  }

  stop(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#abort.abort();
    if (this.#probeTimer) clearInterval(this.#probeTimer);
    if (this.#assemblyTimer) clearTimeout(this.#assemblyTimer);
    this.#greeting.fail(new Error('closed'));
    this.#vm?.destroy();
    if (!this.#vm) void this.#upstream?.then((result) => destroyUpstream(result));
    // Their connections' owners have closed them already, with this session's code; this frees their VM sockets regardless.
    for (const watcher of this.#watchers) watcher.leave();
    this.#watchers.clear();
  }

  relayed(): RelayedBytes {
    return { toBrowser: this.#toBrowser, fromBrowser: this.#fromBrowser };
  }

  /**
   * Another member's page watches this screen: it gets a VM connection of its own (the VNC server
   * is shared), so it needs nothing of this session but its VM and credentials, and may join even
   * before the owner's screen is shown. Its input is dropped until the owner lets it drive.
   */
  watch(page: Attachment, person: Person, close: (code: number, reason: string) => void): WatcherHandle | null {
    if (this.#ended) return null;
    const watcher = new ScreenWatcher(this.#deps, page, person, close, (deps) => new ScreenBridge(deps));
    this.#watchers.add(watcher);
    watcher.start((error: unknown) => {
      this.#deps.logger.error({ err: error, watcherId: person.userId }, 'screen watcher failed');
      close(CloseCode.internalError, 'internal error');
    });
    return {
      relayed: () => watcher.relayed(),
      leave: () => {
        if (watcher.leave()) this.#watchers.delete(watcher);
      },
    };
  }

  setWatcherMode(userId: string, mode: AttachMode): boolean {
    let found = false;
    let changed = false;
    for (const watcher of this.#watchers) {
      if (watcher.person.userId !== userId) continue;
      found = true;
      if (watcher.setMode(mode)) changed = true;
    }
    // One row per change of the user's mode, however many of their pages watch.
    if (changed) this.#deps.observer.control(userId, mode);
    return found;
  }

  async #handshake(): Promise<void> {
    const { build } = this.#deps;
    const vnc = build.vnc;
    if (!vnc) return this.#deps.close(CloseCode.forbidden, 'this build has no screen');
    const upstream = openRfbUpstream({
      target: { host: vnc.host, port: vnc.port },
      credentials: this.#deps.credentials,
      dialer: this.#deps.dialer,
      signal: this.#abort.signal,
      pool: this.#deps.readPool,
    });
    this.#upstream = upstream;
    this.#send(Buffer.from('RFB 003.008\n', 'latin1'));
    const version = (await this.#greeting.read(12)).toString('latin1');
    // Only 3.8: 3.7 clients expect no SecurityResult after None, and noVNC always speaks 3.8.
    if (version !== 'RFB 003.008\n') return this.#deps.close(CloseCode.protocolError, 'unsupported RFB client version');
    this.#send(Buffer.from([1, SECURITY_NONE]));
    const chosen = (await this.#greeting.read(1)).readUInt8(0);
    if (chosen !== SECURITY_NONE) return this.#deps.close(CloseCode.protocolError, 'the browser chose an unoffered security type');

    const result = await upstream;
    if (this.#ended) return destroyUpstream(result);
    if (!result.ok) return this.#refuse(result.error);
    const { socket, reads, leftover } = result.value;
    this.#vm = socket;
    this.#send(Buffer.from([0, 0, 0, 0]));
    await this.#greeting.read(1);
    if (this.#ended) return; // stop() destroyed #vm
    // Always shared: a browser must never disconnect someone else's session on the VM.
    socket.write(Buffer.from([1]));
    this.#splice(socket, reads, leftover, this.#greeting.takeRest());
  }

  #refuse(failure: RfbUpstreamFailure): void {
    if (failure.kind === 'aborted') return;
    this.#deps.logger.info({ event: 'vm_connect_failed', buildId: this.#deps.build.id, kind: 'vnc', failure: failure.kind, detail: failure.detail }, 'screen connection to the VM failed');
    const human = failure.kind === 'auth_failed' ? VM_REFUSED_SCREEN_LOGIN : VM_SCREEN_UNREACHABLE;
    const reason = Buffer.from(human, 'utf8');
    const message = Buffer.alloc(8 + reason.length);
    message.writeUInt32BE(1, 0);
    message.writeUInt32BE(reason.length, 4);
    reason.copy(message, 8);
    this.#send(message);
    this.#deps.close(CloseCode.vmUnreachable, human);
  }

  #splice(socket: Socket, reads: PooledReads, fromVm: Buffer, fromBrowser: Buffer): void {
    this.#spliced = true;
    if (fromVm.length > 0) this.#fromVm(fromVm, NOTHING_TO_RELEASE, 0);
    reads.sinkTo((view, release, room) => {
      this.#fromVm(view, release, room);
      return true;
    });
    // Reading paused if the VM sent more than it owed before this point (MAX_EARLY_READ_BYTES).
    if (!this.#vmPaused) socket.resume();
    socket.on('drain', () => {
      if (this.#deps.ws.isPaused) this.#filter.restartClock(Date.now());
      this.#deps.ws.resume();
    });
    socket.once('end', () => this.#deps.close(CloseCode.sessionEnded, 'the VM closed the screen session'));
    socket.once('error', () => this.#deps.close(CloseCode.vmUnreachable, 'connection to the VM lost'));
    socket.once('close', () => this.#deps.close(CloseCode.sessionEnded, 'the VM closed the screen session'));
    this.#probeTimer = setInterval(() => this.#probeVm(socket), VNC_PROBE_INTERVAL_MS);
    this.#probeTimer.unref();
    if (fromBrowser.length > 0) this.#toVm(fromBrowser);
  }

  /**
   * `chunk` is valid until `release` (a pooled read buffer): kept past it only as a copy. `room`
   * bytes before it are free for a frame header.
   */
  #fromVm(chunk: Buffer, release: () => void, room: number): void {
    this.#vmSpoke = true;
    const held = this.#serverInit;
    if (held === null) return this.#toBrowserData(chunk, release, room);
    held.push(Buffer.from(chunk));
    release();
    // The name length sits in the header, so one peek decides; the held chunks are joined once.
    const check = checkServerInit(held.peek(SERVER_INIT_HEADER_BYTES), held.length);
    if (check.state === 'invalid') {
      this.#deps.logger.info({ event: 'vm_protocol_error', buildId: this.#deps.build.id, kind: 'vnc', detail: check.reason }, 'VM sent an invalid ServerInit');
      return this.#deps.close(CloseCode.vmUnreachable, 'The build VM sent an invalid screen description.');
    }
    // Bounded: checkServerInit refuses names over MAX_DESKTOP_NAME_BYTES before they pile up.
    if (check.state === 'incomplete') return;
    this.#serverInit = null;
    this.#toBrowserData(held.takeAll(), NOTHING_TO_RELEASE, 0);
  }

  /** Called every probe interval: silence twice in a row (with a probe between) means the VM is gone. */
  #probeVm(socket: Socket): void {
    if (this.#vmSpoke) {
      this.#vmSpoke = false;
      this.#probeOutstanding = false;
      return;
    }
    if (this.#probeOutstanding) return this.#deps.close(CloseCode.vmUnreachable, 'The build VM stopped answering.');
    this.#probeOutstanding = true;
    // Until ServerInit has arrived the VM owes us that, not a pixel; a request now would be early.
    if (this.#serverInit === null) socket.write(PROBE_REQUEST);
  }

  #fromBrowserMessage(data: Buffer, isBinary: boolean): void {
    if (this.#ended) return;
    if (!isBinary) return this.#deps.close(CloseCode.policyViolation, 'text frames are not RFB');
    if (!this.#spliced) {
      this.#greetingFrames += 1;
      if (this.#greetingFrames > BROWSER_HANDSHAKE_MAX_FRAMES) return this.#deps.close(CloseCode.policyViolation, ASSEMBLY_REFUSALS.too_many_frames);
      this.#greeting.push(data);
      return;
    }
    this.#toVm(data);
  }

  #toVm(data: Buffer): void {
    const vm = this.#vm;
    if (!vm) return;
    this.#fromBrowser += data.length;
    this.#deps.observer.input(data.length);
    const filtered = this.#filter.push(data, Date.now());
    if (!filtered.ok) return this.#refuseInput(filtered.error);
    const { forward } = filtered;
    if (forward.length > 0 && !vm.write(forward)) this.#deps.ws.pause();
    this.#watchAssembly();
  }

  #refuseInput(refusal: FilterRefusal): void {
    this.#deps.close(CloseCode.policyViolation, refusal === 'unknown_message' ? 'unknown RFB client message' : ASSEMBLY_REFUSALS[refusal]);
  }

  /** Arms one timer for the message now incomplete; a message completed in time leaves it to expire harmlessly. */
  #watchAssembly(): void {
    const since = this.#filter.partialSince;
    if (since === null || this.#assemblyTimer) return;
    this.#assemblyTimer = setTimeout(() => {
      this.#assemblyTimer = null;
      if (this.#ended) return;
      // Held back by the VM, not late: the clock restarts when reading resumes.
      if (this.#deps.ws.isPaused) return this.#watchAssembly();
      const decision = this.#filter.check(Date.now());
      if (decision !== 'ok') return this.#refuseInput(decision);
      this.#watchAssembly();
    }, since + RFB_ASSEMBLY_LIMITS.maxMillis + 1 - Date.now());
    this.#assemblyTimer.unref();
  }

  #toBrowserData(chunk: Buffer, release: () => void, room: number): void {
    const { ws } = this.#deps;
    const vm = this.#vm;
    if (ws.readyState !== ws.OPEN || !vm) return release();
    this.#toBrowser += chunk.length;
    this.#deps.observer.output(chunk);
    // The bytes themselves are written (no copy, no mask on a server's frames): the buffer goes
    // back to the pool only once the socket has taken them.
    const sent = (error?: Error | null): void => {
      // A send that failed (the page went) may still sit in a socket queue: never reuse its buffer.
      if (!error) release();
      this.#reviewFlow(vm);
    };
    if (!sendBinaryInPlace(ws, chunk, room, sent)) ws.send(chunk, { binary: true }, sent);
    this.#reviewFlow(vm);
  }

  #reviewFlow(vm: Socket): void {
    const action = decideFlow({ unackedBytes: 0, bufferedBytes: this.#deps.ws.bufferedAmount, paused: this.#vmPaused }, FLOW_LIMITS);
    if (action === 'pause') {
      this.#vmPaused = true;
      this.#deps.observer.paused();
      vm.pause();
    } else if (action === 'resume') {
      this.#vmPaused = false;
      vm.resume();
    }
  }

  #send(data: Buffer): void {
    const { ws } = this.#deps;
    if (ws.readyState === ws.OPEN) ws.send(data, { binary: true });
  }
}

const NOTHING_TO_RELEASE = (): void => undefined;

function destroyUpstream(result: Result<RfbUpstream, RfbUpstreamFailure>): void {
  if (result.ok) result.value.socket.destroy();
}
