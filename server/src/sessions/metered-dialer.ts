/**
 * Wraps the dialer of one connection: times the TCP connect to the VM for the metrics and tracks
 * the socket so a graceful stop can wait for it to close.
 */
import { performance } from 'node:perf_hooks';
import type { Dialer } from '../protocols/dialer.js';
import { closedPromise, type DrainTracker } from './drain.js';
import type { ConnectionKind } from '../../../shared/src/protocol/kinds.js';

const MS_PER_SECOND = 1000;

export function meteredDialer(
  dialer: Dialer,
  kind: ConnectionKind,
  onConnect: (kind: ConnectionKind, seconds: number, ok: boolean) => void,
  tracker: DrainTracker,
): Dialer {
  return {
    async dial(target, signal, options) {
      const started = performance.now();
      const elapsed = (): number => (performance.now() - started) / MS_PER_SECOND;
      try {
        const socket = await dialer.dial(target, signal, options);
        onConnect(kind, elapsed(), true);
        tracker.track(closedPromise(socket));
        return socket;
      } catch (error) {
        // A dial the user's own leaving aborted says nothing about the VM.
        if (!signal.aborted) onConnect(kind, elapsed(), false);
        throw error;
      }
    },
  };
}
