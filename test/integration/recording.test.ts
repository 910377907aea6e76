/** Session recording of real terminals: the per-app switch, the file, and who may list and download. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, seedWorld, signIn, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';
import { connectTerminal, mintTicket, mintWatchTicket } from '../helpers/terminal-client.js';
import { waitForAudit } from '../helpers/ops.js';
import { pollUntil } from '../helpers/ports.js';
import { parseAsciicast } from '../helpers/asciicast.js';
import type { RecordingView } from '../../shared/src/api.js';

const TYPED_SECRET = 'typed-secret-xyz';
/** Closing a small file and updating one row; only a wedged disk takes longer. */
const RECORDING_FINISH_TIMEOUT_MS = 10_000;

describe('session recording', () => {
  let sshd: SshdHandle;
  let gw: TestGateway;
  let world: World;

  before(async () => {
    sshd = await startSshd();
    gw = await startGateway();
    world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
  });
  after(async () => {
    await gw.close();
    await sshd.stop();
  });

  /** Runs a short session: output, a resize, and a line typed with echo off. `recorded`: what `ready` must say. */
  async function session(target: TestGateway = gw, user = world.users.developer, recorded?: boolean): Promise<string> {
    const agent = await signIn(target, user);
    const t = await connectTerminal(await mintTicket(target, agent, 'build-linux'), target, { size: { cols: 120, rows: 40 } });
    const ready = await t.waitForControl('ready');
    if (recorded !== undefined) assert.equal(ready.type === 'ready' && ready.recorded, recorded, 'the page is told whether the session is recorded');
    t.type('echo rec-$((40+2))\r');
    await t.waitForOutput(/[\r\n]rec-42\r\n/);
    const mark = t.output().length;
    t.resize(132, 43);
    t.type('stty size\r');
    await t.waitForOutput(/[\r\n]43 132\r\n/, mark);
    const quiet = t.output().length;
    t.type('stty -echo; echo ECHO-OFF; read -r line; stty echo; echo "got-${#line}"\r');
    // The printed line, not the echoed command: only now is the terminal really not echoing.
    await t.waitForOutput(/[\r\n]ECHO-OFF\r\n/, quiet);
    t.type(`${TYPED_SECRET}\r`);
    await t.waitForOutput(/[\r\n]got-16\r\n/);
    t.ws.close(1000);
    await t.closed;
    const closed = await waitForAudit(target, (e) => e.event === 'connection_closed' && e.userId === user.id, { buildId: 'build-linux', limit: 1 });
    return String(closed.details['connectionId']);
  }

  function fetchRecording(agent: Awaited<ReturnType<typeof signIn>>, url: string): ReturnType<Awaited<ReturnType<typeof signIn>>['get']> {
    return agent
      .get(url)
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });
  }

  async function download(agent: Awaited<ReturnType<typeof signIn>>, url: string): Promise<string> {
    const res = await fetchRecording(agent, url);
    assert.equal(res.status, 200);
    return (res.body as Buffer).toString('utf8');
  }

  /** The one recording not in `earlier`, once it is finished; `why` says why there must be one. */
  async function onlyNewRecording(agent: Awaited<ReturnType<typeof signIn>>, earlier: ReadonlySet<string>, why: string): Promise<RecordingView> {
    let added: RecordingView[] = [];
    await pollUntil('recording finished', RECORDING_FINISH_TIMEOUT_MS, async () => {
      added = (await recordings(agent)).filter((r) => !earlier.has(r.id));
      return added.length > 0 && added.every((r) => r.endedAt !== null);
    });
    assert.equal(added.length, 1, why);
    const [recording] = added;
    assert.ok(recording);
    return recording;
  }

  async function recordings(agent: Awaited<ReturnType<typeof signIn>>, buildId = 'build-linux'): Promise<RecordingView[]> {
    const res = await agent.get(`/api/v1/builds/${buildId}/recordings`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return (res.body as { recordings: RecordingView[] }).recordings;
  }

  test('off by default: a session leaves no recording', async () => {
    await session(gw, world.users.developer, false);
    const opened = await waitForAudit(gw, (e) => e.event === 'connection_opened', { buildId: 'build-linux' });
    assert.equal(opened.details['recorded'], false);
    assert.deepEqual(await recordings(await signIn(gw, world.users.developer)), []);
  });

  test('"recordSessions": true on the app records output and resizes as asciicast v2, never input', async () => {
    const on = await control(gw).put('/apps/app-1', { name: 'Mobile App', recordSessions: true });
    assert.equal(on.status, 200);
    assert.deepEqual(on.body, { id: 'app-1', name: 'Mobile App', recordSessions: true });
    const renamed = await control(gw).put('/apps/app-1', { name: 'Mobile App' });
    assert.equal(renamed.body.recordSessions, true, 'a PUT without the field keeps the setting');
    assert.equal((await control(gw).put('/apps/app-1', { name: 'Mobile App', recordSessions: 'yes' })).status, 400);

    const connectionId = await session(gw, world.users.developer, true);
    const opened = await waitForAudit(gw, (e) => e.event === 'connection_opened' && e.details['connectionId'] === connectionId);
    assert.equal(opened.details['recorded'], true);

    const developer = await signIn(gw, world.users.developer);
    // The file is closed and its row completed just after the connection_closed row.
    let recording: RecordingView | undefined;
    await pollUntil('recording finished', RECORDING_FINISH_TIMEOUT_MS, async () => {
      [recording] = await recordings(developer);
      return recording?.endedAt !== null;
    });
    assert.ok(recording);
    assert.equal(recording.userId, world.users.developer.id);
    assert.equal(recording.userName, world.users.developer.id);
    assert.ok(recording.endedAt !== null && Date.parse(recording.endedAt) >= Date.parse(recording.startedAt));
    assert.equal(recording.droppedBytes, 0);
    assert.equal(recording.url, `/api/v1/builds/build-linux/recordings/${recording.id}`);
    assert.equal(recording.replayUrl, `/builds/build-linux/recordings/${recording.id}`);

    const download = await fetchRecording(developer, recording.url);
    assert.equal(download.status, 200);
    assert.equal(download.get('Content-Type'), 'application/x-asciicast');
    assert.equal(download.get('Content-Disposition'), `attachment; filename="build-build-linux-${recording.id}.cast"`);
    assert.equal(download.get('Cache-Control'), 'no-store');
    const text = (download.body as Buffer).toString('utf8');
    assert.equal(Buffer.byteLength(text), recording.sizeBytes);

    const cast = parseAsciicast(text);
    assert.equal(cast.header.width, 120);
    assert.equal(cast.header.height, 40);
    assert.match(cast.output, /rec-42\r\n/);
    assert.match(cast.output, /43 132\r\n/);
    assert.match(cast.output, /got-16\r\n/);
    assert.ok(cast.events.some(([, code, data]) => code === 'r' && data === '132x43'));
    assert.equal(text.includes(TYPED_SECRET), false, 'what was typed with echo off is nowhere in the file');
    assert.equal(text.includes(world.vmSecrets.sshPassword), false);

    const file = join(gw.recordingsDir, `${recording.id}.cast`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(gw.recordingsDir).mode & 0o777, 0o700);
    assert.equal(readFileSync(file, 'utf8'), text);
  });

  test('only allowed users of the app list and download: testers 403, non-members 404, after the window too', async () => {
    const developer = await signIn(gw, world.users.developer);
    const [recording] = await recordings(developer);
    assert.ok(recording);
    const tester = await signIn(gw, world.users.tester);
    const outsider = await signIn(gw, world.users.outsider);
    for (const path of ['/api/v1/builds/build-linux/recordings', recording.url]) {
      const refused = await tester.get(path);
      assert.equal(refused.status, 403, path);
      assert.equal(refused.body.error.code, 'role_forbidden');
      const hidden = await outsider.get(path);
      assert.equal(hidden.status, 404, path);
      assert.equal(hidden.body.error.code, 'not_found');
      assert.equal((await request(gw.url).get(path)).status, 401, path);
    }
    assert.equal((await developer.get(`/api/v1/builds/build-mac/recordings/${recording.id}`)).status, 404, "another build's path");
    assert.equal((await developer.get('/api/v1/builds/build-linux/recordings/..%2F..%2Fporthole.db')).status, 404);
    assert.equal((await developer.get(`/api/v1/builds/build-linux/recordings/${'0'.repeat(24)}`)).status, 404);
    assert.deepEqual(await recordings(developer, 'build-old'), [], 'a closed window still lets members look back');

    const page = await developer.get('/builds/build-linux/recordings');
    assert.equal(page.status, 200);
    assert.ok(page.text.includes(`href="${recording.replayUrl}"`));
    assert.equal((await tester.get('/builds/build-linux/recordings')).status, 403);
    assert.equal((await outsider.get('/builds/build-linux/recordings')).status, 404);
    const replay = await developer.get(recording.replayUrl);
    assert.equal(replay.status, 200);
    assert.ok(replay.text.includes(`data-cast-url="${recording.url}"`));
    assert.match(replay.get('Content-Security-Policy') ?? '', /script-src 'self' 'wasm-unsafe-eval';/);
    assert.doesNotMatch(page.get('Content-Security-Policy') ?? '', /wasm/, 'only the replay page runs WebAssembly');
    assert.equal((await tester.get(recording.replayUrl)).status, 403);
    assert.equal((await developer.get(`/builds/build-linux/recordings/${'0'.repeat(24)}`)).status, 404);
    const buildPage = await developer.get('/builds/build-linux');
    assert.ok(buildPage.text.includes('href="/builds/build-linux/recordings"'));
    assert.equal((await tester.get('/builds/build-linux')).text.includes('/recordings'), false);
  });

  test('a watcher handed control: still one recording, whose markers say who typed from when, never the keys', async () => {
    const [developer, admin] = await Promise.all([signIn(gw, world.users.developer), signIn(gw, world.users.admin)]);
    const earlier = new Set((await recordings(developer)).map((r) => r.id));
    const owner = await connectTerminal(await mintTicket(gw, developer, 'build-linux'), gw);
    const ready = await owner.waitForControl('ready');
    assert.ok(ready.type === 'ready');
    const watcher = await connectTerminal(await mintWatchTicket(gw, admin, 'build-linux', ready.sessionId), gw);
    await watcher.waitForControl('ready');
    owner.ws.send(JSON.stringify({ type: 'control', userId: world.users.admin.id, mode: 'drive' }));
    await pollUntil('the watcher may type', RECORDING_FINISH_TIMEOUT_MS, () =>
      Promise.resolve(watcher.controls.some((c) => c.type === 'participants' && c.list.some((p) => p.you && p.mode === 'drive'))),
    );
    watcher.type('echo watcher-$((20+1))\r');
    await owner.waitForOutput(/[\r\n]watcher-21\r\n/);
    owner.type('echo owner-$((20+2))\r');
    await owner.waitForOutput(/[\r\n]owner-22\r\n/);
    owner.close();
    await Promise.all([owner.closed, watcher.closed]);

    const recording = await onlyNewRecording(developer, earlier, "the watcher's connection is not recorded apart");
    const cast = parseAsciicast(await download(developer, recording.url));
    const markers = cast.events.filter(([, code, data]) => code === 'm' && data.startsWith('typing: ')).map(([, , data]) => data);
    assert.deepEqual(markers, [`typing: ${world.users.admin.id} (${world.users.admin.id})`, `typing: ${world.users.developer.id} (${world.users.developer.id})`]);
    const typedAt = cast.events.findIndex(([, code, data]) => code === 'm' && data.includes(world.users.admin.id));
    const echoedAt = cast.events.findIndex(([, code, data]) => code === 'o' && data.includes('watcher-21'));
    assert.ok(typedAt >= 0 && typedAt < echoedAt, "the marker comes before the watcher's command runs");
  });

  test('a resumed session is still one recording: what came before and after the drop, in order (issue #15)', async () => {
    const developer = await signIn(gw, world.users.developer);
    const earlier = new Set((await recordings(developer)).map((r) => r.id));
    const first = await connectTerminal(await mintTicket(gw, developer, 'build-linux'), gw);
    const ready = await first.waitForControl('ready');
    assert.ok(ready.type === 'ready');
    first.type('echo first-$((30+1))\r');
    await first.waitForOutput(/[\r\n]first-31\r\n/);
    first.ws.terminate();
    await first.closed;
    await waitForAudit(gw, (e) => e.event === 'session_detached' && e.details['connectionId'] === ready.sessionId);
    const back = await connectTerminal(await mintTicket(gw, developer, 'build-linux', 'ssh', ready.sessionId), gw, { resumeFrom: first.outputBytes().length });
    await back.waitForControl('resumed');
    back.type('echo second-$((30+1))\r');
    await back.waitForOutput(/[\r\n]second-31\r\n/);
    back.close();
    await back.closed;
    const recording = await onlyNewRecording(developer, earlier, 'one file for the session, not one per page');
    const output = parseAsciicast(await download(developer, recording.url)).output;
    const before = output.search(/[\r\n]first-31\r\n/);
    const after = output.search(/[\r\n]second-31\r\n/);
    assert.ok(before >= 0 && after > before, 'both pages\' output, in order');
  });

  test('switching it off stops recording; PORTHOLE_RECORD_ALL records every app', async () => {
    assert.equal((await control(gw).put('/apps/app-1', { name: 'Mobile App', recordSessions: false })).body.recordSessions, false);
    const developer = await signIn(gw, world.users.developer);
    const before = (await recordings(developer)).length;
    await session();
    assert.equal((await recordings(developer)).length, before);

    const all = await startGateway({ PORTHOLE_RECORD_ALL: 'true' });
    try {
      const other = await seedWorld(all, { ssh: passwordEndpoint(sshd) });
      await session(all, other.users.developer);
      const agent = await signIn(all, other.users.developer);
      const listed = (await agent.get('/api/v1/builds/build-linux/recordings')).body as { recordings: RecordingView[] };
      assert.equal(listed.recordings.length, 1);
    } finally {
      await all.close();
    }
  });
});
