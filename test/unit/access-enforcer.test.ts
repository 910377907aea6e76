/** The access enforcer's lifecycle under a fake clock: deadlines, revocations, races and idling. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { AccessEnforcer, type Clock } from '../../server/src/sessions/access-enforcer.js';
import type { AppId, BuildId, UserId } from '../../shared/src/ids.js';
import type { GatewayEvent } from '../../server/src/audit/events.js';
import type { Role } from '../../shared/src/roles.js';

const MINUTE = 60_000;

class FakeClock implements Clock {
  #now = Date.parse('2026-11-27T10:00:00Z');
  #timers = new Map<number, { at: number; every: number | null; callback: () => void }>();
  #next = 1;

  now(): number {
    return this.#now;
  }
  setTimeout(callback: () => void, ms: number): NodeJS.Timeout {
    return this.#add(callback, ms, null);
  }
  setInterval(callback: () => void, ms: number): NodeJS.Timeout {
    return this.#add(callback, ms, ms);
  }
  clearTimeout(timer: NodeJS.Timeout): void {
    this.#timers.delete(Number(timer));
  }
  clearInterval(timer: NodeJS.Timeout): void {
    this.#timers.delete(Number(timer));
  }
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const due = [...this.#timers.entries()].filter(([, t]) => t.at <= target).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      const [id, timer] = due;
      this.#now = Math.max(this.#now, timer.at);
      if (timer.every === null) this.#timers.delete(id);
      else timer.at += timer.every;
      timer.callback();
    }
    this.#now = target;
  }
  #add(callback: () => void, ms: number, every: number | null): NodeJS.Timeout {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + ms, every, callback });
    return id as unknown as NodeJS.Timeout;
  }
}

const user = (id: string): UserId => id as UserId;
const build = (id: string): BuildId => id as BuildId;
const APP = 'app-1' as AppId;

function setup(idleMinutes = 30): { clock: FakeClock; enforcer: AccessEnforcer; open: (userId: string, buildId: string, closesAt: Date | null, signInId?: string | null) => { ended: { code: number; reason: string }[]; windows: (Date | null)[]; touch: () => void } } {
  const clock = new FakeClock();
  const enforcer = new AccessEnforcer({ logger: pino({ level: 'silent' }), idleTimeoutMs: idleMinutes * MINUTE, clock });
  const open = (userId: string, buildId: string, closesAt: Date | null, signInId: string | null = null) => {
    const ended: { code: number; reason: string }[] = [];
    const windows: (Date | null)[] = [];
    const registration = enforcer.beginConnection(user(userId), build(buildId), signInId).activate(
      {
        userId: user(userId),
        appId: APP,
        buildId: build(buildId),
        kind: 'ssh',
        endpoint: 'vm-1',
        openedAt: new Date(clock.now()),
        signInId,
        sessionEpoch: 'epoch-1',
        end: (code, reason) => ended.push({ code, reason }),
        windowChanged: (at) => windows.push(at),
      },
      closesAt,
    );
    return { ended, windows, touch: () => registration.touch() };
  };
  return { clock, enforcer, open };
}

test('running build: no deadline, nothing closes', () => {
  const { clock, enforcer, open } = setup(24 * 60);
  const c = open('u1', 'b1', null);
  clock.advance(12 * 60 * MINUTE);
  assert.deepEqual(c.ended, []);
  assert.equal(enforcer.size, 1);
});

test('finish: 9:59 after finishing still open, 10:01 closed with 4000', () => {
  const { clock, enforcer, open } = setup();
  const c = open('u1', 'b1', null);
  const closesAt = new Date(clock.now() + 10 * MINUTE);
  enforcer.windowChanged(build('b1'), closesAt, 'finish');
  assert.deepEqual(c.windows, [closesAt], 'the terminal hears about the new window');
  clock.advance(9 * MINUTE + 59_000);
  assert.deepEqual(c.ended, []);
  clock.advance(2_000);
  assert.deepEqual(c.ended, [{ code: 4000, reason: 'access window closed' }]);
  assert.equal(enforcer.size, 0);
});

test('revoke closes the window at once (4000, reason "access revoked"), only that build', () => {
  const { clock, enforcer, open } = setup();
  const a = open('u1', 'b1', null);
  const b = open('u1', 'b2', null);
  enforcer.windowChanged(build('b1'), new Date(clock.now()), 'revoke');
  assert.deepEqual(a.ended, [{ code: 4000, reason: 'access revoked' }]);
  assert.deepEqual(b.ended, []);
});

test('a late finish never extends the deadline', () => {
  const { clock, enforcer, open } = setup();
  const c = open('u1', 'b1', new Date(clock.now() + 5 * MINUTE));
  enforcer.windowChanged(build('b1'), new Date(clock.now() + 30 * MINUTE), 'finish');
  clock.advance(5 * MINUTE);
  assert.deepEqual(c.ended, [{ code: 4000, reason: 'access window closed' }]);
});

test('an extend (issue #20) moves the deadline later; a release ends at once with its reason', () => {
  const { clock, enforcer, open } = setup();
  const c = open('u1', 'b1', new Date(clock.now() + 5 * MINUTE));
  const extended = new Date(clock.now() + 20 * MINUTE);
  enforcer.windowChanged(build('b1'), extended, 'extend');
  assert.deepEqual(c.windows, [extended], 'the terminal hears the later close time');
  assert.equal(enforcer.scheduledClose(build('b1'))?.getTime(), extended.getTime());
  clock.advance(6 * MINUTE);
  assert.deepEqual(c.ended, [], 'the old deadline no longer fires');
  enforcer.windowChanged(build('b1'), new Date(clock.now()), 'release', 'released by Ada');
  assert.deepEqual(c.ended, [{ code: 4000, reason: 'released by Ada' }]);
});

test('a connection set up across an extend keeps the extended deadline, not its older read', () => {
  const { clock, enforcer, open } = setup();
  const live = open('u1', 'b1', new Date(clock.now() + 5 * MINUTE));
  const pending = enforcer.beginConnection(user('u2'), build('b1'), null);
  const extended = new Date(clock.now() + 20 * MINUTE);
  enforcer.windowChanged(build('b1'), extended, 'extend');
  const ended: number[] = [];
  // Its store read predates the extend: it still believes the window closes in 5 minutes.
  pending.activate({ userId: user('u2'), appId: APP, buildId: build('b1'), kind: 'ssh', endpoint: 'vm-1', openedAt: new Date(), signInId: null, sessionEpoch: 'epoch-1', end: (code) => ended.push(code), windowChanged: () => undefined }, new Date(clock.now() + 5 * MINUTE));
  assert.equal(enforcer.scheduledClose(build('b1'))?.getTime(), extended.getTime());
  clock.advance(6 * MINUTE);
  assert.deepEqual([live.ended, ended], [[], []]);
});

test('a connection opening after the deadline ends at once', async () => {
  const { clock, open } = setup();
  const c = open('u1', 'b1', new Date(clock.now() - 1));
  await Promise.resolve();
  assert.equal(c.ended[0]?.code, 4000);
});

test('a finish landing while a connection is set up still sets its deadline', async () => {
  const { clock, enforcer } = setup();
  const pending = enforcer.beginConnection(user('u1'), build('b1'), null);
  const closesAt = new Date(clock.now() + 10 * MINUTE);
  enforcer.windowChanged(build('b1'), closesAt, 'finish');
  const ended: number[] = [];
  // The connection's store read predates the finish: it still believes the window is open-ended.
  pending.activate({ userId: user('u1'), appId: APP, buildId: build('b1'), kind: 'ssh', endpoint: 'vm-1', openedAt: new Date(), signInId: null, sessionEpoch: 'epoch-1', end: (code) => ended.push(code), windowChanged: () => undefined }, null);
  clock.advance(10 * MINUTE + 1);
  assert.deepEqual(ended, [4000]);
});

test('role change to tester and removal close that user\'s connections on that app with 4001', () => {
  const { enforcer, open } = setup();
  const dev = open('u1', 'b1', null);
  const other = open('u2', 'b1', null);
  enforcer.membershipChanged(APP, user('u1'), 'developer');
  assert.deepEqual(dev.ended, [], 'an allowed role changes nothing');
  enforcer.membershipChanged(APP, user('u1'), 'tester');
  assert.deepEqual(dev.ended, [{ code: 4001, reason: 'role no longer allows remote access' }]);
  assert.deepEqual(other.ended, []);
  enforcer.membershipChanged(APP, user('u2'), null);
  assert.deepEqual(other.ended, [{ code: 4001, reason: 'removed from the app' }]);
  enforcer.membershipChanged('other-app' as AppId, user('u3'), null);
});

test('sign-out ends the connections of that sign-in only; a sign-in change ends all of the user\'s, set-up included', async () => {
  const { enforcer, open } = setup();
  const laptop = open('u1', 'b1', null, 'sign-in-laptop');
  const desktop = open('u1', 'b1', null, 'sign-in-desktop');
  const embedded = open('u1', 'b2', null, null);
  enforcer.signedOut('sign-in-laptop');
  assert.deepEqual(laptop.ended, [{ code: 4001, reason: 'signed out' }]);
  assert.deepEqual([desktop.ended, embedded.ended], [[], []]);
  const pending = enforcer.beginConnection(user('u1'), build('b1'), 'sign-in-phone');
  enforcer.signedOut('sign-in-phone');
  assert.deepEqual(pending.cancelled, { code: 4001, reason: 'signed out' });
  enforcer.signInChanged(user('u1'));
  assert.deepEqual([desktop.ended, embedded.ended], [[{ code: 4001, reason: 'sign-in changed' }], [{ code: 4001, reason: 'sign-in changed' }]]);
});

test('a revocation during set-up cancels the pending connection', async () => {
  const { enforcer } = setup();
  const pending = enforcer.beginConnection(user('u1'), build('b1'), null);
  enforcer.membershipChanged(APP, user('u1'), 'tester');
  assert.deepEqual(pending.cancelled, { code: 4001, reason: 'role no longer allows remote access' });
  const ended: number[] = [];
  pending.activate({ userId: user('u1'), appId: APP, buildId: build('b1'), kind: 'vnc', endpoint: 'vm-1', openedAt: new Date(), signInId: null, sessionEpoch: 'epoch-1', end: (code) => ended.push(code), windowChanged: () => undefined }, null);
  await Promise.resolve();
  assert.deepEqual(ended, [4001], 'activated anyway, it ends immediately');
  const pending2 = enforcer.beginConnection(user('u2'), build('b2'), null);
  enforcer.windowChanged(build('b2'), new Date(0), 'revoke');
  assert.equal(pending2.cancelled?.code, 4000);
});

test('idle: input resets the clock; silence closes with 4002', () => {
  const { clock, open } = setup(30);
  const busy = open('u1', 'b1', null);
  const idle = open('u2', 'b1', null);
  for (let i = 0; i < 4; i++) {
    clock.advance(10 * MINUTE);
    busy.touch();
  }
  assert.deepEqual(busy.ended, []);
  assert.equal(idle.ended[0]?.code, 4002);
});

test('deadlines beyond the 24.8-day timer limit do not fire early', () => {
  const { clock, open } = setup(60 * 24);
  const far = 40 * 24 * 60 * MINUTE;
  const c = open('u1', 'b1', new Date(clock.now() + far));
  for (let day = 0; day < 39; day++) {
    clock.advance(24 * 60 * MINUTE - 1);
    c.touch();
  }
  assert.deepEqual(c.ended, []);
});

test('shutdown ends everything with the given code', () => {
  const { enforcer, open } = setup();
  const a = open('u1', 'b1', null);
  const b = open('u2', 'b2', null);
  enforcer.endAll(1001, 'gateway shutting down');
  assert.equal(a.ended[0]?.code, 1001);
  assert.equal(b.ended[0]?.code, 1001);
  assert.equal(enforcer.size, 0);
});

test('events: a deadline that ends connections is a window_closed; revocations always, other losses only when they end something', () => {
  const clock = new FakeClock();
  const events: GatewayEvent[] = [];
  const enforcer = new AccessEnforcer({ logger: pino({ level: 'silent' }), idleTimeoutMs: 30 * MINUTE, clock, events: { record: (e) => events.push(e) } });
  const connect = (userId: string, buildId: string, closesAt: Date | null): void => {
    enforcer.beginConnection(user(userId), build(buildId), null).activate(
      { userId: user(userId), appId: APP, buildId: build(buildId), kind: 'ssh', endpoint: 'vm-1', openedAt: new Date(clock.now()), signInId: null, sessionEpoch: 'epoch-1', end: () => undefined, windowChanged: () => undefined },
      closesAt,
    );
  };
  connect('u-1', 'b-1', new Date(clock.now() + MINUTE));
  connect('u-2', 'b-1', new Date(clock.now() + MINUTE));
  clock.advance(MINUTE);
  assert.deepEqual(events.splice(0), [{ type: 'window_closed', buildId: 'b-1', connectionsEnded: 2 }]);

  enforcer.windowChanged(build('b-2'), new Date(clock.now() - MINUTE), 'update');
  enforcer.membershipChanged(APP, user('u-9'), 'tester');
  enforcer.userRemoved(user('u-9'));
  assert.deepEqual(events.splice(0), [], 'nothing was taken from anyone');

  enforcer.windowChanged(build('b-2'), new Date(clock.now()), 'revoke');
  connect('u-3', 'b-3', null);
  enforcer.membershipChanged(APP, user('u-3'), null);
  assert.deepEqual(events.splice(0), [
    { type: 'access_revoked', buildId: 'b-2', userId: null, appId: null, reason: 'access revoked', connectionsEnded: 0 },
    { type: 'access_revoked', buildId: null, userId: 'u-3', appId: APP, reason: 'removed from the app', connectionsEnded: 1 },
  ]);
  enforcer.dispose();
});

test('a build change: a replaced VM endpoint ends its kind (4005); a move re-checks each role on the new app (4001); the rest follow it', async () => {
  const clock = new FakeClock();
  const roles = new Map<string, Role>([['u-dev', 'developer'], ['u-test', 'tester']]);
  const enforcer = new AccessEnforcer({ logger: pino({ level: 'silent' }), idleTimeoutMs: 30 * MINUTE, clock, roleOf: async (_app, userId) => roles.get(userId) ?? null });
  const ended = new Map<string, { code: number; reason: string }>();
  const connect = (name: string, userId: string, kind: 'ssh' | 'vnc', endpoint: string): void => {
    enforcer.beginConnection(user(userId), build('b-1'), null).activate(
      { userId: user(userId), appId: APP, buildId: build('b-1'), kind, endpoint, openedAt: new Date(clock.now()), signInId: null, sessionEpoch: 'epoch-1', end: (code, reason) => ended.set(name, { code, reason }), windowChanged: () => undefined },
      null,
    );
  };
  connect('shell', 'u-dev', 'ssh', 'ssh-1');
  connect('screen', 'u-dev', 'vnc', 'vnc-1');
  enforcer.buildChanged(build('b-1'), { appId: APP, endpoints: { ssh: 'ssh-1', vnc: 'vnc-1' } });
  assert.equal(ended.size, 0, 'the same registration again ends nothing');
  enforcer.buildChanged(build('b-1'), { appId: APP, endpoints: { ssh: 'ssh-2', vnc: 'vnc-1' } });
  assert.deepEqual(Object.fromEntries(ended), { shell: { code: 4005, reason: 'build VM replaced' } });
  enforcer.buildChanged(build('b-1'), { appId: APP, endpoints: { ssh: 'ssh-2', vnc: null } });
  assert.deepEqual(ended.get('screen'), { code: 4005, reason: 'build VM replaced' }, 'a screen endpoint taken away');

  ended.clear();
  const OTHER = 'app-2' as AppId;
  connect('dev', 'u-dev', 'ssh', 'ssh-2');
  connect('tester', 'u-test', 'ssh', 'ssh-2');
  connect('stranger', 'u-none', 'ssh', 'ssh-2');
  enforcer.buildChanged(build('b-1'), { appId: OTHER, endpoints: { ssh: 'ssh-2', vnc: null } });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(Object.fromEntries(ended), {
    tester: { code: 4001, reason: 'build moved to another app' },
    stranger: { code: 4001, reason: 'build moved to another app' },
  });
  assert.deepEqual(enforcer.liveConnections().map((c) => c.appId), [OTHER], 'the survivor belongs to the new app');
  enforcer.membershipChanged(APP, user('u-dev'), null);
  assert.equal(ended.has('dev'), false, 'the former app no longer matters');
  enforcer.membershipChanged(OTHER, user('u-dev'), 'tester');
  assert.deepEqual(ended.get('dev'), { code: 4001, reason: 'role no longer allows remote access' });
  enforcer.dispose();
});

test('a build change during set-up: a connection that read the old VM is cancelled (4005); one that read the old app is re-checked on the new one', async () => {
  const clock = new FakeClock();
  const roles = new Map<string, Role>([['u-dev', 'developer']]);
  const enforcer = new AccessEnforcer({ logger: pino({ level: 'silent' }), idleTimeoutMs: 30 * MINUTE, clock, roleOf: async (_app, userId) => roles.get(userId) ?? null });
  const OTHER = 'app-2' as AppId;
  const ended = new Map<string, number>();
  const pendings = ['old-vm', 'u-dev', 'u-none'].map((name) => ({ name, pending: enforcer.beginConnection(user(name), build('b-1'), null) }));
  enforcer.buildChanged(build('b-1'), { appId: OTHER, endpoints: { ssh: 'ssh-new', vnc: null } });
  for (const { name, pending } of pendings) {
    const endpoint = name === 'old-vm' ? 'ssh-old' : 'ssh-new';
    pending.activate({ userId: user(name), appId: APP, buildId: build('b-1'), kind: 'ssh', endpoint, openedAt: new Date(), signInId: null, sessionEpoch: 'epoch-1', end: (code) => ended.set(name, code), windowChanged: () => undefined }, null);
  }
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(Object.fromEntries(ended), { 'old-vm': 4005, 'u-none': 4001 });
  assert.deepEqual(enforcer.liveConnections().map((c) => [c.userId, c.appId]), [['u-dev', OTHER]]);
  enforcer.dispose();
});

test('without a way to read roles, a moved connection ends: access that cannot be confirmed is not kept', () => {
  const clock = new FakeClock();
  const enforcer = new AccessEnforcer({ logger: pino({ level: 'silent' }), idleTimeoutMs: 30 * MINUTE, clock });
  const ended: number[] = [];
  enforcer.beginConnection(user('u-1'), build('b-1'), null).activate(
    { userId: user('u-1'), appId: APP, buildId: build('b-1'), kind: 'ssh', endpoint: 'e', openedAt: new Date(), signInId: null, sessionEpoch: 'epoch-1', end: (code) => ended.push(code), windowChanged: () => undefined },
    null,
  );
  enforcer.buildChanged(build('b-1'), { appId: 'app-2' as AppId, endpoints: { ssh: 'e', vnc: null } });
  assert.deepEqual(ended, [4001]);
  enforcer.dispose();
});

test('a recorded connection does not follow its build to another app: it ends with 4005, so its recording stays whole under the old one', () => {
  const clock = new FakeClock();
  const enforcer = new AccessEnforcer({ logger: pino({ level: 'silent' }), idleTimeoutMs: 30 * MINUTE, clock, roleOf: async () => 'developer' });
  const ended = new Map<string, number>();
  for (const [name, recorded] of [['recorded', true], ['plain', false]] as const) {
    enforcer.beginConnection(user(name), build('b-1'), null).activate(
      { userId: user(name), appId: APP, buildId: build('b-1'), kind: 'ssh', endpoint: 'e', openedAt: new Date(), signInId: null, sessionEpoch: 'epoch-1', recorded, end: (code) => ended.set(name, code), windowChanged: () => undefined },
      null,
    );
  }
  enforcer.buildChanged(build('b-1'), { appId: 'app-2' as AppId, endpoints: { ssh: 'e', vnc: null } });
  assert.deepEqual(Object.fromEntries(ended), { recorded: 4005 });
  assert.deepEqual(enforcer.liveConnections().map((c) => c.userId), ['plain']);
  enforcer.dispose();
});

test('reconciliation after a sign-in change ends only connections opened under the old sign-in', () => {
  const clock = new FakeClock();
  const enforcer = new AccessEnforcer({ logger: pino({ level: 'silent' }), idleTimeoutMs: 30 * MINUTE, clock });
  const ended = new Map<string, number>();
  for (const epoch of ['epoch-old', 'epoch-new']) {
    enforcer.beginConnection(user('u-1'), build('b-1'), null).activate(
      { userId: user('u-1'), appId: APP, buildId: build('b-1'), kind: 'ssh', endpoint: 'e', openedAt: new Date(), signInId: null, sessionEpoch: epoch, end: (code) => ended.set(epoch, code), windowChanged: () => undefined },
      null,
    );
  }
  enforcer.signInChanged(user('u-1'), 'epoch-new');
  assert.deepEqual(Object.fromEntries(ended), { 'epoch-old': 4001 });
  enforcer.signInChanged(user('u-1'));
  assert.deepEqual(Object.fromEntries(ended), { 'epoch-old': 4001, 'epoch-new': 4001 }, 'without an epoch (the notification) every connection ends');
  enforcer.dispose();
});
