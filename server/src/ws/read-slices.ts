/**
 * Hands ws a socket read in slices, so a connection the gateway has closed for breaking a rule
 * stops being parsed within one slice. ws parses every frame of the read it is given before a
 * close can take effect: one 64 KiB read of empty frames is ~11,000 frames, tens of milliseconds
 * of the gateway's only thread (issue #22). Slicing is zero-copy.
 *
 * A stop half-closes the socket after the close frame already queued, so a real browser sees the
 * close at once, and the owner drops the socket when the peer ends its side or shortly after.
 * What arrives meanwhile is read and discarded, so the peer's end is seen and the drop finds no
 * unread data (which the kernel answers with a reset). A peer that keeps sending past a small
 * allowance is flooding: it is no longer read.
 */
import type { Duplex } from 'node:stream';
import type { ReadGate } from '../protocols/frames.js';

/** ~680 empty frames at most are parsed after a stop: about a millisecond. */
export const READ_SLICE_BYTES = 4 * 1024;
/** Read and dropped after a stop: what a browser has in flight when it sees the close, and then some. */
export const MAX_BYTES_DISCARDED_AFTER_STOP = 64 * 1024;

/** Call right after ws has attached to `socket` (inside the handleUpgrade callback). */
export function sliceReads(socket: Duplex, stopOn: { once(event: 'error', listener: () => void): unknown }): ReadGate {
  const parsers = socket.listeners('data') as ((chunk: Buffer) => void)[];
  for (const parser of parsers) socket.removeListener('data', parser);
  let stopped = false;
  // ws stops its own parser on a frame error; feeding it more afterwards would write to a dead stream.
  stopOn.once('error', () => (stopped = true));
  let discarded = 0;
  socket.on('data', (chunk: Buffer) => {
    if (stopped) {
      discarded += chunk.length;
      if (discarded > MAX_BYTES_DISCARDED_AFTER_STOP) socket.pause();
      return;
    }
    for (let offset = 0; offset < chunk.length && !stopped; offset += READ_SLICE_BYTES) {
      const slice = chunk.subarray(offset, offset + READ_SLICE_BYTES);
      for (const parser of parsers) parser.call(socket, slice);
    }
  });
  return {
    stop: () => {
      if (stopped) return;
      stopped = true;
      socket.end();
    },
  };
}
