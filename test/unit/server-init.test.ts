import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkServerInit, MAX_DESKTOP_NAME_BYTES } from '../../server/src/protocols/vnc/server-init.js';

function serverInit(width: number, height: number, name: string, bitsPerPixel = 32, declaredNameLength?: number): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const head = Buffer.alloc(24);
  head.writeUInt16BE(width, 0);
  head.writeUInt16BE(height, 2);
  head.writeUInt8(bitsPerPixel, 4);
  head.writeUInt32BE(declaredNameLength ?? nameBytes.length, 20);
  return Buffer.concat([head, nameBytes]);
}

test('a normal ServerInit is complete at its exact length, whatever follows', () => {
  const init = serverInit(1280, 800, 'runner:1 <b>desk</b>');
  assert.deepEqual(checkServerInit(init), { state: 'complete', length: init.length });
  assert.deepEqual(checkServerInit(Buffer.concat([init, Buffer.from([0, 0, 0, 1])])), { state: 'complete', length: init.length });
});

test('a ServerInit arriving in pieces is incomplete until the name is whole', () => {
  const init = serverInit(1024, 768, 'desktop');
  for (let cut = 0; cut < init.length; cut += 1) assert.deepEqual(checkServerInit(init.subarray(0, cut)), { state: 'incomplete' });
});

test('absurd sizes, pixel formats and name lengths are refused before the name arrives', () => {
  assert.equal(checkServerInit(serverInit(0, 800, 'x')).state, 'invalid');
  assert.equal(checkServerInit(serverInit(65535, 65535, 'x')).state, 'invalid');
  assert.equal(checkServerInit(serverInit(1280, 800, 'x', 24)).state, 'invalid');
  assert.equal(checkServerInit(serverInit(1280, 800, '', 32, 0xffffffff)).state, 'invalid');
  assert.equal(checkServerInit(serverInit(1280, 800, '', 32, MAX_DESKTOP_NAME_BYTES + 1)).state, 'invalid');
  assert.equal(checkServerInit(serverInit(1280, 800, 'a'.repeat(MAX_DESKTOP_NAME_BYTES))).state, 'complete');
});
