/** The registry of open window streams (server/src/sessions/window-watchers.ts), fed as the enforcer feeds it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { WindowWatchers, STREAM_ACCESS_ENDED_REASON, STREAM_SIGNED_OUT_REASON, type WindowWatcher } from '../../server/src/sessions/window-watchers.js';
import { AccessEnforcer } from '../../server/src/sessions/access-enforcer.js';
import type { AppId, BuildId, UserId } from '../../shared/src/ids.js';

interface Seen {
  changed: number;
  ended: string[];
}

function watcher(over: Partial<Omit<WindowWatcher, 'changed' | 'end'>> = {}): WindowWatcher & { seen: Seen } {
  const seen: Seen = { changed: 0, ended: [] };
  return {
    userId: 'dana' as UserId,
    appId: 'app-1' as AppId,
    buildId: 'build-1' as BuildId,
    signInId: 'browser-1',
    sessionEpoch: 'epoch-1',
    ...over,
    seen,
    changed: () => void (seen.changed += 1),
    end: (reason) => void seen.ended.push(reason),
  };
}

test('a window change reaches the streams of that build only', () => {
  const watchers = new WindowWatchers();
  const mine = watcher();
  const other = watcher({ buildId: 'build-2' as BuildId });
  assert.ok(watchers.add(mine).ok && watchers.add(other).ok);
  watchers.windowChanged('build-1' as BuildId);
  assert.equal(mine.seen.changed, 1);
  assert.equal(other.seen.changed, 0);
});

test('past the per-user cap a stream is refused; a closed one frees its slot, and removing twice frees one', () => {
  const watchers = new WindowWatchers(2);
  const first = watchers.add(watcher());
  assert.ok(first.ok);
  assert.ok(watchers.add(watcher()).ok);
  assert.deepEqual(watchers.add(watcher()), { ok: false, error: 'too_many_window_streams' });
  // Another user is not held to Dana's streams.
  assert.ok(watchers.add(watcher({ userId: 'sam' as UserId })).ok);
  first.value.remove();
  first.value.remove();
  assert.ok(watchers.add(watcher()).ok);
  assert.equal(watchers.add(watcher()).ok, false);
});

test("sign-out ends only that browser's streams, once, and forgets them", () => {
  const watchers = new WindowWatchers();
  const here = watcher();
  const elsewhere = watcher({ signInId: 'browser-2' });
  watchers.add(here);
  watchers.add(elsewhere);
  watchers.signedOut('browser-1');
  watchers.signedOut('browser-1');
  assert.deepEqual(here.seen.ended, [STREAM_SIGNED_OUT_REASON]);
  assert.deepEqual(elsewhere.seen.ended, []);
  assert.equal(watchers.size, 1);
  watchers.windowChanged('build-1' as BuildId);
  assert.equal(here.seen.changed, 0);
});

test('leaving the app ends the stream; a role change keeps it and tells it again', () => {
  const watchers = new WindowWatchers();
  const w = watcher();
  const otherApp = watcher({ appId: 'app-2' as AppId, buildId: 'build-2' as BuildId });
  watchers.add(w);
  watchers.add(otherApp);
  watchers.membershipChanged('app-1' as AppId, 'dana' as UserId, 'tester');
  assert.equal(w.seen.changed, 1);
  assert.deepEqual(w.seen.ended, []);
  watchers.membershipChanged('app-1' as AppId, 'dana' as UserId, null);
  assert.deepEqual(w.seen.ended, [STREAM_ACCESS_ENDED_REASON]);
  assert.deepEqual(otherApp.seen.ended, []);
});

test('a removed user, a changed sign-in (older epochs only, when named), a moved build and a drain end streams', () => {
  const watchers = new WindowWatchers();
  const old = watcher({ sessionEpoch: 'epoch-0' });
  const current = watcher();
  watchers.add(old);
  watchers.add(current);
  watchers.userEnded('dana' as UserId, 'epoch-1');
  assert.deepEqual([old.seen.ended.length, current.seen.ended.length], [1, 0]);
  watchers.buildMoved('build-1' as BuildId, 'app-1' as AppId);
  assert.equal(current.seen.ended.length, 0);
  watchers.buildMoved('build-1' as BuildId, 'app-9' as AppId);
  assert.equal(current.seen.ended.length, 1);
  const last = watcher({ userId: 'sam' as UserId });
  watchers.add(last);
  watchers.endAll('gateway restarting');
  assert.deepEqual(last.seen.ended, ['gateway restarting']);
  assert.equal(watchers.size, 0);
});

test('the enforcer feeds the registry: window changes, sign-outs and its drain', () => {
  const watchers = new WindowWatchers();
  const enforcer = new AccessEnforcer({ logger: pino({ level: 'silent' }), idleTimeoutMs: 60_000, watchers });
  try {
    const w = watcher();
    watchers.add(w);
    enforcer.windowChanged('build-1' as BuildId, new Date(Date.now() + 60_000), 'extend');
    enforcer.windowChanged('build-1' as BuildId, new Date(Date.now() - 1), 'revoke');
    assert.equal(w.seen.changed, 2);
    enforcer.userRemoved('dana' as UserId);
    assert.deepEqual(w.seen.ended, [STREAM_ACCESS_ENDED_REASON]);
    const x = watcher({ userId: 'sam' as UserId });
    watchers.add(x);
    enforcer.endAll(1001, 'gateway restarting');
    assert.deepEqual(x.seen.ended, ['gateway restarting']);
  } finally {
    enforcer.dispose();
  }
});
