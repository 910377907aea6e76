/**
 * The relaying node's side of a cross-node resume, between a page and a stand-in for the holding
 * node (an in-process WebSocket server: the faults it injects — refusals, silence, floods — are the
 * point). The real two-node path is in test/integration/scale-out.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import { SessionRelays, type RelayedSession } from '../../server/src/cluster/session-relay.js';
import { deriveRelayKey, NonceMemory, verifyRelayAssertion } from '../../server/src/cluster/relay-assertion.js';
import { DrainTracker } from '../../server/src/sessions/drain.js';
import { Heartbeat } from '../../server/src/ws/heartbeat.js';
import { SSH_SUBPROTOCOL } from '../../shared/src/protocol/ssh-v1.js';
import type { BuildId, UserId } from '../../shared/src/ids.js';
import { freePort, pollUntil } from '../helpers/ports.js';

const key = deriveRelayKey(randomBytes(32));
const SESSION: RelayedSession = { sessionId: '0123456789abcdef', userId: 'u1' as UserId, buildId: 'b1' as BuildId, kind: 'ssh', watch: false, sessionEpoch: 'epoch-1', signInId: null };
const WAIT_MS = 10_000;
/** The holding node's send queue past this means it is held back by the relay, not by its own socket. */
const HOLDER_BLOCKED_BYTES = 8 * 1024 * 1024;

type HolderBehaviour = { readonly kind: 'accept'; readonly onSocket: (ws: WebSocket) => void } | { readonly kind: 'refuse'; readonly status: number };

let holder: Server;
let holderUrl: string;
let behaviour: HolderBehaviour = { kind: 'refuse', status: 500 };
const holderWss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has(SSH_SUBPROTOCOL) ? SSH_SUBPROTOCOL : false) });
const spent = new NonceMemory();

let pageServer: Server;
let pageUrl: string;
const pageWss = new WebSocketServer({ noServer: true, handleProtocols: () => SSH_SUBPROTOCOL });
const heartbeat = new Heartbeat(60_000);
const tracker = new DrainTracker();
const relays = new SessionRelays({ nodeId: 'node-b', key, now: () => new Date(), logger: pino({ level: 'silent' }), tracker, heartbeat });
/** The relaying node's socket to the page, of the latest page: its send queue is what backpressure bounds. */
let pageSide: WebSocket | null = null;

before(async () => {
  holder = createServer();
  holder.on('upgrade', (req, socket, head) => {
    const verified = verifyRelayAssertion(key, req.headers.authorization, 'node-a', new Date(), spent);
    assert.ok(verified.ok, 'the relay signs its upgrade');
    assert.equal(req.url, '/internal/v1/relay/ssh');
    const now = behaviour;
    if (now.kind === 'refuse') socket.end(`HTTP/1.1 ${now.status} Refused\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else holderWss.handleUpgrade(req, socket, head, (ws) => now.onSocket(ws));
  });
  pageServer = createServer();
  pageServer.on('upgrade', (req, socket, head) => {
    pageWss.handleUpgrade(req, socket, head, (ws) => {
      pageSide = ws;
      relays.open(ws, { stop: () => undefined }, SESSION, { nodeId: 'node-a', nodeUrl: holderUrl });
    });
  });
  await Promise.all([holder, pageServer].map((server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))));
  holderUrl = `http://127.0.0.1:${(holder.address() as AddressInfo).port}`;
  pageUrl = `ws://127.0.0.1:${(pageServer.address() as AddressInfo).port}/ws/ssh`;
});

after(() => {
  heartbeat.dispose();
  for (const ws of [...holderWss.clients, ...pageWss.clients]) ws.terminate();
  holder.close();
  pageServer.close();
});

function openPage(): Promise<WebSocket> {
  const page = new WebSocket(pageUrl, [SSH_SUBPROTOCOL]);
  return new Promise((resolve, reject) => {
    page.once('open', () => resolve(page));
    page.once('error', reject);
  });
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
}

function holderSocket(): Promise<WebSocket> {
  return new Promise((resolve) => (behaviour = { kind: 'accept', onSocket: resolve }));
}

test('messages go both ways in order, text and binary kept; what the page sent before the holder answered comes first', async () => {
  const accepted = holderSocket();
  const page = await openPage();
  const atHolder: string[] = [];
  // Sent at once, while the relay is still connecting to the holding node.
  page.send(JSON.stringify({ type: 'resume', offset: 42 }));
  page.send(Buffer.from('typed early'));
  const upstream = await accepted;
  upstream.on('message', (data: Buffer, isBinary) => atHolder.push(`${isBinary ? 'bin' : 'text'}:${data.toString('utf8')}`));
  page.send(Buffer.from('typed later'));
  await pollUntil('the page messages at the holder', WAIT_MS, async () => atHolder.length === 3);
  assert.deepEqual(atHolder, ['text:{"type":"resume","offset":42}', 'bin:typed early', 'bin:typed later']);
  const atPage: string[] = [];
  page.on('message', (data: Buffer, isBinary) => atPage.push(`${isBinary ? 'bin' : 'text'}:${data.toString('utf8')}`));
  upstream.send(JSON.stringify({ type: 'resumed', offset: 42 }));
  upstream.send(Buffer.from('output'));
  await pollUntil('the holder messages at the page', WAIT_MS, async () => atPage.length === 2);
  assert.deepEqual(atPage, ['text:{"type":"resumed","offset":42}', 'bin:output']);
  const holderSaw = closeOf(upstream);
  page.terminate();
  assert.deepEqual(await holderSaw, { code: 1001, reason: 'page left' }, 'a page that dropped leaves the session held');
});

test("the holding node's close code reaches the page; the page's own close reaches the holder", async () => {
  let accepted = holderSocket();
  let page = await openPage();
  let upstream = await accepted;
  const pageSaw = closeOf(page);
  upstream.close(4005, 'not resumed in time');
  assert.deepEqual(await pageSaw, { code: 4005, reason: 'not resumed in time' });

  accepted = holderSocket();
  page = await openPage();
  upstream = await accepted;
  const holderSaw = closeOf(upstream);
  page.close(1000, 'disconnect');
  assert.deepEqual(await holderSaw, { code: 1000, reason: 'disconnect' }, 'Disconnect ends the session on its node');
  await pollUntil('the relays to be gone', WAIT_MS, async () => relays.size === 0);
});

test('a refusal by the holding node, or no holding node at all, closes the page with a code it understands', async () => {
  for (const [status, code] of [
    [404, 4005],
    [503, 1001],
    [401, 1011],
    // A watcher the holding node refuses on its own check (issue #16).
    [403, 4003],
    [410, 4000],
  ] as const) {
    behaviour = { kind: 'refuse', status };
    const page = await openPage();
    assert.equal((await closeOf(page)).code, code, `HTTP ${status}`);
  }
  const closedPort = await freePort();
  const saved = holderUrl;
  holderUrl = `http://127.0.0.1:${closedPort}`;
  try {
    const page = await openPage();
    assert.equal((await closeOf(page)).code, 1001, 'unreachable: the page retries');
  } finally {
    holderUrl = saved;
  }
  assert.equal(relays.size, 0);
});

test('closeAll (a drain) sends the page 1001 and leaves the holder with 1001', async () => {
  const accepted = holderSocket();
  const page = await openPage();
  const upstream = await accepted;
  const [pageSaw, holderSaw] = [closeOf(page), closeOf(upstream)];
  relays.closeAll(1001, 'gateway restarting');
  assert.deepEqual(await pageSaw, { code: 1001, reason: 'gateway restarting' });
  assert.equal((await holderSaw).code, 1001);
});

test('a page that stops reading holds the holding node back, not the relay’s memory; nothing is lost', async () => {
  const accepted = holderSocket();
  const page = await openPage();
  const upstream = await accepted;
  let received = 0;
  page.on('message', (data: Buffer) => (received += data.length));
  // The browser stops reading: its socket is paused, so the kernel buffers fill and then the relay's queue.
  const pageSocket = (page as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  pageSocket.pause();
  const chunk = randomBytes(64 * 1024);
  let sent = 0;
  while (upstream.bufferedAmount < HOLDER_BLOCKED_BYTES) {
    upstream.send(chunk);
    sent += chunk.length;
    await new Promise((resolve) => setImmediate(resolve));
  }
  const queued = pageSide?.bufferedAmount ?? -1;
  assert.ok(queued >= 0 && queued <= 2 * 1024 * 1024, `the relay queued ${queued} bytes for the page`);
  pageSocket.resume();
  await pollUntil('everything to reach the page', WAIT_MS, async () => received === sent);
  page.close();
});
