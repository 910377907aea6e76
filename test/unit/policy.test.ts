import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideRemoteAccess } from '../../server/src/access/remote-access.js';
import type { Role } from '../../shared/src/roles.js';

const NOW = new Date('2026-11-27T12:00:00Z');
const minutes = (n: number): Date => new Date(NOW.getTime() + n * 60_000);

const WINDOWS = {
  running: { opensAt: minutes(-30), closesAt: null },
  'closing in 1 min': { opensAt: minutes(-30), closesAt: minutes(1) },
  'closes exactly now': { opensAt: minutes(-30), closesAt: NOW },
  'closed 1 min ago': { opensAt: minutes(-30), closesAt: minutes(-1) },
  'starts in 3 min (clock skew)': { opensAt: minutes(3), closesAt: null },
  'starts in 1 hour': { opensAt: minutes(60), closesAt: null },
} as const;

type WindowName = keyof typeof WINDOWS;
type Expected = 'allow' | 'not_found' | 'role_forbidden' | 'window_closed';

const TABLE: readonly [Role | null, WindowName, Expected][] = [
  ['owner', 'running', 'allow'],
  ['admin', 'running', 'allow'],
  ['developer', 'running', 'allow'],
  ['tester', 'running', 'role_forbidden'],
  [null, 'running', 'not_found'],
  ['owner', 'closing in 1 min', 'allow'],
  ['developer', 'closing in 1 min', 'allow'],
  ['tester', 'closing in 1 min', 'role_forbidden'],
  ['owner', 'closes exactly now', 'window_closed'],
  ['admin', 'closed 1 min ago', 'window_closed'],
  ['developer', 'closed 1 min ago', 'window_closed'],
  // A tester learns about the role, not the window; a stranger learns nothing at all.
  ['tester', 'closed 1 min ago', 'role_forbidden'],
  [null, 'closed 1 min ago', 'not_found'],
  ['developer', 'starts in 3 min (clock skew)', 'allow'],
  ['owner', 'starts in 1 hour', 'window_closed'],
];

for (const [role, windowName, expected] of TABLE) {
  test(`policy: ${role ?? 'non-member'} with window ${windowName} → ${expected}`, () => {
    const decision = decideRemoteAccess({ role, window: WINDOWS[windowName], now: NOW });
    assert.equal(decision.ok ? 'allow' : decision.error, expected);
  });
}
