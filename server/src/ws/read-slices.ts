/**
 * Hands ws a socket read in slices, so a connection the gateway has closed for breaking a rule
 * stops being parsed within one slice. ws parses every frame of the read it is given before a
 * close can take effect: one 64 KiB read of empty frames is ~11,000 frames, tens of milliseconds
 * of the gateway's only thread (issue #22). Slicing is zero-copy.
 *
 * A stop also stops reading (each read of a dribbler's tiny TCP segments costs a system call) and
 * half-closes the socket after the close frame already queued, so a real browser sees the close at
 * once; the owner drops the socket shortly after.
 */
import type { Duplex } from 'node:stream';
import type { ReadGate } from '../protocols/frames.js';

/** ~680 empty frames at most are parsed after a stop: about a millisecond. */
export const READ_SLICE_BYTES = 4 * 1024;


/** Call right after ws has attached to `socket` (inside the handleUpgrade callback). */
export function sliceReads(socket: Duplex, stopOn: { once(event: 'error', listener: () => void): unknown }): ReadGate {
  const parsers = socket.listeners('data') as ((chunk: Buffer) => void)[];
  for (const parser of parsers) socket.removeListener('data', parser);
  let stopped = false;
  // ws stops its own parser on a frame error; feeding it more afterwards would write to a dead stream.
  stopOn.once('error', () => (stopped = true));
  socket.on('data', (chunk: Buffer) => {
    for (let offset = 0; offset < chunk.length && !stopped; offset += READ_SLICE_BYTES) {
      const slice = chunk.subarray(offset, offset + READ_SLICE_BYTES);
      for (const parser of parsers) parser.call(socket, slice);
    }
  });
  return {
    stop: () => {
      if (stopped) return;
      stopped = true;
      socket.pause();
      socket.end();
    },
  };
}
