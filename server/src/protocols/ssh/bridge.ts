/**
 * Joins a browser WebSocket (porthole.ssh.v1) to one PTY shell on the build VM, with flow
 * control end to end: the VM's output is read only as fast as the browser renders it, while
 * keystrokes always pass straight through. Whichever side ends, the session asks its owner to
 * close the connection, and the owner's one `stop` tears down both sides.
 *
 * The VM's output goes into a log numbered by offset (output-log.ts) that keeps what the page has
 * not acknowledged and a buffer besides; the page reads it through a viewer (viewer.ts) at its own
 * pace, and the VM is read only while the page keeps up. A resumable session (resumeSeconds > 0)
 * outlives its page: with no page attached it goes on reading until the log holds its buffer
 * beyond the last acknowledgement, then stops reading (the program on the VM blocks, as under
 * Ctrl-S). A page resuming says how much it received; it gets the rest.
 */
import type { RawData, WebSocket } from 'ws';
import { toBuffer } from '../frames.js';
import { CloseCode } from '../../../../shared/src/protocol/close-codes.js';
import {
  DEFAULT_TERMINAL_SIZE,
  parseClientControl,
  type AttachMode,
  type Participant,
  type ServerControlMessage,
} from '../../../../shared/src/protocol/ssh-v1.js';
import { TERMINAL_OUTPUT_BATCH_BYTES, TERMINAL_UNACKED_HIGH_BYTES, TERMINAL_UNACKED_LOW_BYTES } from '../../../../shared/src/limits.js';
import { decideFlow, type FlowLimits } from '../../flow/backpressure.js';
import type { Attachment, Person, ProtocolContext, ProtocolSession, RelayedBytes, WatcherHandle } from '../protocol.js';
import { decideHostKey } from './host-key.js';
import { describeVmFailure } from './vm-failure.js';
import { OutputLog } from './output-log.js';
import { TerminalViewer, type ViewerLimits } from './viewer.js';
import {
  openSshShell,
  SSH_MAX_PACKET_BYTES,
  SSH_SHELL_WINDOW_MAX_BYTES,
  type PtySize,
  type SshCredentials,
  type SshOpenFailure,
  type SshShell,
} from './upstream.js';

/** How long to wait for the browser's first size before opening the PTY at 80×24. */
export const INITIAL_RESIZE_WAIT_MS = 1_000;
/**
 * Keystrokes typed while the shell opens are kept up to this much (a generous paste). Past it
 * nothing more is kept, so the shell receives a prefix of what was typed, never text with holes.
 */
export const EARLY_INPUT_LIMIT_BYTES = 64 * 1024;
const EARLY_INPUT_DROPPED_NOTICE = 'Part of what you typed before the shell was ready was not sent; type it again.';
const OUTPUT_SKIPPED_NOTICE = 'Earlier output is not shown: the page fell too far behind.';
/** A browser that renders nothing for this long while output waits is gone or stuck. */
export const CLIENT_STALL_TIMEOUT_MS = 60_000;
/** Bytes queued in the WebSocket beyond this pause the VM even if acks keep coming. */
const WS_BUFFERED_HIGH_BYTES = 1024 * 1024;
const WS_BUFFERED_LOW_BYTES = 256 * 1024;

/**
 * A page with this much unacknowledged is handed whole messages only: it has four of them to
 * parse or in flight, so a partial one can wait for the next ack. Far above what a caught-up page
 * leaves unacknowledged (below TERMINAL_ACK_BATCH_BYTES), so a tail never waits for an ack that
 * does not come. Under a flood a turn often brings one 4 KiB SSH packet: sent as is, the browser
 * got 2,500–5,000 messages per 51 MB instead of ~800, and its main thread spent ~25 % more.
 */
const WHOLE_BATCHES_ABOVE_UNACKED_BYTES = 4 * TERMINAL_OUTPUT_BATCH_BYTES;

/** A page is handed output up to the same marks that pause the VM for it. */
const VIEWER_LIMITS: ViewerLimits = {
  unackedHighBytes: TERMINAL_UNACKED_HIGH_BYTES,
  bufferedHighBytes: WS_BUFFERED_HIGH_BYTES,
  batchBytes: TERMINAL_OUTPUT_BATCH_BYTES,
  wholeBatchesAboveBytes: WHOLE_BATCHES_ABOVE_UNACKED_BYTES,
};

const FLOW_LIMITS: FlowLimits = {
  unackedHighBytes: TERMINAL_UNACKED_HIGH_BYTES,
  unackedLowBytes: TERMINAL_UNACKED_LOW_BYTES,
  bufferedHighBytes: WS_BUFFERED_HIGH_BYTES,
  bufferedLowBytes: WS_BUFFERED_LOW_BYTES,
};

export interface TerminalBridgeDeps extends ProtocolContext {
  readonly credentials: SshCredentials;
  readonly expectedHostKey: string | null;
  /** Pins a first-seen host key for the build; resolves to the key now pinned. */
  readonly pinHostKey: (fingerprint: string) => Promise<string>;
  /** How long output may wait unread before the browser is considered gone. */
  readonly stallTimeoutMs: number;
  /** Output kept for a resuming page beyond what it has not acknowledged (PORTHOLE_RESUME_BUFFER_BYTES). */
  readonly resumeBufferBytes: number;
}

interface WatcherSeat {
  readonly page: Attachment;
  readonly person: Person;
  /** Ends the watcher's own connection. */
  readonly close: (code: number, reason: string) => void;
  mode: AttachMode;
  readonly relayed: { toBrowser: number; fromBrowser: number };
  readonly viewer: TerminalViewer;
}

/** A page that resumes only says from where in its first message; until then it is not attached. */
const RESUME_NOT_FIRST = 'the first message on a resume ticket must be resume';

export class TerminalBridge implements ProtocolSession {
  readonly #deps: TerminalBridgeDeps;
  readonly #abort = new AbortController();
  #shell: SshShell | null = null;
  #size: PtySize | null = null;
  #earlyInput: Buffer[] = [];
  #earlyInputBytes = 0;
  #earlyInputOverflowed = false;
  /** The page attached, reading the log; null while the session is held for a page to resume it. */
  #viewer: TerminalViewer | null = null;
  /** The page's socket from the start until the first viewer exists (the shell is still opening). */
  readonly #firstPage: Attachment;
  /** Log offset the last attached page had acknowledged: what a held session keeps from. */
  #ackedOffset = 0;
  /** What actually went out: a batch still waiting when the socket started closing is never sent. */
  #deliveredBytes = 0;
  #receivedBytes = 0;
  /** Who typed last; the owner until a watcher handed control types. */
  #typist: string;
  /** Everything the page has not acknowledged, and a buffer besides for a page resuming. */
  readonly #log: OutputLog;
  readonly #resumable: boolean;
  /** Set on resume: the page's next resize redraws full-screen programs even at the same size. */
  #nudgeOnResize = false;
  /** The shell's SSH receive window: what the VM may send that the gateway has not read. */
  readonly #windowBytes: number;
  /** Flow while no page is attached (see heldFlowLimits). */
  readonly #heldLimits: FlowLimits;
  /** A page that resumes, until its first message says from where. */
  #resuming: Attachment | null = null;
  #paused = false;
  /** The shell sent its exit status: its channel ends once read to the end. */
  #shellExited = false;
  #stallTimer: NodeJS.Timeout | null = null;
  /** Pages of other members watching (or co-driving) this session (issue #16). */
  readonly #watchers = new Set<WatcherSeat>();
  #ended = false;
  #sizeKnown: (() => void) | null = null;
  #closesAt: Date | null;

  constructor(deps: TerminalBridgeDeps) {
    this.#deps = deps;
    this.#typist = deps.person.userId;
    this.#closesAt = deps.build.closesAt;
    this.#firstPage = { ws: deps.ws, readGate: deps.readGate };
    this.#resumable = deps.resumeSeconds > 0;
    this.#log = new OutputLog(deps.resumeBufferBytes);
    // A held session's output waits in the log and in the window ssh2 granted: the buffer bounds both.
    this.#windowBytes = this.#resumable ? Math.min(SSH_SHELL_WINDOW_MAX_BYTES, deps.resumeBufferBytes) : SSH_SHELL_WINDOW_MAX_BYTES;
    this.#heldLimits = heldFlowLimits(deps.resumeBufferBytes, this.#windowBytes);
  }

  /** Runs the session; resolves when it has been set up (or refused). */
  async start(): Promise<void> {
    const page = this.#firstPage;
    page.ws.on('message', (data, isBinary) => this.#onBrowserMessage(page.ws, data, isBinary));
    await this.#waitForFirstSize();
    if (this.#ended) return;
    const result = await openSshShell({
      target: { host: this.#deps.build.ssh.host, port: this.#deps.build.ssh.port },
      credentials: this.#deps.credentials,
      size: this.#size ?? DEFAULT_TERMINAL_SIZE,
      windowBytes: this.#windowBytes,
      dialer: this.#deps.dialer,
      signal: this.#abort.signal,
      verifyHostKey: (fingerprint) => this.#verifyHostKey(fingerprint),
    });
    if (!result.ok) return this.#refused(result.error);
    if (this.#ended) {
      result.value.close();
      return;
    }
    this.#attach(result.value);
  }

  /** Tells the page about its access window; remaining time is the server's, immune to client clocks. */
  windowChanged(closesAt: Date | null): void {
    this.#closesAt = closesAt;
    if (!this.#shell) return; // sent with "ready"
    const message = this.#windowMessage();
    this.#send(message);
    this.#broadcastToWatchers(message);
  }

  /** The page's socket went without ending the session: keep the shell, stop writing to the socket. */
  detach(): boolean {
    // Before "ready" the page does not know the session's id, so nobody could resume it.
    if (this.#ended || !this.#shell || !this.#resumable) return false;
    this.#resuming = null;
    const viewer = this.#viewer;
    if (!viewer) return true;
    viewer.page.ws.removeAllListeners('message');
    // The log holds everything a batch not yet handed over would have carried.
    viewer.stop();
    this.#ackedOffset = viewer.ackedOffset;
    this.#viewer = null;
    this.#clearStallTimer();
    this.#participantsChanged();
    this.#reviewFlow();
    return true;
  }

  /** A page resuming the session: attached once its first message says how much it has received. */
  attach(page: Attachment): void {
    if (this.#ended) return;
    this.#resuming = page;
    page.ws.once('message', (data, isBinary) => {
      // Superseded by a newer page (or the session ended) before this one said where it was.
      if (this.#ended || this.#resuming !== page) return;
      this.#resuming = null;
      const resume = isBinary ? null : parseClientControl(toBuffer(data).toString('utf8'));
      if (!resume?.ok || resume.value.type !== 'resume') {
        this.#sendTo(page.ws, { type: 'error', code: 'bad_message', message: RESUME_NOT_FIRST });
        return this.#deps.rejectAttachment(page, CloseCode.policyViolation, RESUME_NOT_FIRST);
      }
      this.#resume(page, resume.value.offset);
    });
  }

  /**
   * Another member's page joins the session as a watcher: it is shown the output held, then
   * everything live at the driver's PTY size; its keys reach the shell only while the session's
   * owner lets it drive. Its own connection owner ends it with `leave`.
   */
  watch(page: Attachment, person: Person, close: (code: number, reason: string) => void): WatcherHandle | null {
    const shell = this.#shell;
    if (this.#ended || !shell) return null;
    const seat: WatcherSeat = { page, person, close, mode: 'watch', relayed: { toBrowser: 0, fromBrowser: 0 }, viewer: this.#watcherViewer(page, () => seat) };
    this.#watchers.add(seat);
    page.ws.on('message', (data, isBinary) => this.#onWatcherMessage(seat, data, isBinary));
    this.#sendTo(page.ws, { type: 'ready', hostKey: shell.hostKey, sessionId: this.#deps.sessionId, resumeSeconds: 0, mode: 'watch', recorded: this.#deps.recorded() });
    this.#sendTo(page.ws, { type: 'size', ...(this.#size ?? DEFAULT_TERMINAL_SIZE) });
    this.#sendTo(page.ws, this.#windowMessage());
    seat.viewer.notify();
    this.#participantsChanged();
    return {
      relayed: () => seat.relayed,
      leave: () => {
        if (!this.#watchers.delete(seat)) return;
        seat.viewer.stop();
        page.ws.removeAllListeners('message');
        this.#participantsChanged();
      },
    };
  }

  /** Who is attached now, the owner first, as told to the page of `recipient` (null: the owner's page). */
  #participants(recipient: WatcherSeat | null): readonly Participant[] {
    const list: Participant[] = [];
    const { userId, name } = this.#deps.person;
    if (this.#viewer) list.push({ userId, name, mode: 'drive', owner: true, you: recipient === null });
    for (const seat of this.#watchers) list.push({ userId: seat.person.userId, name: seat.person.name, mode: seat.mode, owner: false, you: seat === recipient });
    return list;
  }

  stop(): void {
    if (this.#ended) return;
    this.#ended = true;
    // Only a shell still being opened listens; aborting builds a DOMException with a stack trace.
    if (!this.#shell) this.#abort.abort();
    this.#sizeKnown?.();
    this.#clearStallTimer();
    this.#viewer?.stop();
    for (const seat of this.#watchers) seat.viewer.stop();
    this.#shell?.close();
  }

  relayed(): RelayedBytes {
    return { toBrowser: this.#deliveredBytes, fromBrowser: this.#receivedBytes };
  }

  async #verifyHostKey(fingerprint: string): Promise<boolean> {
    let decision = decideHostKey(this.#deps.expectedHostKey, fingerprint);
    if (decision.kind === 'pin') {
      // The first writer wins: a racing connection may have pinned another key a moment ago.
      decision = decideHostKey(await this.#deps.pinHostKey(fingerprint), fingerprint);
      if (decision.kind === 'accept') this.#deps.observer.hostKey({ kind: 'pinned', fingerprint });
    }
    if (decision.kind === 'reject') this.#deps.observer.hostKey({ kind: 'mismatch', expected: decision.expected, presented: fingerprint });
    return decision.kind === 'accept';
  }

  #waitForFirstSize(): Promise<void> {
    if (this.#size) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, INITIAL_RESIZE_WAIT_MS);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#sizeKnown = () => {
        this.#sizeKnown = null;
        done();
      };
    });
  }

  #refused(failure: SshOpenFailure): void {
    if (failure.kind === 'aborted' || this.#ended) return;
    const { code, message } = describeVmFailure(failure);
    this.#deps.logger.info({ event: 'vm_connect_failed', buildId: this.#deps.build.id, failure: failure.kind }, message);
    this.#send({ type: 'error', code, message });
    this.#deps.close(CloseCode.vmUnreachable, message);
  }

  #attach(shell: SshShell): void {
    this.#shell = shell;
    const { channel } = shell;
    const onOutput = (chunk: Buffer): void => this.#forwardOutput(chunk);
    channel.on('data', onOutput);
    channel.stderr.on('data', onOutput);
    // Input backpressure ends: read the pages that type again.
    channel.on('drain', () => {
      this.#viewer?.page.ws.resume();
      // Every watcher: one paused while driving may have been set back to watching since.
      for (const seat of this.#watchers) seat.page.ws.resume();
    });
    channel.once('close', () => this.#deps.close(CloseCode.sessionEnded, 'shell ended'));
    channel.once('exit', () => {
      this.#shellExited = true;
      this.#reviewFlow();
    });
    shell.onClosed((error) => this.#deps.close(error ? CloseCode.vmUnreachable : CloseCode.sessionEnded, error ? 'connection to the VM lost' : 'shell ended'));

    this.#viewer = this.#newViewer(this.#firstPage, 0);
    this.#send({ type: 'ready', hostKey: shell.hostKey, sessionId: this.#deps.sessionId, resumeSeconds: this.#deps.resumeSeconds, mode: 'drive', recorded: this.#deps.recorded() });
    this.windowChanged(this.#closesAt);
    // A resize that arrived while the shell was opening.
    if (this.#size) shell.resize(this.#size);
    const size = this.#size ?? DEFAULT_TERMINAL_SIZE;
    this.#deps.observer.resize(size.cols, size.rows);
    if (this.#earlyInputBytes > 0) channel.write(Buffer.concat(this.#earlyInput, this.#earlyInputBytes));
    this.#earlyInput = [];
  }

  #forwardOutput(chunk: Buffer): void {
    this.#deps.observer.output(chunk);
    this.#log.append(chunk);
    this.#viewer?.notify();
    for (const seat of this.#watchers) seat.viewer.notify();
    // Counted when logged, so a flood pauses the VM within the turn it arrives in.
    this.#reviewFlow();
  }

  #newViewer(page: Attachment, from: number): TerminalViewer {
    return new TerminalViewer(page, this.#log, from, VIEWER_LIMITS, {
      sent: (bytes) => (this.#deliveredBytes += bytes),
      progressed: () => this.#reviewFlow(),
      skipped: () => this.#sendTo(page.ws, { type: 'notice', code: 'output_skipped', message: OUTPUT_SKIPPED_NOTICE }),
    });
  }

  /** The resuming page gets what it has not received (or the oldest held, from a line start), then goes live. */
  #resume(page: Attachment, received: number): void {
    if (!this.#resumable) return this.#deps.rejectAttachment(page, CloseCode.policyViolation, 'this session cannot be resumed');
    const from = this.#log.resumeOffset(received);
    this.#ackedOffset = from;
    this.#log.trim(from);
    this.#viewer = this.#newViewer(page, from);
    this.#nudgeOnResize = true;
    page.ws.on('message', (data, isBinary) => this.#onBrowserMessage(page.ws, data, isBinary));
    this.#deps.observer.resumed(received, from);
    this.#send({ type: 'resumed', offset: from, recorded: this.#deps.recorded() });
    this.windowChanged(this.#closesAt);
    if (this.#watchers.size > 0) this.#participantsChanged();
    // The held output goes out at the end of this turn, after the messages above.
    this.#viewer.notify();
    this.#reviewFlow();
  }

  #onBrowserMessage(ws: WebSocket, data: RawData, isBinary: boolean): void {
    if (this.#ended || this.#pageSocket !== ws) return;
    const buffer = toBuffer(data);
    if (isBinary) {
      // An empty frame carries no keystroke: it must neither count as input nor take a slot below.
      if (buffer.length === 0) return;
      this.#receivedBytes += buffer.length;
      this.#input(this.#deps.person, buffer.length);
      const shell = this.#shell;
      if (!shell) return this.#keepEarlyInput(buffer);
      // Input backpressure: stop reading the browser while sshd's window is full.
      if (!shell.channel.write(buffer)) ws.pause();
      return;
    }
    const parsed = parseClientControl(buffer.toString('utf8'));
    if (!parsed.ok) {
      this.#send({ type: 'error', code: 'bad_message', message: `invalid control message (${parsed.error})` });
      this.#deps.close(CloseCode.policyViolation, 'invalid control message');
      return;
    }
    const message = parsed.value;
    switch (message.type) {
      case 'resize': {
        const same = this.#size?.cols === message.cols && this.#size.rows === message.rows;
        this.#size = { cols: message.cols, rows: message.rows };
        this.#sizeKnown?.();
        if (this.#shell) {
          // A resumed page redraws full-screen programs (vim, top, less) by a change they notice.
          if (this.#nudgeOnResize && same) this.#shell.resize({ cols: message.cols, rows: message.rows > 1 ? message.rows - 1 : message.rows + 1 });
          this.#nudgeOnResize = false;
          this.#shell.resize(this.#size);
          this.#deps.observer.resize(this.#size.cols, this.#size.rows);
          this.#broadcastToWatchers({ type: 'size', ...this.#size });
        }
        return;
      }
      case 'ack': {
        const viewer = this.#viewer;
        if (!viewer) return;
        viewer.acknowledge(message.bytes);
        this.#ackedOffset = viewer.ackedOffset;
        this.#log.trim(this.#ackedOffset);
        this.#reviewFlow();
        return;
      }
      case 'control':
        this.setWatcherMode(message.userId, message.mode);
        return;
      case 'resume':
        // Only the first message on a resume ticket; anywhere else it is a client bug.
        this.#send({ type: 'error', code: 'bad_message', message: 'resume is only the first message on a resume ticket' });
        this.#deps.close(CloseCode.policyViolation, 'unexpected resume');
        return;
    }
  }

  #watcherViewer(page: Attachment, seat: () => WatcherSeat): TerminalViewer {
    // A watcher starts at the oldest output held and never holds the VM back: it is not a driver of the flow.
    return new TerminalViewer(page, this.#log, this.#log.start, VIEWER_LIMITS, {
      sent: (bytes) => (seat().relayed.toBrowser += bytes),
      progressed: () => undefined,
      skipped: () => this.#sendTo(page.ws, { type: 'notice', code: 'output_skipped', message: OUTPUT_SKIPPED_NOTICE }),
    });
  }

  /** Keys from a driver: the idle timeout restarts, and a recording learns who types when that changes. */
  #input(person: Person, bytes: number): void {
    this.#deps.onInput();
    this.#deps.observer.input(bytes);
    if (person.userId === this.#typist) return;
    this.#typist = person.userId;
    this.#deps.observer.typist(person);
  }

  #onWatcherMessage(seat: WatcherSeat, data: RawData, isBinary: boolean): void {
    if (this.#ended || !this.#watchers.has(seat)) return;
    const buffer = toBuffer(data);
    if (isBinary) {
      // Keys of a page that only watches never reach the VM: the gateway decides, not the page.
      if (buffer.length === 0 || seat.mode !== 'drive' || !this.#shell) return;
      seat.relayed.fromBrowser += buffer.length;
      this.#input(seat.person, buffer.length);
      // Input backpressure, as for the owner's page: the channel's 'drain' reads it again.
      if (!this.#shell.channel.write(buffer)) seat.page.ws.pause();
      return;
    }
    const parsed = parseClientControl(buffer.toString('utf8'));
    if (!parsed.ok) {
      this.#sendTo(seat.page.ws, { type: 'error', code: 'bad_message', message: `invalid control message (${parsed.error})` });
      return seat.close(CloseCode.policyViolation, 'invalid control message');
    }
    // The PTY is the owner's size, and only the owner hands out control: a watcher's say is ignored.
    if (parsed.value.type === 'ack') seat.viewer.acknowledge(parsed.value.bytes);
  }

  setWatcherMode(userId: string, mode: AttachMode): boolean {
    let found = false;
    let changed = false;
    for (const seat of this.#watchers) {
      if (seat.person.userId !== userId) continue;
      found = true;
      if (seat.mode === mode) continue;
      seat.mode = mode;
      changed = true;
    }
    if (changed) {
      this.#deps.observer.control(userId, mode);
      this.#participantsChanged();
    }
    return found;
  }

  #participantsChanged(): void {
    this.#send({ type: 'participants', list: this.#participants(null) });
    for (const seat of this.#watchers) this.#sendTo(seat.page.ws, { type: 'participants', list: this.#participants(seat) });
  }

  #broadcastToWatchers(message: ServerControlMessage): void {
    for (const seat of this.#watchers) this.#sendTo(seat.page.ws, message);
  }

  #windowMessage(): ServerControlMessage {
    const closesAt = this.#closesAt;
    return { type: 'window', closesAt: closesAt?.toISOString() ?? null, remainingMs: closesAt ? Math.max(0, closesAt.getTime() - this.#deps.now().getTime()) : null };
  }

  #keepEarlyInput(buffer: Buffer): void {
    if (this.#earlyInputOverflowed) return;
    if (this.#earlyInputBytes + buffer.length > EARLY_INPUT_LIMIT_BYTES) {
      this.#earlyInputOverflowed = true;
      this.#send({ type: 'notice', code: 'early_input_dropped', message: EARLY_INPUT_DROPPED_NOTICE });
      return;
    }
    this.#earlyInput.push(buffer);
    this.#earlyInputBytes += buffer.length;
  }

  #reviewFlow(): void {
    const shell = this.#shell;
    if (!shell || this.#ended) return;
    const viewer = this.#viewer;
    if (this.#shellExited && !viewer) {
      // The shell exited while no page reads: the session ends for good (4005). A paused channel
      // never ends, so what ssh2 still holds (at most the window) is read out to let it close.
      if (this.#paused) {
        this.#paused = false;
        shell.channel.resume();
        shell.channel.stderr.resume();
      }
      return;
    }
    const page = viewer?.page ?? null;
    const action = viewer
      ? decideFlow({ unackedBytes: viewer.pending, bufferedBytes: viewer.page.ws.bufferedAmount, paused: this.#paused }, FLOW_LIMITS)
      : this.#resumable
        ? // Held: read on until the log holds the buffer beyond what the last page acknowledged.
          decideFlow({ unackedBytes: this.#log.end - this.#ackedOffset, bufferedBytes: 0, paused: this.#paused }, this.#heldLimits)
        : 'none';
    if (action === 'pause') {
      this.#paused = true;
      this.#deps.observer.paused();
      shell.channel.pause();
      shell.channel.stderr.pause();
      // A held session waits for its page as long as the hold lasts; only an attached one can stall.
      if (page) this.#startStallTimer();
    } else if (action === 'resume') {
      this.#paused = false;
      this.#clearStallTimer();
      shell.channel.resume();
      shell.channel.stderr.resume();
    } else if (page && this.#paused && !this.#stallTimer) {
      // Paused while held and still behind once a page is back: it has as long as any page to catch up.
      this.#startStallTimer();
    }
  }

  #startStallTimer(): void {
    this.#stallTimer = setTimeout(() => this.#deps.close(CloseCode.clientTooSlow, 'browser stopped reading'), this.#deps.stallTimeoutMs);
  }

  #clearStallTimer(): void {
    if (this.#stallTimer) clearTimeout(this.#stallTimer);
    this.#stallTimer = null;
  }

  /** The socket of the page attached now: the first one until the shell is open, then its viewer's. */
  get #pageSocket(): WebSocket | null {
    if (this.#viewer) return this.#viewer.page.ws;
    return this.#shell ? null : this.#firstPage.ws;
  }

  #send(message: ServerControlMessage): void {
    const ws = this.#pageSocket;
    if (ws) this.#sendTo(ws, message);
  }

  #sendTo(ws: WebSocket, message: ServerControlMessage): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  }
}

/**
 * While held nothing is acknowledged. Reading stops once what waits unacknowledged passes the
 * buffer less the window (what the paused channel may still take in) and one packet (by which the
 * last read may pass the mark), so the log and the channel together hold at most the buffer; with
 * a window the size of the buffer it stops at once. It restarts only when a page is back.
 */
export function heldFlowLimits(bufferBytes: number, windowBytes: number): FlowLimits {
  return {
    unackedHighBytes: bufferBytes - windowBytes - SSH_MAX_PACKET_BYTES,
    unackedLowBytes: -1,
    bufferedHighBytes: Number.POSITIVE_INFINITY,
    bufferedLowBytes: Number.POSITIVE_INFINITY,
  };
}

