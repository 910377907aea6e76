/** The terminal page's line about the other people on its session (client/src/session/participants.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeParticipants } from '../../client/src/session/participants.js';
import { parseClientControl, parseServerControl, type Participant } from '../../shared/src/protocol/ssh-v1.js';

const owner: Participant = { userId: 'dev', name: 'Dana', mode: 'drive', owner: true, you: false };
const watcher: Participant = { userId: 'adm', name: 'Sam', mode: 'watch', owner: false, you: false };

test('the owner sees who watches and who may type; itself is not named', () => {
  assert.equal(describeParticipants([{ ...owner, you: true }]), '');
  assert.equal(describeParticipants([{ ...owner, you: true }, watcher]), 'Sam is watching');
  assert.equal(describeParticipants([{ ...owner, you: true }, { ...watcher, mode: 'drive' }, { ...watcher, userId: 'x', name: 'Kim' }]), 'Sam can type · Kim is watching');
  assert.equal(describeParticipants([owner, { ...watcher, you: true }]), 'You are watching · Dana owns this session');
  assert.equal(describeParticipants([owner, { ...watcher, you: true, mode: 'drive' }]), 'You can type · Dana owns this session');
});

test('pairing messages: control from a page, size and participants from the gateway, hostile values refused', () => {
  assert.deepEqual(parseClientControl('{"type":"control","userId":"adm","mode":"drive"}'), { ok: true, value: { type: 'control', userId: 'adm', mode: 'drive' } });
  for (const bad of ['{"type":"control","userId":"adm","mode":"own"}', '{"type":"control","userId":"","mode":"watch"}', `{"type":"control","userId":"${'x'.repeat(300)}","mode":"watch"}`, '{"type":"control","mode":"watch"}']) {
    assert.deepEqual(parseClientControl(bad), { ok: false, error: 'bad_field' }, bad);
  }
  assert.deepEqual(parseServerControl('{"type":"size","cols":100,"rows":30}'), { type: 'size', cols: 100, rows: 30 });
  assert.deepEqual(parseServerControl(JSON.stringify({ type: 'participants', list: [owner] })), { type: 'participants', list: [owner] });
  assert.equal(parseServerControl(JSON.stringify({ type: 'participants', list: [{ ...owner, name: 5 }] })), null);
  assert.deepEqual(parseServerControl('{"type":"ready","hostKey":"SHA256:x","sessionId":"s","resumeSeconds":0}'), { type: 'ready', hostKey: 'SHA256:x', sessionId: 's', resumeSeconds: 0, mode: 'drive', recorded: false }, 'a gateway from before pairing: the page drives');
});
