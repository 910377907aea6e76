/**
 * A timestamping TCP relay in its own process, put between the gateway and a VM daemon: it tells
 * when the gateway closed each upstream connection, without touching the gateway.
 *
 *   argv[2]: JSON [{host, port}, …] targets; answers {type:'listening', ports:[…]}
 *   {type:'report'} → {type:'report', opened, closedAt:[epoch ms, …]} per target
 */
import net from 'node:net';

interface Target {
  readonly host: string;
  readonly port: number;
}

interface Stats {
  opened: number;
  closedAt: number[];
}

/** Epoch milliseconds with sub-millisecond precision, comparable across processes. */
const nowMs = (): number => performance.timeOrigin + performance.now();

function relay(target: Target, stats: Stats): Promise<number> {
  const server = net.createServer((downstream) => {
    stats.opened += 1;
    downstream.setNoDelay(true);
    const upstream = net.connect(target);
    upstream.setNoDelay(true);
    let recorded = false;
    // The gateway's FIN (or RST) is the moment it let go of the VM connection.
    const gatewayClosed = (): void => {
      if (recorded) return;
      recorded = true;
      stats.closedAt.push(nowMs());
      upstream.end();
    };
    downstream.on('end', gatewayClosed);
    downstream.on('close', gatewayClosed);
    downstream.on('error', gatewayClosed);
    upstream.on('error', () => downstream.destroy());
    upstream.on('close', () => downstream.destroy());
    downstream.pipe(upstream);
    upstream.pipe(downstream);
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done((server.address() as net.AddressInfo).port)));
}

async function main(): Promise<void> {
  const targets = JSON.parse(process.argv[2] ?? '[]') as Target[];
  const stats = targets.map(() => ({ opened: 0, closedAt: [] as number[] }));
  const ports = await Promise.all(targets.map((t, i) => relay(t, stats[i] ?? { opened: 0, closedAt: [] })));
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: { type: string }) => {
    if (m.type === 'report') process.send?.({ type: 'report', stats });
    if (m.type === 'reset') for (const s of stats) s.closedAt = [];
  });
  process.send?.({ type: 'listening', ports });
}

void main();
