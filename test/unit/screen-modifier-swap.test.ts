import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CMD_CTRL_STORAGE_KEY, ModifierSwap, rememberCmdCtrlSwap, storedCmdCtrlSwap } from '../../client/src/screen/modifier-swap.js';

const CONTROL_L = 0xffe3;
const CONTROL_R = 0xffe4;
const SUPER_L = 0xffeb;
const SUPER_R = 0xffec;
const KEY_C = 0x63;

test('off, keys pass unchanged', () => {
  const swap = new ModifierSwap();
  assert.deepEqual(swap.map(CONTROL_L, 'ControlLeft', true), { keysym: CONTROL_L, code: 'ControlLeft' });
  assert.deepEqual(swap.map(CONTROL_L, 'ControlLeft', false), { keysym: CONTROL_L, code: 'ControlLeft' });
});

test('on, Ctrl goes as Super (⌘) and Super as Ctrl, left and right, keysym and code together; other keys pass', () => {
  const swap = new ModifierSwap(true);
  assert.deepEqual(swap.map(CONTROL_L, 'ControlLeft', true), { keysym: SUPER_L, code: 'MetaLeft' });
  assert.deepEqual(swap.map(KEY_C, 'KeyC', true), { keysym: KEY_C, code: 'KeyC' });
  assert.deepEqual(swap.map(CONTROL_R, 'ControlRight', true), { keysym: SUPER_R, code: 'MetaRight' });
  assert.deepEqual(swap.map(SUPER_L, 'MetaLeft', true), { keysym: CONTROL_L, code: 'ControlLeft' });
  assert.deepEqual(swap.map(SUPER_R, null, true), { keysym: CONTROL_R, code: null });
});

test('a key held while the option changes is released as what it was pressed as', () => {
  const swap = new ModifierSwap(false);
  assert.deepEqual(swap.map(CONTROL_L, 'ControlLeft', true), { keysym: CONTROL_L, code: 'ControlLeft' });
  swap.enabled = true;
  assert.deepEqual(swap.map(CONTROL_L, 'ControlLeft', false), { keysym: CONTROL_L, code: 'ControlLeft' }, 'no Control_L left held on the VM');
  assert.deepEqual(swap.map(CONTROL_L, 'ControlLeft', true), { keysym: SUPER_L, code: 'MetaLeft' });
  swap.enabled = false;
  assert.deepEqual(swap.map(CONTROL_L, 'ControlLeft', false), { keysym: SUPER_L, code: 'MetaLeft' });
});

test('the option is remembered, off unless chosen', () => {
  const values = new Map<string, string>();
  const storage = { getItem: (key: string) => values.get(key) ?? null, setItem: (key: string, value: string) => void values.set(key, value) };
  assert.equal(storedCmdCtrlSwap(storage), false);
  rememberCmdCtrlSwap(storage, true);
  assert.equal(values.get(CMD_CTRL_STORAGE_KEY), 'on');
  assert.equal(storedCmdCtrlSwap(storage), true);
  rememberCmdCtrlSwap(storage, false);
  assert.equal(storedCmdCtrlSwap(storage), false);
  assert.equal(storedCmdCtrlSwap(null), false);
});
