import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMAND, CONTROL, ESCAPE, sendChord, sendCombo, TAB, type KeySender } from '../../client/src/screen/keys.js';
import { diffTyped, keyOfKeydown, keysymForChar, KEYBOARD_FILLER, needsRefill } from '../../client/src/screen/typed-input.js';

function recorder(): KeySender & { readonly events: string[] } {
  const events: string[] = [];
  return {
    events,
    sendKey: (keysym, _code, down) => void events.push(`${down === false ? 'up' : 'down'} 0x${keysym.toString(16)}`),
  };
}

test('a chord holds its modifiers around the key and lets go in reverse', () => {
  const rfb = recorder();
  sendChord(rfb, [CONTROL, COMMAND], TAB);
  assert.deepEqual(rfb.events, ['down 0xffe3', 'down 0xffeb', 'down 0xff09', 'up 0xff09', 'up 0xffeb', 'up 0xffe3']);
  const plain = recorder();
  sendChord(plain, [], ESCAPE);
  assert.deepEqual(plain.events, ['down 0xff1b', 'up 0xff1b']);
});

test('the shortcuts menu: ⌘Q as Super_L+q; an unknown or inherited name sends nothing', () => {
  const rfb = recorder();
  assert.equal(sendCombo(rfb, 'cmd-q'), true);
  assert.deepEqual(rfb.events, ['down 0xffeb', 'down 0x71', 'up 0x71', 'up 0xffeb']);
  for (const name of ['cmd-x', 'constructor', '']) assert.equal(sendCombo(recorder(), name), false, name);
});

test('typed characters: Latin-1 as itself, the rest as Unicode keysyms, newline as Return', () => {
  assert.equal(keysymForChar('a'), 0x61);
  assert.equal(keysymForChar('~'), 0x7e);
  assert.equal(keysymForChar(' '), 0x20);
  assert.equal(keysymForChar('é'), 0xe9);
  assert.equal(keysymForChar('€'), 0x0100_20ac);
  assert.equal(keysymForChar('😀'), 0x0101_f600);
  assert.equal(keysymForChar('\n'), 0xff0d);
  assert.equal(keysymForChar('\t'), 0xff09);
  assert.equal(keysymForChar('\u0007'), null, 'a control character types nothing');
  assert.equal(keysymForChar('\u0085'), null);
});

test('what a soft keyboard changed: appended text, Backspaces, a corrected word, an emoji', () => {
  const f = KEYBOARD_FILLER;
  assert.deepEqual(diffTyped(f, `${f}ls`), { deleted: 0, inserted: 'ls' });
  assert.deepEqual(diffTyped(`${f}ls`, `${f}l`), { deleted: 1, inserted: '' });
  assert.deepEqual(diffTyped(f, f.slice(0, -3)), { deleted: 3, inserted: '' }, 'Backspaces into the filler');
  assert.deepEqual(diffTyped(`${f}teh`, `${f}the `), { deleted: 2, inserted: 'he ' }, 'autocorrect rewrites from the first change');
  assert.deepEqual(diffTyped(`${f}😀`, `${f}😃`), { deleted: 1, inserted: '😃' }, 'one emoji for another is one Backspace, never half a pair');
  assert.deepEqual(diffTyped(`${f}😀`, f), { deleted: 1, inserted: '' });
  assert.deepEqual(diffTyped(f, f), { deleted: 0, inserted: '' });
});

test('the field is refilled once it runs low or grows long, not while in range', () => {
  assert.equal(needsRefill(KEYBOARD_FILLER.length), false);
  assert.equal(needsRefill(KEYBOARD_FILLER.length + 20), false);
  assert.equal(needsRefill(10), true);
  assert.equal(needsRefill(KEYBOARD_FILLER.length * 3), true);
});

test('keydowns the page sends itself: named keys and modified characters; plain characters wait for input', () => {
  const none = { ctrlKey: false, altKey: false, metaKey: false, isComposing: false };
  assert.deepEqual(keyOfKeydown({ ...none, key: 'Enter' }), { ctrl: false, alt: false, meta: false, key: { keysym: 0xff0d, code: 'Enter' } });
  assert.equal(keyOfKeydown({ ...none, key: 'Backspace' })?.key.keysym, 0xff08);
  assert.equal(keyOfKeydown({ ...none, key: 'Escape' })?.key.keysym, 0xff1b);
  assert.equal(keyOfKeydown({ ...none, key: 'ArrowUp' })?.key.keysym, 0xff52);
  assert.equal(keyOfKeydown({ ...none, key: 'a' }), null, 'the input event carries it');
  assert.equal(keyOfKeydown({ ...none, key: 'Unidentified' }), null, "Android's 229 keydowns");
  assert.equal(keyOfKeydown({ ...none, key: 'Enter', isComposing: true }), null, 'ends a composition, types nothing');
  assert.deepEqual(keyOfKeydown({ ...none, key: 'c', ctrlKey: true }), { ctrl: true, alt: false, meta: false, key: { keysym: 0x63, code: null } });
  assert.equal(keyOfKeydown({ ...none, key: 'Control', ctrlKey: true }), null, 'a modifier alone waits for its key');
});
