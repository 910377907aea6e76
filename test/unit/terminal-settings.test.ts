/** The terminal's settings as storage and dashboards give them: only valid values get through. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_SETTINGS,
  FONT_CHOICES,
  FONT_SIZE_MAX_PX,
  FONT_SIZE_MIN_PX,
  fontFamilyOf,
  parseEmbedSettings,
  parseFontSize,
  parseStoredSettings,
  resolveSettings,
} from '../../client/src/terminal/settings.js';

test('terminal settings: a font size is a whole number of pixels within bounds', () => {
  assert.equal(parseFontSize(16), 16);
  assert.equal(parseFontSize('16'), 16);
  assert.equal(parseFontSize(` ${FONT_SIZE_MIN_PX} `), FONT_SIZE_MIN_PX);
  assert.equal(parseFontSize(FONT_SIZE_MAX_PX), FONT_SIZE_MAX_PX);
  for (const bad of [FONT_SIZE_MIN_PX - 1, FONT_SIZE_MAX_PX + 1, 14.5, '14.5', '14px', '1e1', '', '-14', NaN, Infinity, null, undefined, true, '0x10']) {
    assert.equal(parseFontSize(bad), null, String(bad));
  }
});

test('terminal settings: stored JSON keeps its valid fields and drops the rest', () => {
  assert.deepEqual(parseStoredSettings(null), {});
  assert.deepEqual(parseStoredSettings('not json'), {});
  assert.deepEqual(parseStoredSettings('"light"'), {});
  assert.deepEqual(parseStoredSettings('null'), {});
  assert.deepEqual(parseStoredSettings(JSON.stringify({ fontSize: 18, theme: 'light', font: 'courier', cursorStyle: 'bar', cursorBlink: false })), {
    fontSize: 18,
    theme: 'light',
    font: 'courier',
    cursorStyle: 'bar',
    cursorBlink: false,
  });
  assert.deepEqual(parseStoredSettings(JSON.stringify({ fontSize: 400, theme: 'solarized', font: 'Comic Sans', cursorStyle: 'beam', cursorBlink: 'yes', extra: 1 })), {});
});

test("terminal settings: a dashboard's attributes are validated as strictly; no CSS gets through as a font", () => {
  const params = new URLSearchParams({ 'font-size': '20', theme: 'light', 'font-family': 'dejavu-sans-mono', 'cursor-style': 'underline', 'cursor-blink': 'false' });
  assert.deepEqual(parseEmbedSettings(params), { fontSize: 20, theme: 'light', font: 'dejavu-sans-mono', cursorStyle: 'underline', cursorBlink: false });
  const hostile = new URLSearchParams({
    'font-size': '9999',
    theme: 'light; background: url(https://evil.example)',
    'font-family': 'x"; } body { display: none } .y { font-family: "',
    'cursor-style': '<img src=x onerror=alert(1)>',
    'cursor-blink': 'maybe',
  });
  assert.deepEqual(parseEmbedSettings(hostile), {});
  assert.deepEqual(parseEmbedSettings(new URLSearchParams()), {});
  // Every font the menu offers is a fixed stack ending in the generic monospace.
  for (const font of FONT_CHOICES) assert.match(fontFamilyOf(font.id), /monospace$/, font.id);
  assert.equal(fontFamilyOf('no-such-font'), fontFamilyOf(DEFAULT_SETTINGS.font));
});

test("terminal settings: defaults, then the user's remembered choice, then the dashboard's", () => {
  assert.deepEqual(resolveSettings({}, {}), DEFAULT_SETTINGS);
  const resolved = resolveSettings({ fontSize: 18, theme: 'light' }, { fontSize: 12 });
  assert.deepEqual(resolved, { ...DEFAULT_SETTINGS, fontSize: 12, theme: 'light' });
});
