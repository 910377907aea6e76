/** The pages' reading of the live-session list (client/src/lib/live-sessions.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeWatchers, parseLiveSessions } from '../../client/src/lib/live-sessions.js';
import type { UserId } from '../../shared/src/ids.js';

const session = {
  sessionId: '0123456789abcdef',
  kind: 'ssh',
  owner: { userId: 'dana', name: 'Dana' },
  yours: false,
  startedAt: '2030-01-01T10:00:00.000Z',
  state: 'held',
  watchers: [{ userId: 'sam', name: 'Sam', mode: 'drive', you: false }],
};

test('the list is checked, not trusted: a bad entry is left out, a bad answer is no list', () => {
  assert.deepEqual(parseLiveSessions({ sessions: [session] }), [session]);
  assert.deepEqual(parseLiveSessions({ sessions: [session, { ...session, state: 'gone' }, { ...session, owner: null }, { ...session, watchers: [{ userId: 'x', name: 1, mode: 'watch' }] }] }), [session]);
  assert.equal(parseLiveSessions('<html>proxy error</html>'), null);
  assert.equal(parseLiveSessions({ sessions: 'many' }), null);
});

test('who watches, as one line', () => {
  assert.equal(describeWatchers([]), '');
  assert.equal(
    describeWatchers([
      { userId: 'sam' as UserId, name: 'Sam', mode: 'drive', you: false },
      { userId: 'kim' as UserId, name: '<b>Kim</b>', mode: 'watch', you: true },
    ]),
    'Sam (can type), <b>Kim</b>',
    'plain text: the page puts it in textContent',
  );
});
