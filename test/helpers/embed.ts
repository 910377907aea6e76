/**
 * The embedding flow as a dashboard backend and an embed page drive it: launch through the
 * control API, then the page's one-time exchange and its credential-authorised calls.
 */
import request from 'supertest';
import type { EmbedCredentialView, EmbedSessionView } from '../../shared/src/embed.js';
import type { GatewayAddress, TestGateway } from './gateway.js';
import { control } from './seed.js';

/** POST /api/v1/embed-sessions with the control token: `{userId, buildId, kind, parentOrigin, viewOnly?}`. */
export function launch(gw: TestGateway, body: Readonly<Record<string, unknown>>): request.Test {
  return control(gw).post('/embed-sessions', body);
}

export async function launchOk(gw: TestGateway, body: Readonly<Record<string, unknown>>): Promise<EmbedSessionView> {
  const res = await launch(gw, body);
  if (res.status !== 201) throw new Error(`launch refused: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as EmbedSessionView;
}

/** What the embed page reads from its address: the launch token (fragment), parent and kind. */
export function parseLaunchUrl(url: string): { token: string; parentOrigin: string; kind: 'ssh' | 'vnc'; path: string } {
  const parsed = new URL(url);
  const token = new URLSearchParams(parsed.hash.slice(1)).get('launch') ?? '';
  return {
    token,
    parentOrigin: parsed.searchParams.get('parent') ?? '',
    kind: parsed.pathname === '/embed/screen' ? 'vnc' : 'ssh',
    path: `${parsed.pathname}${parsed.search}`,
  };
}

/** The embed page's POST /api/v1/embed/credentials, sent from the gateway's own origin without cookies. */
export function exchange(gw: GatewayAddress, body: Record<string, unknown>): request.Test {
  return request(gw.url).post('/api/v1/embed/credentials').set('Origin', gw.origin).send(body);
}

export async function exchangeOk(gw: GatewayAddress, url: string): Promise<EmbedCredentialView> {
  const { token, parentOrigin, kind } = parseLaunchUrl(url);
  const res = await exchange(gw, { launch: token, kind, parentOrigin });
  if (res.status !== 201) throw new Error(`exchange refused: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as EmbedCredentialView;
}

/** POST /api/v1/embed/connections with the credential, as the embed page mints tickets. */
export function mintEmbedTicket(gw: TestGateway, credential: string): request.Test {
  return request(gw.url).post('/api/v1/embed/connections').set('Origin', gw.origin).set('Authorization', `Bearer ${credential}`);
}
