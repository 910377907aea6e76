import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutputBatcher, planChunk } from '../../server/src/flow/output-batcher.js';

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

test('chunk plan: full batches go now, smaller ones at the end of the turn, none grows past the limit', () => {
  assert.deepEqual(planChunk(0, 1, 100), { flushFirst: false, then: 'end-of-turn' });
  assert.deepEqual(planChunk(0, 99, 100), { flushFirst: false, then: 'end-of-turn' });
  assert.deepEqual(planChunk(0, 100, 100), { flushFirst: false, then: 'now' });
  assert.deepEqual(planChunk(60, 40, 100), { flushFirst: false, then: 'now' });
  assert.deepEqual(planChunk(60, 30, 100), { flushFirst: false, then: 'end-of-turn' });
  // 60 + 50 would overflow: the 60 go first, the 50 start the next batch.
  assert.deepEqual(planChunk(60, 50, 100), { flushFirst: true, then: 'end-of-turn' });
  // A single chunk larger than the limit is sent alone, at once.
  assert.deepEqual(planChunk(0, 500, 100), { flushFirst: false, then: 'now' });
  assert.deepEqual(planChunk(10, 500, 100), { flushFirst: true, then: 'now' });
  // Exhaustively: a sent batch never exceeds the limit unless it is one oversized chunk.
  for (let pending = 0; pending < 100; pending += 7) {
    for (let chunk = 1; chunk < 250; chunk += 11) {
      const plan = planChunk(pending, chunk, 100);
      const batchAfter = (plan.flushFirst ? 0 : pending) + chunk;
      assert.ok(batchAfter <= 100 || batchAfter === chunk, `${pending}+${chunk}`);
      if (!plan.flushFirst) assert.ok(pending + chunk <= 100 || pending === 0, `${pending}+${chunk} kept together`);
    }
  }
});

test('chunks of one turn leave as one message, in order, and nothing waits past the turn', () => {
  const turns = manualTurns();
  const sent: string[] = [];
  const batcher = new OutputBatcher((b) => sent.push(b.toString()), 1024, turns.schedule);
  batcher.push(Buffer.from('ab'));
  batcher.push(Buffer.from('cd'));
  batcher.push(Buffer.from('e'));
  assert.deepEqual(sent, []);
  assert.equal(turns.pending(), 1, 'one end-of-turn flush, however many chunks');
  turns.endTurn();
  assert.deepEqual(sent, ['abcde']);
  assert.equal(batcher.pendingBytes, 0);
});

test('a lone chunk (a keystroke echo) is sent as is at the end of its turn', () => {
  const turns = manualTurns();
  const chunk = Buffer.from('x');
  const sent: Buffer[] = [];
  const batcher = new OutputBatcher((b) => sent.push(b), 1024, turns.schedule);
  batcher.push(chunk);
  turns.endTurn();
  assert.equal(sent.length, 1);
  assert.equal(sent[0], chunk, 'no copy for a single chunk');
});

test('a batch that reaches the limit is sent at once; the rest waits for the end of the turn', () => {
  const turns = manualTurns();
  const sent: string[] = [];
  const batcher = new OutputBatcher((b) => sent.push(b.toString()), 4, turns.schedule);
  batcher.push(Buffer.from('ab'));
  batcher.push(Buffer.from('cd'));
  assert.deepEqual(sent, ['abcd']);
  batcher.push(Buffer.from('e'));
  assert.deepEqual(sent, ['abcd']);
  turns.endTurn();
  assert.deepEqual(sent, ['abcd', 'e']);
  turns.endTurn();
  assert.deepEqual(sent, ['abcd', 'e'], 'an empty flush sends nothing');
});

test('a chunk that would overflow the batch starts the next one; order is kept', () => {
  const turns = manualTurns();
  const sent: string[] = [];
  const batcher = new OutputBatcher((b) => sent.push(b.toString()), 4, turns.schedule);
  batcher.push(Buffer.from('abc'));
  batcher.push(Buffer.from('de'));
  assert.deepEqual(sent, ['abc']);
  turns.endTurn();
  assert.deepEqual(sent, ['abc', 'de']);
});

test('turn after turn, each turn gets its own message', () => {
  const turns = manualTurns();
  const sent: string[] = [];
  const batcher = new OutputBatcher((b) => sent.push(b.toString()), 1024, turns.schedule);
  for (const text of ['one', 'two', 'three']) {
    batcher.push(Buffer.from(text));
    turns.endTurn();
  }
  assert.deepEqual(sent, ['one', 'two', 'three']);
});

test('after discard nothing is sent, pending or later', () => {
  const turns = manualTurns();
  const sent: string[] = [];
  const batcher = new OutputBatcher((b) => sent.push(b.toString()), 1024, turns.schedule);
  batcher.push(Buffer.from('lost'));
  batcher.discard();
  batcher.push(Buffer.from('also lost'));
  turns.endTurn();
  batcher.flush();
  assert.deepEqual(sent, []);
});

test('empty chunks are ignored', () => {
  const turns = manualTurns();
  const sent: Buffer[] = [];
  const batcher = new OutputBatcher((b) => sent.push(b), 1024, turns.schedule);
  batcher.push(Buffer.alloc(0));
  assert.equal(turns.pending(), 0);
  turns.endTurn();
  assert.deepEqual(sent, []);
});

test('with the real scheduler, output of one turn is coalesced and sent before timers run', async () => {
  const sent: string[] = [];
  const batcher = new OutputBatcher((b) => sent.push(b.toString()), 1024);
  batcher.push(Buffer.from('a'));
  batcher.push(Buffer.from('b'));
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.deepEqual(sent, ['ab']);
});
