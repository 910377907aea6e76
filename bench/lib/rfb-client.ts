/**
 * A minimal RFB 3.8 client for the VNC bench, over TCP or a WebSocket: handshake (None or
 * VncAuth), Raw encoding only, and full-screen or 1×1 update requests answered one at a time,
 * as noVNC asks for its next update once the previous one is in. Pixel bytes are counted and
 * skipped, never copied, so the client is no bottleneck.
 */
import net from 'node:net';
import { WebSocket } from 'ws';
import { vncAuthResponse } from '../../server/src/protocols/vnc/rfb-auth.js';
import { withDeadline } from './deadline.js';

export interface RfbTransport {
  write(bytes: Buffer): void;
  onData(listener: (chunk: Buffer) => void): void;
  close(): void;
}

export function tcpTransport(host: string, port: number): Promise<RfbTransport> {
  return new Promise((done, fail) => {
    const socket = net.connect({ host, port }, () => {
      socket.setNoDelay(true);
      done({ write: (b) => socket.write(b), onData: (l) => socket.on('data', l), close: () => socket.destroy() });
    });
    socket.once('error', fail);
  });
}

/** The server may speak in the same packet as the upgrade response: listen before 'open'. */
export async function wsTransport(url: string, protocols: string[], origin: string | null): Promise<RfbTransport & { ws: WebSocket }> {
  const ws = new WebSocket(url, protocols, { perMessageDeflate: false, ...(origin ? { headers: { Origin: origin } } : {}) });
  const early: Buffer[] = [];
  let listener: ((chunk: Buffer) => void) | null = null;
  ws.on('message', (data: Buffer) => (listener ? listener(data) : early.push(data)));
  await new Promise((done, fail) => {
    ws.once('open', done);
    ws.once('error', fail);
  });
  ws.on('error', () => undefined);
  return {
    ws,
    write: (b) => ws.send(b, { binary: true }),
    onData: (l) => {
      listener = l;
      for (const chunk of early.splice(0)) l(chunk);
    },
    close: () => ws.terminate(),
  };
}

const SECURITY_NONE = 1;
const SECURITY_VNC_AUTH = 2;
const HANDSHAKE_TIMEOUT_MS = 20_000;
const UPDATE_TIMEOUT_MS = 20_000;

export interface RfbSession {
  readonly width: number;
  readonly height: number;
  /** Bytes received since the session started, handshake included. */
  bytesReceived(): number;
  /** Requests a non-incremental update of the rectangle and resolves when it has fully arrived. */
  update(x: number, y: number, width: number, height: number): Promise<void>;
  close(): void;
}

/** Splits the incoming stream into whole server messages, counting and skipping pixel data. */
class UpdateReader {
  #header: Buffer[] = [];
  #headerBytes = 0;
  #need = 0;
  #skip = 0;
  #state: 'type' | 'update' | 'rect' | 'idle' = 'idle';
  #rectsLeft = 0;
  #bytesPerPixel = 4;
  #onUpdate: (() => void) | null = null;
  /**
   * The update being read was not asked for: the gateway's keepalive probe (a 1×1 request after
   * 5 s of VM silence, server/src/protocols/vnc/bridge.ts) gets its answer between measurements.
   */
  #unsolicited = false;

  setBytesPerPixel(bpp: number): void {
    this.#bytesPerPixel = bpp;
  }

  expectUpdate(done: () => void): void {
    this.#onUpdate = done;
    if (this.#state === 'idle') this.#want('type', 1);
  }

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - offset);
        this.#skip -= n;
        offset += n;
        if (this.#skip === 0) this.#rectDone();
        continue;
      }
      if (this.#state === 'idle') {
        this.#unsolicited = true;
        this.#want('type', 1);
      }
      const n = Math.min(this.#need - this.#headerBytes, chunk.length - offset);
      this.#header.push(chunk.subarray(offset, offset + n));
      this.#headerBytes += n;
      offset += n;
      if (this.#headerBytes === this.#need) this.#parse(Buffer.concat(this.#header));
    }
  }

  #want(state: 'type' | 'update' | 'rect', bytes: number): void {
    this.#state = state;
    this.#need = bytes;
    this.#header = [];
    this.#headerBytes = 0;
  }

  #parse(bytes: Buffer): void {
    switch (this.#state) {
      case 'type':
        if (bytes.readUInt8(0) !== 0) throw new Error(`unexpected server message type ${bytes.readUInt8(0)}`);
        return this.#want('update', 3);
      case 'update':
        this.#rectsLeft = bytes.readUInt16BE(1);
        if (this.#rectsLeft === 0) return this.#finished();
        return this.#want('rect', 12);
      case 'rect': {
        const encoding = bytes.readInt32BE(8);
        if (encoding !== 0) throw new Error(`unexpected encoding ${encoding}`);
        this.#skip = bytes.readUInt16BE(4) * bytes.readUInt16BE(6) * this.#bytesPerPixel;
        this.#header = [];
        this.#headerBytes = 0;
        this.#need = 0;
        if (this.#skip === 0) this.#rectDone();
        return;
      }
      case 'idle':
        return;
    }
  }

  #rectDone(): void {
    this.#rectsLeft -= 1;
    if (this.#rectsLeft > 0) this.#want('rect', 12);
    else this.#finished();
  }

  #finished(): void {
    this.#state = 'idle';
    if (this.#unsolicited) {
      this.#unsolicited = false;
      // A request made while the probe's answer was read waits for its own update.
      if (this.#onUpdate) this.#want('type', 1);
      return;
    }
    const done = this.#onUpdate;
    this.#onUpdate = null;
    done?.();
  }
}

/** Reads exact byte counts during the handshake. */
function handshakeReader(): { push(c: Buffer): void; read(n: number): Promise<Buffer>; rest(): Buffer } {
  let buffered = Buffer.alloc(0);
  let waiter: { n: number; done: (b: Buffer) => void } | null = null;
  const serve = (): void => {
    if (waiter && buffered.length >= waiter.n) {
      const { n, done } = waiter;
      waiter = null;
      const head = buffered.subarray(0, n);
      buffered = buffered.subarray(n);
      done(head);
    }
  };
  return {
    push(c) {
      buffered = Buffer.concat([buffered, c]);
      serve();
    },
    read(n) {
      return new Promise((done) => {
        waiter = { n, done };
        serve();
      });
    },
    rest: () => buffered,
  };
}

export async function openRfbSession(transport: RfbTransport, vncPassword: string | null): Promise<RfbSession> {
  let received = 0;
  const hs = handshakeReader();
  const reader = new UpdateReader();
  let handshaking = true;
  let failure: Error | null = null;
  transport.onData((chunk) => {
    received += chunk.length;
    if (handshaking) return hs.push(chunk);
    try {
      reader.push(chunk);
    } catch (error) {
      failure = error as Error;
    }
  });
  const init = await withDeadline('RFB handshake', HANDSHAKE_TIMEOUT_MS, async () => {
    const version = (await hs.read(12)).toString('latin1');
    if (!version.startsWith('RFB 003.')) throw new Error(`not an RFB server: ${JSON.stringify(version)}`);
    transport.write(Buffer.from('RFB 003.008\n', 'latin1'));
    const count = (await hs.read(1)).readUInt8(0);
    const types = [...(await hs.read(count))];
    if (types.includes(SECURITY_NONE)) {
      transport.write(Buffer.from([SECURITY_NONE]));
    } else if (types.includes(SECURITY_VNC_AUTH) && vncPassword !== null) {
      transport.write(Buffer.from([SECURITY_VNC_AUTH]));
      transport.write(vncAuthResponse(vncPassword, await hs.read(16)));
    } else throw new Error(`no usable security type in [${types.join(', ')}]`);
    const result = (await hs.read(4)).readUInt32BE(0);
    if (result !== 0) throw new Error('RFB authentication failed');
    transport.write(Buffer.from([1])); // shared
    const head = await hs.read(24);
    await hs.read(head.readUInt32BE(20));
    return { width: head.readUInt16BE(0), height: head.readUInt16BE(2), bitsPerPixel: head.readUInt8(4) };
  }, () => transport.close());
  reader.setBytesPerPixel(init.bitsPerPixel / 8);
  handshaking = false;
  const leftover = hs.rest();
  if (leftover.length > 0) throw new Error('server spoke before being asked');
  // SetEncodings: Raw only.
  const setEncodings = Buffer.alloc(8);
  setEncodings.writeUInt8(2, 0);
  setEncodings.writeUInt16BE(1, 2);
  setEncodings.writeInt32BE(0, 4);
  transport.write(setEncodings);
  return {
    width: init.width,
    height: init.height,
    bytesReceived: () => received,
    update(x, y, width, height) {
      const request = Buffer.alloc(10);
      request.writeUInt8(3, 0);
      request.writeUInt8(0, 1); // non-incremental: the whole rectangle every time
      request.writeUInt16BE(x, 2);
      request.writeUInt16BE(y, 4);
      request.writeUInt16BE(width, 6);
      request.writeUInt16BE(height, 8);
      return withDeadline('RFB update', UPDATE_TIMEOUT_MS, () =>
        new Promise<void>((done, fail) => {
          if (failure) return fail(failure);
          reader.expectUpdate(() => (failure ? fail(failure) : done()));
          transport.write(request);
        }),
      () => transport.close());
    },
    close: () => transport.close(),
  };
}
