/** The held session a tab comes back to after a reload (client/src/session/session-memory.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionMemory, type SessionStore } from '../../client/src/session/session-memory.js';

class MapStore implements SessionStore {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

const HELD = { id: 's-1', resumeSeconds: 300, hostKey: 'SHA256:abc' };

test('session memory: kept per kind and build, read back, forgotten', () => {
  const store = new MapStore();
  const memory = new SessionMemory(store, 'ssh', 'build-7');
  assert.equal(memory.read(), null);
  memory.remember(HELD);
  assert.deepEqual([...store.items.keys()], ['porthole.session.ssh.build-7']);
  assert.deepEqual(memory.read(), HELD);
  assert.equal(new SessionMemory(store, 'ssh', 'build-8').read(), null, 'another build');
  assert.equal(new SessionMemory(store, 'vnc', 'build-7').read(), null, 'another kind');
  memory.forget();
  assert.equal(memory.read(), null);
  assert.equal(store.items.size, 0);
});

test('session memory: anything this page did not write reads as nothing', () => {
  const store = new MapStore();
  const memory = new SessionMemory(store, 'ssh', 'b');
  for (const raw of [
    'not json',
    'null',
    '"s-1"',
    '[]',
    JSON.stringify({ id: '', resumeSeconds: 300, hostKey: 'k' }),
    JSON.stringify({ id: 's', resumeSeconds: 0, hostKey: 'k' }),
    JSON.stringify({ id: 's', resumeSeconds: 1.5, hostKey: 'k' }),
    JSON.stringify({ id: 's', resumeSeconds: '300', hostKey: 'k' }),
    JSON.stringify({ id: 's', resumeSeconds: 300 }),
  ]) {
    store.items.set('porthole.session.ssh.b', raw);
    assert.equal(memory.read(), null, raw);
  }
});

test('session memory: no storage, or storage that throws, keeps nothing and breaks nothing', () => {
  const none = new SessionMemory(null, 'ssh', 'b');
  none.remember(HELD);
  assert.equal(none.read(), null);
  none.forget();

  const refusing: SessionStore = {
    getItem: () => {
      throw new Error('SecurityError');
    },
    setItem: () => {
      throw new Error('QuotaExceededError');
    },
    removeItem: () => {
      throw new Error('SecurityError');
    },
  };
  const memory = new SessionMemory(refusing, 'ssh', 'b');
  memory.remember(HELD);
  assert.equal(memory.read(), null);
  memory.forget();
});
