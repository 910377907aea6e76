/**
 * Ids made only of dots (".", "..", "...") are path segments a browser or proxy rewrites, so a build
 * registered as ".." would get page links that point somewhere else. Every door that takes an
 * orchestrator id refuses them as invalid_field before anything is stored or looked up.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, seedWorld } from '../helpers/seed.js';
import type { BuildId } from '../../shared/src/ids.js';

const DOT_IDS = ['.', '..', '...', '.'.repeat(64)] as const;
/** The dashboard allowed to ask for embed launches in this test. */
const DASHBOARD_ORIGIN = 'https://dashboard.example';

let gw: TestGateway;

before(async () => {
  gw = await startGateway({ PORTHOLE_EMBED_ORIGINS: DASHBOARD_ORIGIN });
  await seedWorld(gw);
});
after(() => gw.close());

interface Answer {
  readonly status: number;
  readonly body: { error?: { code?: string; message?: string } };
}

/**
 * Sends the path exactly as written: URL parsers in HTTP clients fold "." and ".." segments, but
 * an orchestrator's hand-built request or a raw socket does not.
 */
function rawRequest(method: string, path: string, body?: unknown): Promise<Answer> {
  const url = new URL(gw.url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: { Authorization: `Bearer ${gw.controlToken}`, ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? {} : (JSON.parse(text) as Answer['body']) }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function assertInvalid(answer: Answer, what: string): void {
  assert.equal(answer.status, 400, `${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
  assert.equal(answer.body.error?.code, 'invalid_field', what);
}

const BUILD = { appId: 'app-1', stack: 'linux', status: 'running', startedAt: new Date().toISOString(), remoteAccess: { ssh: { host: '127.0.0.1', port: 2222, username: 'vagrant', password: 'pw-dots' } } };

describe('dot-only ids', () => {
  test('the control API refuses them in every path segment, literal or percent-encoded', async () => {
    for (const id of DOT_IDS) {
      for (const segment of [id, id.replaceAll('.', '%2E')]) {
        assertInvalid(await rawRequest('PUT', `/api/v1/builds/${segment}`, BUILD), `PUT build ${segment}`);
        assertInvalid(await rawRequest('GET', `/api/v1/builds/${segment}`), `GET build ${segment}`);
        assertInvalid(await rawRequest('POST', `/api/v1/builds/${segment}/finish`), `finish build ${segment}`);
        assertInvalid(await rawRequest('PUT', `/api/v1/users/${segment}`, { email: 'dots@example.test' }), `PUT user ${segment}`);
        assertInvalid(await rawRequest('PUT', `/api/v1/apps/${segment}`, { name: 'Dots' }), `PUT app ${segment}`);
        assertInvalid(await rawRequest('PUT', `/api/v1/apps/app-1/members/${segment}`, { role: 'developer' }), `PUT member ${segment}`);
      }
    }
    // Nothing was stored under any of them.
    for (const id of DOT_IDS) assert.equal(await gw.store.getBuild(id as BuildId), null, id);
  });

  test('ids in bodies and queries: the build app, embed launches and the audit filter', async () => {
    const api = control(gw);
    for (const id of DOT_IDS) {
      assertInvalid(await api.put('/builds/b-dots', { ...BUILD, appId: id }), `build appId ${id}`);
      assertInvalid(
        await api.post('/embed-sessions', { userId: 'user-developer', buildId: id, kind: 'ssh', parentOrigin: DASHBOARD_ORIGIN }),
        `embed buildId ${id}`,
      );
      assertInvalid(
        await api.post('/embed-sessions', { userId: id, buildId: 'build-linux', kind: 'ssh', parentOrigin: DASHBOARD_ORIGIN }),
        `embed userId ${id}`,
      );
      assertInvalid(await api.get(`/audit?buildId=${encodeURIComponent(id)}`), `audit buildId ${id}`);
      assertInvalid(await api.get(`/audit?userId=${encodeURIComponent(id)}`), `audit userId ${id}`);
    }
  });

  test('ids that merely contain dots still work', async () => {
    const api = control(gw);
    for (const id of ['.hidden', 'v1.2.3', 'a..b', '-.']) {
      const res = await api.put(`/builds/${id}`, BUILD);
      assert.equal(res.status, 201, `${id}: ${JSON.stringify(res.body)}`);
      assert.equal((await api.get(`/builds/${id}`)).body.id, id);
    }
  });
});
