/**
 * A Node process's memory as its own inspector reports it right after full garbage collections:
 * what a leak check compares. RSS samples and peaks swing by tens of MiB with GC timing and heap
 * sizing on a loaded machine; memory measured after collecting does not.
 */
import WebSocket from 'ws';

/** process.memoryUsage() of the inspected process, after collecting. */
export interface MemoryAfterGc {
  readonly rss: number;
  /** What V8 has reserved for its heap, used or not: RSS it may keep after collecting. */
  readonly heapTotal: number;
  readonly heapUsed: number;
  /** Memory of C++ objects bound to JS ones, Buffers included. */
  readonly external: number;
}

/** Weak callbacks of collected Buffers run after a collection; a second one settles them. */
const COLLECTIONS = 2;
/** An inspector that does not answer this fast is a hung process. */
const ANSWER_TIMEOUT_MS = 30_000;

/** The inspector's WebSocket address from the "Debugger listening on ws://…" line Node prints. */
export function inspectorUrlIn(log: string): string | null {
  return /Debugger listening on (ws:\/\/\S+)/.exec(log)?.[1] ?? null;
}

export async function memoryAfterGc(inspectorUrl: string): Promise<MemoryAfterGc> {
  const ws = new WebSocket(inspectorUrl);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let nextId = 1;
  const call = (method: string, params: Record<string, unknown> = {}): Promise<unknown> => {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`inspector: no answer to ${method}`)), ANSWER_TIMEOUT_MS);
      const onMessage = (data: WebSocket.RawData): void => {
        const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as Uint8Array).toString('utf8');
        const message = JSON.parse(text) as { id?: number; result?: unknown; error?: { message: string } };
        if (message.id !== id) return;
        ws.off('message', onMessage);
        clearTimeout(timer);
        if (message.error) reject(new Error(`inspector: ${method}: ${message.error.message}`));
        else resolve(message.result);
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ id, method, params }));
    });
  };
  try {
    for (let i = 0; i < COLLECTIONS; i++) await call('HeapProfiler.collectGarbage');
    const result = (await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })) as {
      result: { value: string };
    };
    const usage = JSON.parse(result.result.value) as MemoryAfterGc;
    return { rss: usage.rss, heapTotal: usage.heapTotal, heapUsed: usage.heapUsed, external: usage.external };
  } finally {
    ws.close();
  }
}
