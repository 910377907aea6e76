/** The touch key bar's bytes: the same as xterm.js sends for those keys (its common/input/Keyboard.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_MODIFIERS, barKeyBytes, modifiedChar, modifiedInput } from '../../client/src/terminal/key-bytes.js';

const CTRL = { ctrl: true, alt: false };
const ALT = { ctrl: false, alt: true };
const BOTH = { ctrl: true, alt: true };

test('key bar: Esc, Tab and arrows, in normal and application cursor mode', () => {
  assert.equal(barKeyBytes('Escape', NO_MODIFIERS, false), '\x1b');
  assert.equal(barKeyBytes('Escape', ALT, false), '\x1b\x1b');
  assert.equal(barKeyBytes('Escape', CTRL, false), '\x1b');
  assert.equal(barKeyBytes('Tab', NO_MODIFIERS, false), '\t');
  assert.equal(barKeyBytes('Tab', BOTH, true), '\t');
  const finals = { ArrowUp: 'A', ArrowDown: 'B', ArrowRight: 'C', ArrowLeft: 'D' } as const;
  for (const [key, final] of Object.entries(finals) as [keyof typeof finals, string][]) {
    assert.equal(barKeyBytes(key, NO_MODIFIERS, false), `\x1b[${final}`, key);
    assert.equal(barKeyBytes(key, NO_MODIFIERS, true), `\x1bO${final}`, key);
    // With a modifier xterm.js sends the CSI form with its parameter in either mode.
    assert.equal(barKeyBytes(key, ALT, true), `\x1b[1;3${final}`, key);
    assert.equal(barKeyBytes(key, CTRL, false), `\x1b[1;5${final}`, key);
    assert.equal(barKeyBytes(key, BOTH, true), `\x1b[1;7${final}`, key);
  }
});

test('key bar: Ctrl and Alt on a typed character', () => {
  assert.equal(modifiedChar('c', NO_MODIFIERS), 'c');
  assert.equal(modifiedChar('c', CTRL), '\x03');
  // A soft keyboard may capitalise: still Ctrl-C.
  assert.equal(modifiedChar('C', CTRL), '\x03');
  assert.equal(modifiedChar('a', CTRL), '\x01');
  assert.equal(modifiedChar('z', CTRL), '\x1a');
  assert.equal(modifiedChar(' ', CTRL), '\x00');
  assert.equal(modifiedChar('[', CTRL), '\x1b');
  assert.equal(modifiedChar('\\', CTRL), '\x1c');
  assert.equal(modifiedChar(']', CTRL), '\x1d');
  assert.equal(modifiedChar('_', CTRL), '\x1f');
  assert.equal(modifiedChar('8', CTRL), '\x7f');
  assert.equal(modifiedChar('\x7f', CTRL), '\b');
  // Ctrl means nothing for these in xterm.js: sent as they are.
  for (const ch of ['|', '~', '/', '1', 'é']) assert.equal(modifiedChar(ch, CTRL), ch, ch);
  assert.equal(modifiedChar('b', ALT), '\x1bb');
  assert.equal(modifiedChar('|', ALT), '\x1b|');
  assert.equal(modifiedChar('\r', ALT), '\x1b\r');
  assert.equal(modifiedChar('x', BOTH), '\x1b\x18');
  assert.equal(modifiedChar(' ', BOTH), '\x1b\x00');
  assert.equal(modifiedChar('/', BOTH), '\x1b/');
  assert.equal(modifiedChar('\t', BOTH), '\t');
});

test("key bar: the latch applies to one typed key or arrow, not to a paste or the terminal's replies", () => {
  assert.equal(modifiedInput('c', CTRL, false), '\x03');
  assert.equal(modifiedInput('\x1b[A', CTRL, false), '\x1b[1;5A');
  assert.equal(modifiedInput('\x1bOD', ALT, true), '\x1b[1;3D');
  // Astral characters are one key.
  assert.equal(modifiedInput('😀', ALT, false), '\x1b😀');
  for (const other of ['pasted text', '\x1b[12;40R', '\x1b[I', '\x1b[<0;3;4M', '\x1b[200~x\x1b[201~']) assert.equal(modifiedInput(other, BOTH, false), null, JSON.stringify(other));
});
