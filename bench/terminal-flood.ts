/**
 * `yes` flood through the gateway: gateway RSS growth over the flood, and the time from Ctrl-C to
 * the shell prompt, with a WebSocket client that acknowledges output at a browser-like parse rate.
 *
 *   npm run build && node --import tsx bench/terminal-flood.ts [seconds]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startSshd } from '../test/helpers/sshd.js';
import { startBenchGateway } from './lib/gateway-process.js';

/** xterm.js parses 5–35 MB/s; the middle of that range stands in for a browser tab. */
const BROWSER_PARSE_BYTES_PER_S = 20 * 1024 * 1024;
const DEFAULT_FLOOD_S = 30;
const SAMPLE_INTERVAL_MS = 250;
const PROMPT_TIMEOUT_MS = 30_000;

async function main(): Promise<void> {
  const floodSeconds = Number(process.argv[2] ?? DEFAULT_FLOOD_S);
  const sshd = await startSshd();
  const gateway = await startBenchGateway(sshd);
  try {
    const ws = await gateway.openTerminal();
    // A browser-like consumer: output is "parsed" at a fixed rate and acknowledged when parsed.
    let parsedUntil = performance.now();
    let received = 0;
    let tail = '';
    const onParsed: (() => void)[] = [];
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) return;
      received += data.length;
      parsedUntil = Math.max(parsedUntil, performance.now()) + (data.length / BROWSER_PARSE_BYTES_PER_S) * 1000;
      setTimeout(() => {
        tail = (tail + data.toString('latin1')).slice(-4096);
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'ack', bytes: data.length }));
        for (const f of onParsed.splice(0)) f();
      }, Math.max(0, parsedUntil - performance.now()));
    });
    const waitFor = (pattern: RegExp): Promise<void> =>
      new Promise((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`timed out waiting for ${String(pattern)}`)), PROMPT_TIMEOUT_MS);
        const check = (): void => {
          if (pattern.test(tail)) {
            clearTimeout(timer);
            done();
          } else onParsed.push(check);
        };
        check();
      });
    await waitFor(/\$ $/);

    const before = gateway.rssBytes();
    ws.send(Buffer.from('yes porthole-bench-flood\r'));
    const samples: number[] = [];
    const started = performance.now();
    const receivedAtStart = received;
    await new Promise<void>((done) => {
      const sampler = setInterval(() => {
        samples.push(gateway.rssBytes());
        if (performance.now() - started >= floodSeconds * 1000) {
          clearInterval(sampler);
          done();
        }
      }, SAMPLE_INTERVAL_MS);
    });
    const floodBytes = received - receivedAtStart;
    tail = '';
    const ctrlC = performance.now();
    ws.send(Buffer.from([3]));
    await waitFor(/\^C[\s\S]*\$ $/);
    const promptMs = performance.now() - ctrlC;
    ws.close();

    const result = {
      date: new Date().toISOString(),
      node: process.version,
      floodSeconds,
      browserParseBytesPerSecond: BROWSER_PARSE_BYTES_PER_S,
      throughputMBps: floodBytes / floodSeconds / 1e6,
      gatewayRssBeforeMiB: before / 2 ** 20,
      gatewayRssPeakMiB: Math.max(...samples) / 2 ** 20,
      gatewayRssGrowthMiB: (Math.max(...samples) - before) / 2 ** 20,
      ctrlCToPromptMs: promptMs,
    };
    console.log(JSON.stringify(result, null, 2));
    const out = resolve(import.meta.dirname, 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'terminal-flood.json'), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await gateway.stop();
    await sshd.stop();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
