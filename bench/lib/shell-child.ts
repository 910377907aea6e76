/**
 * A terminal client in its own process, driven by its parent over IPC: either the ssh2 library as
 * a direct client (its CPU is then this process's alone), or a browser-like WebSocket client of the
 * gateway (so consuming the gateway's output never competes with the measuring process).
 *
 *   parent → child  {type:'run', id, command, marker}  write command, count bytes until the marker
 *                   {type:'write', data}               write bytes (start a flood, Ctrl-C)
 *   child → parent  {type:'ready', cipher}             shell open
 *                   {type:'done', id, bytes, ms}       marker seen
 *
 * The child exits when its parent goes away, so a killed bench leaves no client behind.
 */
import ssh2 from 'ssh2';
import { WebSocket } from 'ws';
import { AckCounter } from '../../client/src/terminal/flow-control.js';
import { MarkerScanner } from './marker.js';
import { TICKET_SUBPROTOCOL_PREFIX } from '../../shared/src/protocol/kinds.js';

export type ShellChildConfig =
  | {
      readonly mode: 'ssh2';
      readonly host: string;
      readonly port: number;
      readonly username: string;
      readonly privateKey: string;
      readonly cols: number;
      readonly rows: number;
    }
  | {
      readonly mode: 'gateway';
      readonly url: string;
      readonly protocol: string;
      readonly ticket: string;
      readonly origin: string;
      readonly cols: number;
      readonly rows: number;
    };

export type ToChild = { type: 'run'; id: number; command: string; marker: string } | { type: 'write'; data: string };
export type FromChild = { type: 'ready'; cipher: string | null } | { type: 'done'; id: number; bytes: number; ms: number } | { type: 'failed'; message: string };

interface Shell {
  write(data: Buffer): void;
  onData(listener: (chunk: Buffer) => void): void;
}

function send(message: FromChild): void {
  process.send?.(message);
}

async function openSsh2(config: Extract<ShellChildConfig, { mode: 'ssh2' }>): Promise<{ shell: Shell; cipher: string | null }> {
  const client = new ssh2.Client();
  let cipher: string | null = null;
  client.on('handshake', (negotiated) => {
    cipher = negotiated.sc.cipher;
  });
  const channel = await new Promise<ssh2.ClientChannel>((done, fail) => {
    client.on('ready', () => client.shell({ term: 'xterm-256color', cols: config.cols, rows: config.rows }, (error, ch) => (error ? fail(error) : done(ch))));
    client.on('error', fail);
    client.connect({ host: config.host, port: config.port, username: config.username, privateKey: config.privateKey });
  });
  client.setNoDelay(true);
  channel.stderr.on('data', () => undefined);
  return { shell: { write: (data) => channel.write(data), onData: (l) => channel.on('data', l) }, cipher };
}

async function openGateway(config: Extract<ShellChildConfig, { mode: 'gateway' }>): Promise<{ shell: Shell; cipher: string | null }> {
  const ws = new WebSocket(config.url, [config.protocol, `${TICKET_SUBPROTOCOL_PREFIX}${config.ticket}`], { headers: { Origin: config.origin }, perMessageDeflate: false });
  const listeners: ((chunk: Buffer) => void)[] = [];
  // Acknowledge as the page does: a frame counts as parsed once this turn of the event loop is
  // over (xterm.js parses queued writes in one go), and acks are batched by the page's own counter.
  const acks = new AckCounter();
  await new Promise<void>((done, fail) => {
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) {
        if ((JSON.parse(data.toString('utf8')) as { type: string }).type === 'ready') done();
        return;
      }
      acks.received();
      for (const l of listeners) l(data);
      setImmediate(() => {
        const ack = acks.parsed(data.length);
        if (ack > 0 && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'ack', bytes: ack }));
      });
    });
    ws.once('open', () => ws.send(JSON.stringify({ type: 'resize', cols: config.cols, rows: config.rows })));
    ws.once('error', fail);
    ws.once('close', (code) => fail(new Error(`gateway closed the terminal (${code})`)));
  });
  ws.on('close', () => process.exit(0));
  return { shell: { write: (data) => ws.send(data), onData: (l) => listeners.push(l) }, cipher: null };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as ShellChildConfig;
  process.on('disconnect', () => process.exit(0));
  const { shell, cipher } = config.mode === 'ssh2' ? await openSsh2(config) : await openGateway(config);
  let run: { id: number; scanner: MarkerScanner; started: number; bytes: number } | null = null;
  shell.onData((chunk) => {
    if (!run) return;
    run.bytes += chunk.length;
    if (run.scanner.push(chunk)) {
      send({ type: 'done', id: run.id, bytes: run.bytes, ms: performance.now() - run.started });
      run = null;
    }
  });
  process.on('message', (message: ToChild) => {
    if (message.type === 'run') {
      run = { id: message.id, scanner: new MarkerScanner(message.marker), started: performance.now(), bytes: 0 };
      shell.write(Buffer.from(message.command, 'latin1'));
    } else shell.write(Buffer.from(message.data, 'latin1'));
  });
  send({ type: 'ready', cipher });
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
