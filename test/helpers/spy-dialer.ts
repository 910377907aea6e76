/** A real TCP dialer that records every dial, so tests can prove a refusal dialled nothing. */
import { tcpDialer, type Dialer, type DialTarget } from '../../server/src/protocols/dialer.js';

export interface SpyDialer extends Dialer {
  readonly dials: DialTarget[];
}

export function spyDialer(): SpyDialer {
  const dials: DialTarget[] = [];
  return {
    dials,
    dial(target, signal, options) {
      dials.push(target);
      return tcpDialer.dial(target, signal, options);
    },
  };
}
