import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VNC_CLIENT_MESSAGE_MAX_BYTES } from '../../shared/src/limits.js';
import { CLIPBOARD_HINTS, ClipboardSync, fitsClipboardMessage, isPasteShortcut, MAX_CLIPBOARD_SEND_CHARS, type ClipboardPermission } from '../../client/src/screen/clipboard-sync.js';

interface Fake {
  readonly sync: ClipboardSync;
  /** The user's clipboard. */
  local: string;
  focused: boolean;
  active: boolean;
  permission: ClipboardPermission;
  refuseWrites: boolean;
  /** A warning holds the status line: the hint cannot be shown. */
  bannerBusy: boolean;
  readonly sent: string[];
  readonly hints: string[];
  reads: number;
}

function fake(withApi = true): Fake {
  const f: Omit<Fake, 'sync'> = { local: '', focused: true, active: true, permission: 'granted', refuseWrites: false, bannerBusy: false, sent: [], hints: [], reads: 0 };
  const sync = new ClipboardSync({
    clipboard: withApi
      ? {
          // Each answers a turn later, as the browser's do.
          readText: async () => {
            await Promise.resolve();
            f.reads += 1;
            if (f.permission !== 'granted') throw new Error('NotAllowedError');
            return f.local;
          },
          writeText: async (text) => {
            await Promise.resolve();
            if (f.refuseWrites || !f.focused) throw new Error('NotAllowedError');
            f.local = text;
          },
        }
      : null,
    permission: () => f.permission,
    hasFocus: () => f.focused,
    active: () => f.active,
    send: (text) => void f.sent.push(text),
    hint: (text) => {
      f.hints.push(text);
      return !f.bannerBusy;
    },
  });
  return Object.assign(f, { sync });
}

test("the VM's copy lands in the focused page's clipboard", async () => {
  const f = fake();
  await f.sync.fromVm('from the VM');
  assert.equal(f.local, 'from the VM');
  assert.deepEqual(f.hints, []);
});

test("without focus the VM's copy waits for the next focus, and only the newest is written", async () => {
  const f = fake();
  f.focused = false;
  f.local = 'mine';
  await f.sync.fromVm('first');
  await f.sync.fromVm('second');
  assert.equal(f.local, 'mine', 'nothing written while unfocused');
  f.focused = true;
  await f.sync.focused();
  assert.equal(f.local, 'second');
  assert.deepEqual(f.sent, [], 'and not read back to the VM');
  assert.equal(f.reads, 0);
});

test('focus sends the user’s clipboard once, and only when it changed: no echo of what the VM sent', async () => {
  const f = fake();
  f.local = 'copied elsewhere';
  await f.sync.focused();
  await f.sync.focused();
  assert.deepEqual(f.sent, ['copied elsewhere']);
  // The VM's server announces what it was sent: the user's clipboard already holds it.
  await f.sync.fromVm('copied elsewhere');
  await f.sync.fromVm('copied on the VM');
  assert.equal(f.local, 'copied on the VM');
  await f.sync.focused();
  assert.deepEqual(f.sent, ['copied elsewhere'], 'what the page wrote is not sent back');
  f.local = 'copied again';
  await f.sync.focused();
  assert.deepEqual(f.sent, ['copied elsewhere', 'copied again']);
});

test('an empty clipboard (or an image) is not sent', async () => {
  const f = fake();
  await f.sync.focused();
  assert.deepEqual(f.sent, []);
});

test('text sent from the panel is not overwritten by the unchanged clipboard on the next focus', async () => {
  const f = fake();
  f.local = 'old';
  await f.sync.focused();
  f.sync.sentFromPanel('typed in the panel');
  await f.sync.focused();
  assert.deepEqual(f.sent, ['old']);
});

test('focus never reads without the permission: no prompt, no hint', async () => {
  for (const permission of ['prompt', 'denied', 'unsupported'] as const) {
    const f = fake();
    f.permission = permission;
    f.local = 'secret';
    await f.sync.focused();
    assert.equal(f.reads, 0, permission);
    assert.deepEqual([f.sent, f.hints], [[], []], permission);
  }
});

test('a paste shortcut reads when granted; without the permission it hints once that the panel is the way', async () => {
  const f = fake();
  f.local = 'paste me';
  assert.equal(f.sync.canRead, true);
  await f.sync.pasting();
  assert.deepEqual(f.sent, ['paste me']);

  const g = fake();
  g.permission = 'prompt';
  assert.equal(g.sync.canRead, false);
  await g.sync.pasting();
  await g.sync.pasting();
  assert.equal(g.reads, 0);
  assert.deepEqual(g.hints, [CLIPBOARD_HINTS.notAllowed]);
});

test('Allow reads from a click, which may prompt; a refusal hints', async () => {
  const f = fake();
  f.permission = 'prompt';
  f.local = 'allowed';
  // The browser's prompt, answered yes.
  const granted = f.sync.allow();
  f.permission = 'granted';
  await granted;
  assert.deepEqual(f.sent, ['allowed']);

  const g = fake();
  g.permission = 'denied';
  await g.sync.allow();
  assert.deepEqual([g.sent, g.hints], [[], [CLIPBOARD_HINTS.notAllowed]]);
});

test('nothing at all while not active (view only, watching, not connected)', async () => {
  const f = fake();
  f.active = false;
  f.local = 'mine';
  await f.sync.fromVm('from the VM');
  await f.sync.focused();
  await f.sync.pasting();
  await f.sync.allow();
  assert.equal(f.sync.canRead, false);
  assert.deepEqual([f.local, f.reads, f.sent, f.hints], ['mine', 0, [], []]);
  // Switched back on, a later focus does not write the VM text that arrived meanwhile.
  f.active = true;
  await f.sync.focused();
  assert.deepEqual(f.sent, ['mine']);
  assert.equal(f.local, 'mine');
});

test('a read that ends after the page stopped sending is dropped', async () => {
  const f = fake();
  f.local = 'late';
  const reading = f.sync.focused();
  f.active = false;
  await reading;
  assert.deepEqual(f.sent, []);
});

test('without the Clipboard API the panel is the way, said once', async () => {
  const f = fake(false);
  await f.sync.fromVm('from the VM');
  await f.sync.pasting();
  await f.sync.focused();
  assert.deepEqual(f.hints, [CLIPBOARD_HINTS.missing]);
  assert.deepEqual(f.sent, []);
});

test('a refused write hints once; a write refused for lost focus waits for the next focus', async () => {
  const f = fake();
  f.refuseWrites = true;
  await f.sync.fromVm('one');
  await f.sync.fromVm('two');
  assert.deepEqual(f.hints, [CLIPBOARD_HINTS.writeRefused]);

  const g = fake();
  // Focus leaves while the browser writes: the write fails and is retried on the next focus.
  const writing = g.sync.fromVm('retry me');
  g.focused = false;
  await writing;
  assert.equal(g.local, '');
  g.focused = true;
  await g.sync.focused();
  assert.equal(g.local, 'retry me');
});

test('a clipboard too large for one RFB message is not sent automatically', async () => {
  const f = fake();
  f.local = 'x'.repeat(MAX_CLIPBOARD_SEND_CHARS + 1);
  await f.sync.focused();
  assert.deepEqual([f.sent, f.hints], [[], [CLIPBOARD_HINTS.tooLarge]]);
});

test('paste shortcuts: Ctrl+V and ⌘V, any case, not with Alt (AltGr) or alone', () => {
  const key = (k: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean }>) => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, ...mods });
  assert.equal(isPasteShortcut(key('v', { ctrlKey: true })), true);
  assert.equal(isPasteShortcut(key('V', { ctrlKey: true })), true, 'Ctrl+Shift+V');
  assert.equal(isPasteShortcut(key('v', { metaKey: true })), true);
  assert.equal(isPasteShortcut(key('v', {})), false);
  assert.equal(isPasteShortcut(key('v', { ctrlKey: true, altKey: true })), false);
  assert.equal(isPasteShortcut(key('c', { ctrlKey: true })), false);
});

test('a hint the status line could not show is offered again', async () => {
  const f = fake(false);
  f.bannerBusy = true;
  await f.sync.fromVm('one');
  f.bannerBusy = false;
  await f.sync.fromVm('two');
  await f.sync.fromVm('three');
  assert.deepEqual(f.hints, [CLIPBOARD_HINTS.missing, CLIPBOARD_HINTS.missing]);
});

test('the panel and the sync share one size limit, below the gateway’s largest client message', () => {
  assert.equal(fitsClipboardMessage('x'.repeat(MAX_CLIPBOARD_SEND_CHARS)), true);
  assert.equal(fitsClipboardMessage('x'.repeat(MAX_CLIPBOARD_SEND_CHARS + 1)), false);
  // Three UTF-8 bytes per UTF-16 unit at most: the largest text that fits stays under the limit.
  assert.ok(Buffer.byteLength('€'.repeat(MAX_CLIPBOARD_SEND_CHARS)) < VNC_CLIENT_MESSAGE_MAX_BYTES);
});

test('one refocus read once: the window’s focus and the screen’s focusin share the read in flight', async () => {
  const f = fake();
  f.local = 'from the user';
  await Promise.all([f.sync.focused(), f.sync.focused()]);
  assert.equal(f.reads, 1);
  assert.deepEqual(f.sent, ['from the user']);
  await f.sync.focused();
  assert.equal(f.reads, 2, 'a later focus reads again');
});
