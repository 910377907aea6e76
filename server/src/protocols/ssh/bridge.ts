/**
 * Joins one browser WebSocket (porthole.ssh.v1) to one PTY shell on the build VM, with flow
 * control end to end: the VM's output is read only as fast as the browser renders it, while
 * keystrokes always pass straight through. Whichever side ends, the session asks its owner to
 * close the connection, and the owner's one `stop` tears down both sides.
 */
import type { RawData } from 'ws';
import { toBuffer } from '../frames.js';
import { CloseCode } from '../../../../shared/src/protocol/close-codes.js';
import {
  DEFAULT_TERMINAL_SIZE,
  parseClientControl,
  type ServerControlMessage,
} from '../../../../shared/src/protocol/ssh-v1.js';
import { TERMINAL_OUTPUT_BATCH_BYTES, TERMINAL_UNACKED_HIGH_BYTES, TERMINAL_UNACKED_LOW_BYTES } from '../../../../shared/src/limits.js';
import { decideFlow, type FlowLimits } from '../../flow/backpressure.js';
import { OutputBatcher } from '../../flow/output-batcher.js';
import type { ProtocolContext, ProtocolSession, RelayedBytes } from '../protocol.js';
import { decideHostKey } from './host-key.js';
import { openSshShell, type PtySize, type SshCredentials, type SshOpenFailure, type SshShell } from './upstream.js';

/** How long to wait for the browser's first size before opening the PTY at 80×24. */
export const INITIAL_RESIZE_WAIT_MS = 1_000;
/**
 * Keystrokes typed while the shell opens are kept up to this much (a generous paste). Past it
 * nothing more is kept, so the shell receives a prefix of what was typed, never text with holes.
 */
export const EARLY_INPUT_LIMIT_BYTES = 64 * 1024;
const EARLY_INPUT_DROPPED_NOTICE = 'Part of what you typed before the shell was ready was not sent; type it again.';
/** A browser that renders nothing for this long while output waits is gone or stuck. */
export const CLIENT_STALL_TIMEOUT_MS = 60_000;
/** Bytes queued in the WebSocket beyond this pause the VM even if acks keep coming. */
const WS_BUFFERED_HIGH_BYTES = 1024 * 1024;
const WS_BUFFERED_LOW_BYTES = 256 * 1024;

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
}

export class TerminalBridge implements ProtocolSession {
  readonly #deps: TerminalBridgeDeps;
  readonly #abort = new AbortController();
  #shell: SshShell | null = null;
  #size: PtySize | null = null;
  #earlyInput: Buffer[] = [];
  #earlyInputBytes = 0;
  #earlyInputOverflowed = false;
  #sentBytes = 0;
  /** What actually went out: a batch still waiting when the socket started closing is never sent. */
  #deliveredBytes = 0;
  #ackedBytes = 0;
  #receivedBytes = 0;
  #paused = false;
  #stallTimer: NodeJS.Timeout | null = null;
  /** VM output of one event-loop turn goes to the browser as one message. */
  readonly #output = new OutputBatcher((batch) => this.#sendOutput(batch), TERMINAL_OUTPUT_BATCH_BYTES);
  #ended = false;
  #sizeKnown: (() => void) | null = null;
  #closesAt: Date | null;

  constructor(deps: TerminalBridgeDeps) {
    this.#deps = deps;
    this.#closesAt = deps.build.closesAt;
  }

  /** Runs the session; resolves when it has been set up (or refused). */
  async start(): Promise<void> {
    this.#deps.ws.on('message', (data, isBinary) => this.#onBrowserMessage(data, isBinary));
    await this.#waitForFirstSize();
    if (this.#ended) return;
    const result = await openSshShell({
      target: { host: this.#deps.build.ssh.host, port: this.#deps.build.ssh.port },
      credentials: this.#deps.credentials,
      size: this.#size ?? DEFAULT_TERMINAL_SIZE,
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
    this.#send({
      type: 'window',
      closesAt: closesAt?.toISOString() ?? null,
      remainingMs: closesAt ? Math.max(0, closesAt.getTime() - this.#deps.now().getTime()) : null,
    });
  }

  stop(): void {
    if (this.#ended) return;
    this.#ended = true;
    // Only a shell still being opened listens; aborting builds a DOMException with a stack trace.
    if (!this.#shell) this.#abort.abort();
    this.#sizeKnown?.();
    if (this.#stallTimer) clearTimeout(this.#stallTimer);
    this.#output.discard();
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
    const message = failureMessage(failure);
    this.#deps.logger.info({ event: 'vm_connect_failed', buildId: this.#deps.build.id, failure: failure.kind }, message);
    this.#send({ type: 'error', code: 'vm_unreachable', message });
    this.#deps.close(CloseCode.vmUnreachable, message);
  }

  #attach(shell: SshShell): void {
    this.#shell = shell;
    const { channel } = shell;
    const onOutput = (chunk: Buffer): void => this.#forwardOutput(chunk);
    channel.on('data', onOutput);
    channel.stderr.on('data', onOutput);
    channel.on('drain', () => this.#deps.ws.resume());
    channel.once('close', () => this.#deps.close(CloseCode.sessionEnded, 'shell ended'));
    shell.onClosed((error) => this.#deps.close(error ? CloseCode.vmUnreachable : CloseCode.sessionEnded, error ? 'connection to the VM lost' : 'shell ended'));

    this.#send({ type: 'ready', hostKey: shell.hostKey, sessionId: this.#deps.sessionId, resumeSeconds: this.#deps.resumeSeconds });
    this.windowChanged(this.#closesAt);
    // A resize that arrived while the shell was opening.
    if (this.#size) shell.resize(this.#size);
    const size = this.#size ?? DEFAULT_TERMINAL_SIZE;
    this.#deps.observer.resize(size.cols, size.rows);
    if (this.#earlyInputBytes > 0) channel.write(Buffer.concat(this.#earlyInput, this.#earlyInputBytes));
    this.#earlyInput = [];
  }

  #forwardOutput(chunk: Buffer): void {
    if (this.#deps.ws.readyState !== this.#deps.ws.OPEN) return;
    // Counted as sent when batched, so a flood pauses the VM within the turn it arrives in.
    this.#sentBytes += chunk.length;
    this.#deps.observer.output(chunk);
    this.#output.push(chunk);
    this.#reviewFlow();
  }

  #sendOutput(batch: Buffer): void {
    const { ws } = this.#deps;
    if (ws.readyState !== ws.OPEN) return;
    this.#deliveredBytes += batch.length;
    ws.send(batch, { binary: true }, () => this.#reviewFlow());
  }

  #onBrowserMessage(data: RawData, isBinary: boolean): void {
    if (this.#ended) return;
    const buffer = toBuffer(data);
    if (isBinary) {
      // An empty frame carries no keystroke: it must neither count as input nor take a slot below.
      if (buffer.length === 0) return;
      this.#receivedBytes += buffer.length;
      this.#deps.onInput();
      this.#deps.observer.input(buffer.length);
      const shell = this.#shell;
      if (!shell) return this.#keepEarlyInput(buffer);
      // Input backpressure: stop reading the browser while sshd's window is full.
      if (!shell.channel.write(buffer)) this.#deps.ws.pause();
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
      case 'resize':
        this.#size = { cols: message.cols, rows: message.rows };
        this.#sizeKnown?.();
        if (this.#shell) {
          this.#shell.resize(this.#size);
          this.#deps.observer.resize(this.#size.cols, this.#size.rows);
        }
        return;
      case 'ack':
        // Credit beyond what was sent is a client bug; never let it open the floodgates.
        this.#ackedBytes = Math.min(this.#sentBytes, this.#ackedBytes + message.bytes);
        this.#reviewFlow();
        return;
      case 'resume':
        // Only the first message on a resume ticket; anywhere else it is a client bug.
        this.#send({ type: 'error', code: 'bad_message', message: 'resume is only the first message on a resume ticket' });
        this.#deps.close(CloseCode.policyViolation, 'unexpected resume');
        return;
    }
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
    const action = decideFlow(
      { unackedBytes: this.#sentBytes - this.#ackedBytes, bufferedBytes: this.#deps.ws.bufferedAmount, paused: this.#paused },
      FLOW_LIMITS,
    );
    if (action === 'pause') {
      this.#paused = true;
      this.#deps.observer.paused();
      shell.channel.pause();
      shell.channel.stderr.pause();
      this.#stallTimer = setTimeout(() => this.#deps.close(CloseCode.clientTooSlow, 'browser stopped reading'), this.#deps.stallTimeoutMs);
    } else if (action === 'resume') {
      this.#paused = false;
      if (this.#stallTimer) clearTimeout(this.#stallTimer);
      this.#stallTimer = null;
      shell.channel.resume();
      shell.channel.stderr.resume();
    }
  }

  #send(message: ServerControlMessage): void {
    const { ws } = this.#deps;
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  }
}

function failureMessage(failure: SshOpenFailure): string {
  switch (failure.kind) {
    case 'host_key_rejected':
      return 'The build VM presented an unexpected host key; the connection was refused.';
    case 'auth_failed':
      return 'The build VM refused the login.';
    case 'timeout':
      return 'The build VM did not answer in time.';
    case 'shell_refused':
      return 'The build VM refused to open a shell.';
    case 'unreachable':
    case 'aborted':
      return 'The build VM could not be reached.';
  }
}
