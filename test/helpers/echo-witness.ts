/**
 * A legitimate terminal that keeps echoing while an attack runs on the same gateway: each round
 * types a command whose output differs from its echo, and times the round trip. Attack tests use
 * it to show the gateway kept answering everyone else.
 */
import { WebSocket } from 'ws';
import { TICKET_SUBPROTOCOL_PREFIX } from '../../shared/src/protocol/kinds.js';

/** A round trip slower than this is a frozen gateway, not a slow one. */
const ROUND_LIMIT_MS = 10_000;

export interface EchoWitness {
  /** Round-trip times so far, in ms. */
  rounds(): readonly number[];
  /** Resolves once `count` rounds have completed in all. */
  roundsDone(count: number): Promise<void>;
  /** Stops after the round in flight and returns every round-trip time (ms). */
  stop(): Promise<number[]>;
}

export async function startEchoWitness(minted: { readonly url: string; readonly protocol: string; readonly ticket: string }, origin: string): Promise<EchoWitness> {
  const ws = new WebSocket(minted.url, [minted.protocol, `${TICKET_SUBPROTOCOL_PREFIX}${minted.ticket}`], { headers: { Origin: origin } });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'resize', cols: 80, rows: 24 }));
  let output = '';
  let waiting: { marker: string; resolve: () => void } | null = null;
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) return;
    ws.send(JSON.stringify({ type: 'ack', bytes: data.length }));
    output += data.toString('latin1');
    if (waiting && output.includes(waiting.marker)) waiting.resolve();
  });
  const rounds: number[] = [];
  const roundWaiters: { count: number; resolve: () => void }[] = [];
  let running = true;
  const loop = (async () => {
    for (let n = 0; running; n += 1) {
      // The shell prints the product; the echoed command line shows only the expression.
      const marker = `witness-${n * 7}`;
      const started = performance.now();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`echo ${n} did not come back in ${ROUND_LIMIT_MS} ms`)), ROUND_LIMIT_MS);
        waiting = {
          marker,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        if (output.includes(marker)) waiting.resolve();
        output = '';
        ws.send(Buffer.from(`echo witness-$((${n}*7))\r`));
      });
      rounds.push(performance.now() - started);
      for (const waiter of roundWaiters.filter((w) => rounds.length >= w.count)) {
        roundWaiters.splice(roundWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  })();
  return {
    rounds: () => rounds,
    roundsDone: (count) => (rounds.length >= count ? Promise.resolve() : new Promise((resolve) => roundWaiters.push({ count, resolve }))),
    stop: async () => {
      running = false;
      await loop;
      ws.close();
      return rounds;
    },
  };
}
