/**
 * A build's window events (issue #20) against a real gateway: the current window first, then each
 * Extend, finish and revoke at once; the same refusals as `GET .../window`; a per-user cap; the
 * stream ends when its browser signs out and when the gateway drains.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type TestAgent from 'supertest/lib/agent.js';
import request from 'supertest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, registerClosingBuild, seedWorld, signIn, type World } from '../helpers/seed.js';
import { cookieOfAgent, openWindowEvents, type WindowEventsClient } from '../helpers/window-events.js';
import { pollUntil } from '../helpers/ports.js';
import { MAX_WINDOW_STREAMS_PER_USER } from '../../server/src/sessions/window-watchers.js';

const MINUTE = 60_000;

describe('window events', () => {
  let gw: TestGateway;
  let world: World;
  let developer: TestAgent;
  const open: WindowEventsClient[] = [];

  before(async () => {
    gw = await startGateway();
    world = await seedWorld(gw, { ssh: { host: '127.0.0.1', port: 9, username: 'runner', password: 'events-ssh-password' } });
    developer = await signIn(gw, world.users.developer);
  });
  after(async () => {
    for (const s of open) s.close();
    await gw.close();
  });

  async function stream(agent: TestAgent, buildId: string): Promise<WindowEventsClient> {
    const s = await openWindowEvents(gw, cookieOfAgent(agent, gw), buildId);
    open.push(s);
    return s;
  }

  /** A finished build of app-1 whose window closes `closesInMinutes` from now, extendable by 15-minute steps. */
  async function finishedBuild(id: string, closesInMinutes: number): Promise<string> {
    const res = await registerClosingBuild(gw, id, closesInMinutes, {
      stack: 'linux',
      remoteAccess: { ssh: { host: '127.0.0.1', port: 9, username: 'runner', password: 'events-ssh-password' } },
      graceMinutes: gw.config.graceMinutes,
    });
    assert.ok(res.status === 200 || res.status === 201, JSON.stringify(res.body));
    return res.body.window.closesAt as string;
  }

  test('the current window first, then an Extend, a finish and a revoke as they happen', async () => {
    const closesAt = await finishedBuild('ev-1', 5);
    const s = await stream(developer, 'ev-1');
    assert.equal(s.status, 200);
    assert.match(String(s.headers['content-type']), /^text\/event-stream/);
    assert.equal(s.headers['cache-control'], 'no-store');
    assert.equal(s.headers['x-accel-buffering'], 'no');
    const first = await s.next('window');
    assert.deepEqual([first.data['closesAt'], first.data['open'], first.data['canExtend']], [closesAt, true, true]);

    const extended = await developer.post('/api/v1/builds/ev-1/extend').set('Origin', gw.origin);
    assert.equal(extended.status, 200, JSON.stringify(extended.body));
    await s.next('window', (d) => d['closesAt'] === extended.body.closesAt && d['canExtend'] === false);

    // The orchestrator finishes it again later (a replay does not take the extension back): a PUT
    // that moves the close time forward reaches the page too.
    const earlier = new Date(Date.now() + 2 * MINUTE - gw.config.graceMinutes * MINUTE).toISOString();
    const put = await control(gw).put('/builds/ev-1', {
      appId: 'app-1',
      stack: 'linux',
      status: 'finished',
      startedAt: new Date(Date.now() - 60 * MINUTE).toISOString(),
      finishedAt: earlier,
      remoteAccess: { ssh: { host: '127.0.0.1', port: 9, username: 'runner', password: 'events-ssh-password' } },
    });
    assert.ok(put.status < 300, JSON.stringify(put.body));
    await s.next('window', (d) => d['closesAt'] === put.body.window.closesAt);

    assert.equal((await control(gw).post('/builds/ev-1/revoke')).status, 200);
    await s.next('window', (d) => d['open'] === false && d['canExtend'] === false);
    // The page learns the rest from its countdown; the stream stays for the member.
    assert.equal(s.events.filter((e) => e.event === 'end').length, 0);
  });

  test('a release on another browser reaches this one', async () => {
    await finishedBuild('ev-release', 5);
    const s = await stream(developer, 'ev-release');
    await s.next('window', (d) => d['open'] === true);
    const admin = await signIn(gw, world.users.admin);
    assert.equal((await admin.post('/api/v1/builds/ev-release/release').set('Origin', gw.origin)).status, 200);
    await s.next('window', (d) => d['open'] === false);
  });

  test('refused exactly as GET .../window refuses; a tester, a member, may follow it', async () => {
    await finishedBuild('ev-refuse', 5);
    const tester = await signIn(gw, world.users.tester);
    const outsider = await signIn(gw, world.users.outsider);
    const anonymous = request.agent(gw.url);
    for (const [who, agent, buildId] of [
      ['anonymous', anonymous, 'ev-refuse'],
      ['member of another app', outsider, 'ev-refuse'],
      ['unknown build', developer, 'no-such-build'],
      ['tester', tester, 'ev-refuse'],
    ] as const) {
      const polled = await agent.get(`/api/v1/builds/${buildId}/window`);
      const s = await stream(agent, buildId);
      assert.equal(s.status, polled.status, who);
      if (s.status === 200) {
        const first = await s.next('window');
        assert.deepEqual({ ...first.data, remainingMs: 0 }, { ...polled.body, remainingMs: 0 }, who);
      } else {
        assert.equal(s.body?.['error'] && (s.body['error'] as { code: string }).code, polled.body.error.code, who);
      }
    }
  });

  test('past the per-user cap a stream is refused 429; closing one frees its slot', async () => {
    await finishedBuild('ev-cap', 5);
    const agent = await signIn(gw, world.users.owner);
    const streams: WindowEventsClient[] = [];
    for (let i = 0; i < MAX_WINDOW_STREAMS_PER_USER; i++) {
      const s = await stream(agent, 'ev-cap');
      assert.equal(s.status, 200);
      streams.push(s);
    }
    const refused = await stream(agent, 'ev-cap');
    assert.equal(refused.status, 429);
    assert.equal((refused.body?.['error'] as { code: string }).code, 'too_many_window_streams');
    // Another user is not held to the owner's streams.
    assert.equal((await stream(developer, 'ev-cap')).status, 200);
    const first = streams[0];
    assert.ok(first);
    first.close();
    await first.ended;
    // The gateway hears the close a moment after the client does: the next open is tried until it fits.
    await pollUntil('a closed stream frees its slot', 5_000, async () => (await stream(agent, 'ev-cap')).status === 200);
    for (const s of open) s.close();
  });

  test("signing out ends that browser's stream, not another's", async () => {
    await finishedBuild('ev-out', 5);
    const leaving = await signIn(gw, world.users.admin);
    const staying = await signIn(gw, world.users.admin);
    const gone = await stream(leaving, 'ev-out');
    const kept = await stream(staying, 'ev-out');
    await Promise.all([gone.next('window'), kept.next('window')]);
    assert.ok((await leaving.post('/auth/logout').set('Origin', gw.origin)).status < 400);
    const end = await gone.next('end');
    assert.equal(end.data['reason'], 'signed out');
    await gone.ended;
    assert.equal(kept.events.filter((e) => e.event === 'end').length, 0);
  });

  test('leaving the app ends the stream', async () => {
    await finishedBuild('ev-member', 5);
    const agent = await signIn(gw, world.users.tester);
    const s = await stream(agent, 'ev-member');
    await s.next('window');
    assert.equal((await control(gw).del(`/apps/app-1/members/${world.users.tester.id}`)).status, 204);
    assert.equal((await s.next('end')).data['reason'], 'access ended');
    await s.ended;
  });

  test('a drain ends every stream and refuses new ones', async () => {
    await finishedBuild('ev-drain', 5);
    const s = await stream(developer, 'ev-drain');
    await s.next('window');
    await gw.app.drain();
    await s.next('end');
    await s.ended;
    const refused = await stream(developer, 'ev-drain');
    assert.equal(refused.status, 503);
    assert.equal((refused.body?.['error'] as { code: string }).code, 'draining');
  });
});
