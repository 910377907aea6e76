/**
 * The Raw leg of the screen-over-WAN case (issue #19). noVNC cannot be told to use Raw only, so
 * this relay sits between the gateway and Xvnc and, while `raw` is on, rewrites every SetEncodings
 * the page sends (the gateway passes them through) to Raw plus the page's pseudo-encodings: the VM
 * then sends every changed pixel as 4 bytes, as a viewer without compression would receive it.
 *
 * The gateway → VM stream is the gateway's handshake (RFB 3.8 with VncAuth: version, security
 * type, 16-byte response, ClientInit: 30 bytes), then client messages, cut with the gateway's own
 * lengths (server/src/protocols/vnc/client-message-filter.ts). The VM → gateway side is untouched.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { measure, MessageType } from '../../server/src/protocols/vnc/client-message-filter.js';

/** ProtocolVersion (12) + chosen security type (1) + VncAuth response (16) + ClientInit (1). */
export const VNCAUTH_HANDSHAKE_BYTES = 30;
const RAW_ENCODING = 0;

/** A SetEncodings message narrowed to Raw and the pseudo-encodings (negative numbers) it lists. */
export function rawOnlySetEncodings(message: Buffer): Buffer {
  const encodings: number[] = [];
  for (let offset = 4; offset + 4 <= message.length; offset += 4) encodings.push(message.readInt32BE(offset));
  const kept = [RAW_ENCODING, ...encodings.filter((e) => e < 0)];
  const out = Buffer.alloc(4 + 4 * kept.length);
  out.writeUInt8(MessageType.setEncodings, 0);
  out.writeUInt16BE(kept.length, 2);
  kept.forEach((e, i) => out.writeInt32BE(e, 4 + 4 * i));
  return out;
}

/**
 * Cuts a gateway → VM byte stream into the handshake and whole client messages, rewriting each
 * SetEncodings with `rewrite` when it returns one. Bytes of an incomplete message wait for the rest.
 */
export class ClientStreamRewriter {
  #handshakeLeft: number;
  #pending: Buffer = Buffer.alloc(0);

  constructor(handshakeBytes: number) {
    this.#handshakeLeft = handshakeBytes;
  }

  push(chunk: Buffer, rewrite: ((setEncodings: Buffer) => Buffer) | null): Buffer {
    let data = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const out: Buffer[] = [];
    if (this.#handshakeLeft > 0) {
      const take = Math.min(this.#handshakeLeft, data.length);
      out.push(data.subarray(0, take));
      this.#handshakeLeft -= take;
      data = data.subarray(take);
    }
    let offset = 0;
    for (;;) {
      const measured = measure(data.subarray(offset, offset + 9));
      if (measured === 'unknown') throw new Error(`unknown RFB client message type ${data.readUInt8(offset)}`);
      if (measured === 'need_header' || data.length - offset < measured.length) break;
      const message = data.subarray(offset, offset + measured.length);
      out.push(rewrite !== null && message.readUInt8(0) === MessageType.setEncodings ? rewrite(message) : message);
      offset += measured.length;
    }
    this.#pending = Buffer.from(data.subarray(offset));
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
  }
}

export interface RawEncodingsRelay {
  readonly host: string;
  readonly port: number;
  /** Rewrites the SetEncodings sent from now on (the page sends one on each Quality change). */
  setRaw(raw: boolean): void;
  close(): Promise<void>;
}

export async function startRawEncodingsRelay(target: { readonly host: string; readonly port: number }): Promise<RawEncodingsRelay> {
  let raw = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((gateway) => {
    const vm = net.connect(target.port, target.host);
    const stream = new ClientStreamRewriter(VNCAUTH_HANDSHAKE_BYTES);
    for (const socket of [gateway, vm]) {
      sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('error', () => undefined);
      socket.once('close', () => {
        sockets.delete(socket);
        gateway.destroy();
        vm.destroy();
      });
    }
    gateway.on('data', (chunk: Buffer) => {
      const out = stream.push(chunk, raw ? rawOnlySetEncodings : null);
      if (out.length > 0 && !vm.write(out)) gateway.pause();
    });
    vm.on('drain', () => gateway.resume());
    vm.pipe(gateway);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    setRaw(next) {
      raw = next;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
