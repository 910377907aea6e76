/** The pipelined SFTP streams (server/src/files/sftp-streams.ts) against an SFTP fake that answers out of order. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';
import { SFTP_REQUEST_BYTES, SFTP_REQUESTS_IN_FLIGHT, SftpReadStream, SftpWriteStream } from '../../server/src/files/sftp-streams.js';

type Done = () => void;

/** A file served by read requests it answers when told, at most `maxAnswer` bytes each (as OpenSSH may). */
function fakeReader(file: Buffer, maxAnswer = Number.POSITIVE_INFINITY): { sftp: SFTPWrapper; pending: Done[]; peak: () => number } {
  const pending: Done[] = [];
  let peak = 0;
  const sftp = {
    read(_handle: Buffer, buffer: Buffer, offset: number, length: number, position: number, callback: (error: Error | null, bytes: number, buffer: Buffer) => void) {
      pending.push(() => {
        if (position >= file.length) return callback(Object.assign(new Error('EOF'), { code: 1 }), 0, buffer);
        const n = file.copy(buffer, offset, position, Math.min(file.length, position + Math.min(length, maxAnswer)));
        callback(null, n, buffer);
      });
      peak = Math.max(peak, pending.length);
    },
  } as unknown as SFTPWrapper;
  return { sftp, pending, peak: () => peak };
}

/** Answers pending requests last first, until none are left. */
async function answerBackwards(pending: Done[], until: () => boolean): Promise<void> {
  while (!until()) {
    const next = pending.pop();
    if (next) next();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

test('reads: answered out of order and short, the bytes come out in order, never more than the limit in flight', async () => {
  const file = randomBytes(SFTP_REQUEST_BYTES * 40 + 123);
  const { sftp, pending, peak } = fakeReader(file, 20_000);
  const stream = new SftpReadStream(sftp, Buffer.alloc(4), 1000, file.length - 1);
  let done = false;
  const result = collect(stream).finally(() => (done = true));
  await answerBackwards(pending, () => done);
  assert.ok((await result).equals(file.subarray(1000)));
  assert.ok(peak() <= SFTP_REQUESTS_IN_FLIGHT, `at most ${SFTP_REQUESTS_IN_FLIGHT} in flight (saw ${peak()})`);
});

test('reads: a file shorter than measured ends the stream early, without an error', async () => {
  const file = randomBytes(SFTP_REQUEST_BYTES * 3);
  const { sftp, pending } = fakeReader(file);
  const stream = new SftpReadStream(sftp, Buffer.alloc(4), 0, file.length * 2 - 1);
  let done = false;
  const result = collect(stream).finally(() => (done = true));
  await answerBackwards(pending, () => done);
  assert.ok((await result).equals(file));
});

test('reads: a consumer that reads nothing gets no more than the buffer asks for', async () => {
  const file = randomBytes(SFTP_REQUEST_BYTES * 200);
  const { sftp, pending } = fakeReader(file);
  const stream = new SftpReadStream(sftp, Buffer.alloc(4), 0, file.length - 1);
  let asked = 0;
  stream.on('readable', () => undefined);
  for (let round = 0; round < 100 && pending.length > 0; round += 1) {
    asked += pending.length;
    for (const answer of pending.splice(0)) answer();
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.ok(asked * SFTP_REQUEST_BYTES <= 3 * SFTP_REQUEST_BYTES * SFTP_REQUESTS_IN_FLIGHT, `read ahead ${asked} requests for a reader that took nothing`);
  stream.destroy();
});

test('writes: every byte at its position, several in flight, the callback held past the limit, finished only when all are answered', async () => {
  const file = Buffer.alloc(SFTP_REQUEST_BYTES * 40 + 7);
  const source = randomBytes(file.length);
  const pending: Done[] = [];
  let peak = 0;
  const sftp = {
    write(_handle: Buffer, buffer: Buffer, offset: number, length: number, position: number, callback: (error: Error | null) => void) {
      const bytes = Buffer.from(buffer.subarray(offset, offset + length));
      pending.push(() => {
        bytes.copy(file, position);
        callback(null);
      });
      peak = Math.max(peak, pending.length);
    },
  } as unknown as SFTPWrapper;
  let done = false;
  const chunks = Array.from({ length: Math.ceil(source.length / 40_000) }, (_, i) => source.subarray(i * 40_000, (i + 1) * 40_000));
  const written = pipeline(Readable.from(chunks), new SftpWriteStream(sftp, Buffer.alloc(4))).finally(() => (done = true));
  await answerBackwards(pending, () => done);
  await written;
  assert.ok(file.equals(source));
  assert.ok(peak <= SFTP_REQUESTS_IN_FLIGHT + 1, `about ${SFTP_REQUESTS_IN_FLIGHT} in flight (saw ${peak})`);
});

test('writes: a refused write fails the stream', async () => {
  const sftp = {
    write(_h: Buffer, _b: Buffer, _o: number, _l: number, _p: number, callback: (error: Error | null) => void) {
      setImmediate(() => callback(new Error('disk full')));
    },
  } as unknown as SFTPWrapper;
  await assert.rejects(pipeline(Readable.from([Buffer.alloc(10)]), new SftpWriteStream(sftp, Buffer.alloc(4))), /disk full/);
});
