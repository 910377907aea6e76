/** A page reading a terminal session's output log at its own pace (server/src/protocols/ssh/viewer.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WebSocket } from 'ws';
import { OutputLog } from '../../server/src/protocols/ssh/output-log.js';
import { TerminalViewer, type ViewerLimits } from '../../server/src/protocols/ssh/viewer.js';

const LIMITS: ViewerLimits = { unackedHighBytes: 100, bufferedHighBytes: 1_000, batchBytes: 40, wholeBatchesAboveBytes: 60 };

/** A scheduler the test turns by hand: the "end of the event-loop turn" happens when we say. */
function manualTurns(): { schedule: (cb: () => void) => void; endTurn: () => void; pending: () => number } {
  let queue: (() => void)[] = [];
  return {
    schedule: (cb) => queue.push(cb),
    endTurn: () => {
      const run = queue;
      queue = [];
      for (const cb of run) cb();
    },
    pending: () => queue.length,
  };
}

interface FakeSocket {
  readonly ws: WebSocket;
  readonly sent: Buffer[];
  /** Completes the sends so far, as the socket taking them would. */
  flush(): void;
  setBuffered(bytes: number): void;
}

function fakeSocket(): FakeSocket {
  const sent: Buffer[] = [];
  let callbacks: (() => void)[] = [];
  let buffered = 0;
  const ws = {
    OPEN: 1,
    readyState: 1,
    get bufferedAmount() {
      return buffered;
    },
    send(data: Buffer, _options: unknown, cb: () => void) {
      sent.push(Buffer.from(data));
      callbacks.push(cb);
    },
  } as unknown as WebSocket;
  return {
    ws,
    sent,
    flush: () => {
      const run = callbacks;
      callbacks = [];
      for (const cb of run) cb();
    },
    setBuffered: (bytes) => (buffered = bytes),
  };
}

function setup(minBytes = 1_000): { log: OutputLog; socket: FakeSocket; turns: ReturnType<typeof manualTurns>; viewer: TerminalViewer; skipped: () => number; progressed: () => number } {
  const log = new OutputLog(minBytes);
  const socket = fakeSocket();
  const turns = manualTurns();
  let skipped = 0;
  let progressed = 0;
  const viewer = new TerminalViewer(
    { ws: socket.ws, readGate: { stop: () => undefined } },
    log,
    0,
    LIMITS,
    { sent: () => undefined, progressed: () => (progressed += 1), skipped: () => (skipped += 1) },
    turns.schedule,
  );
  return { log, socket, turns, viewer, skipped: () => skipped, progressed: () => progressed };
}

test('output of one turn leaves as one message at the end of the turn; a lone chunk goes as is', () => {
  const { log, socket, turns, viewer } = setup();
  log.append(Buffer.from('ab'));
  viewer.notify();
  log.append(Buffer.from('cd'));
  viewer.notify();
  assert.equal(turns.pending(), 1, 'one send per turn, however many chunks');
  assert.deepEqual(socket.sent, []);
  turns.endTurn();
  assert.deepEqual(socket.sent.map(String), ['abcd']);
  log.append(Buffer.from('x'));
  viewer.notify();
  turns.endTurn();
  assert.deepEqual(socket.sent.map(String), ['abcd', 'x']);
  assert.equal(viewer.unacked, 5);
  assert.equal(viewer.pending, 5);
});

test('messages are cut at the batch size, and nothing beyond the unacknowledged mark is handed over until acks come', () => {
  const { log, socket, turns, viewer } = setup();
  log.append(Buffer.alloc(150, 1));
  viewer.notify();
  turns.endTurn();
  assert.deepEqual(
    socket.sent.map((b) => b.length),
    [40, 40, 40],
    'stops once 100 or more are unacknowledged',
  );
  assert.equal(viewer.pending, 150);
  viewer.acknowledge(80);
  turns.endTurn();
  assert.deepEqual(
    socket.sent.map((b) => b.length),
    [40, 40, 40, 30],
  );
  assert.equal(viewer.ackedOffset, 80);
  viewer.acknowledge(10_000);
  assert.equal(viewer.unacked, 0, 'credit beyond what was sent is ignored');
});

test('a page well behind is handed whole messages only: the rest goes once more output fills one, or with its next ack', () => {
  const { log, socket, turns, viewer } = setup();
  const sizes = (): number[] => socket.sent.map((b) => b.length);
  log.append(Buffer.alloc(100, 1));
  viewer.notify();
  turns.endTurn();
  assert.deepEqual(sizes(), [40, 40], 'with 80 unacknowledged the last 20 wait');
  log.append(Buffer.alloc(10, 1));
  viewer.notify();
  turns.endTurn();
  assert.deepEqual(sizes(), [40, 40], 'still less than a message');
  log.append(Buffer.alloc(15, 1));
  viewer.notify();
  turns.endTurn();
  assert.deepEqual(sizes(), [40, 40, 40], 'a whole message goes at once');
  viewer.acknowledge(70);
  turns.endTurn();
  assert.deepEqual(sizes(), [40, 40, 40, 5], 'caught up enough: the tail goes');
  assert.equal(viewer.pending, 55);
});

test('a socket that queues too much is handed nothing until it has sent', () => {
  const { log, socket, turns, viewer, progressed } = setup();
  socket.setBuffered(2_000);
  log.append(Buffer.from('held back'));
  viewer.notify();
  turns.endTurn();
  assert.deepEqual(socket.sent, []);
  socket.setBuffered(0);
  viewer.notify();
  turns.endTurn();
  assert.deepEqual(socket.sent.map(String), ['held back']);
  socket.flush();
  assert.equal(progressed(), 1, 'the socket taking a message is progress the bridge hears of');
});

test('a page the log has left behind goes on from the oldest whole line held, and is told', () => {
  const { log, socket, turns, viewer, skipped } = setup(10);
  for (const chunk of ['line one\nline', ' two\nline three\n', 'x']) log.append(Buffer.from(chunk));
  // The log drops whole chunks older than its last 10 bytes (and than what another page acknowledged).
  log.trim(log.end);
  viewer.notify();
  turns.endTurn();
  assert.equal(skipped(), 1);
  assert.deepEqual(socket.sent.map(String), ['line three\nx']);
});

test('a page that reads nothing is not told again and again that it missed output: once, when it reads again', () => {
  const { log, socket, turns, viewer, skipped } = setup(10);
  log.append(Buffer.alloc(120, 0x61));
  viewer.notify();
  turns.endTurn();
  assert.equal(viewer.unacked, 120, 'as much as it may have unacknowledged');
  const handed = socket.sent.length;
  for (let i = 0; i < 50; i++) {
    log.append(Buffer.from(`line ${i}\n`));
    log.trim(log.end);
    viewer.notify();
    turns.endTurn();
  }
  assert.equal(turns.pending(), 0, 'nothing is even scheduled for it');
  assert.equal(skipped(), 0, 'no notice queues in a socket nobody reads');
  assert.equal(socket.sent.length, handed);
  viewer.acknowledge(120);
  turns.endTurn();
  assert.equal(skipped(), 1, 'told once, as it reads again');
  assert.match(String(socket.sent.at(-1)), /^line 4\d\n/);
});

test('a stopped viewer sends nothing, even what was already scheduled', () => {
  const { log, socket, turns, viewer } = setup();
  log.append(Buffer.from('late'));
  viewer.notify();
  viewer.stop();
  turns.endTurn();
  assert.deepEqual(socket.sent, []);
});
