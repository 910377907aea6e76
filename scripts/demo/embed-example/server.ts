/**
 * The embedding example: a tiny "dashboard" on another loopback site than the gateway, with the
 * backend docs/embedding.md describes. Its page frames the demo's builds through the SDK; its
 * backend asks the gateway's launch API with the control token, which never reaches the browser.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

/** A launch request is `{"kind":"ssh"}`; anything much bigger is not one. */
const MAX_LAUNCH_BODY_BYTES = 1024;

const launchRequestSchema = z.object({ kind: z.enum(['ssh', 'vnc']) });

export interface EmbedExampleOptions {
  /** How the browser addresses this example: another site than the gateway's. */
  readonly origin: string;
  readonly gatewayOrigin: string;
  readonly controlToken: string;
  /** The dashboard's signed-in user, as its own login would know them: one demo user here. */
  readonly userId: string;
  /** The build each kind of frame shows. */
  readonly builds: Readonly<Record<z.infer<typeof launchRequestSchema>['kind'], string>>;
}

interface StaticFile {
  readonly type: string;
  readonly body: string;
}

export function embedExampleHandler(options: EmbedExampleOptions): RequestListener {
  const files = staticFiles(options);
  const csp = contentSecurityPolicy(options.gatewayOrigin);
  return (req, res) => {
    const path = new URL(req.url ?? '/', options.origin).pathname;
    if (req.method === 'POST' && path === '/launch') {
      void launch(req, res, options).catch(() => answer(res, 502, { error: { code: 'bad_gateway', message: 'The gateway could not be asked for a launch URL.' } }));
      return;
    }
    const file = req.method === 'GET' ? files.get(path) : undefined;
    if (file === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': file.type, 'Cache-Control': 'no-store', 'Content-Security-Policy': csp }).end(file.body);
  };
}

/** The dashboard's backend: one launch URL per frame shown, for its user and the build of that kind. */
async function launch(req: IncomingMessage, res: ServerResponse, options: EmbedExampleOptions): Promise<void> {
  // Minting sessions is for this example's own page only, not for any page the browser has open.
  if (req.headers.origin !== options.origin) {
    answer(res, 403, { error: { code: 'forbidden_origin', message: 'Only the example page may launch.' } });
    return;
  }
  const parsed = launchRequestSchema.safeParse(await readJson(req));
  if (!parsed.success) {
    answer(res, 400, { error: { code: 'invalid_request', message: 'Send {"kind": "ssh"} or {"kind": "vnc"}.' } });
    return;
  }
  const { kind } = parsed.data;
  const launched = await fetch(`${options.gatewayOrigin}/api/v1/embed-sessions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${options.controlToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ userId: options.userId, buildId: options.builds[kind], kind, parentOrigin: options.origin }),
  });
  // 201 {url, expiresAt}, or the gateway's own error (a closed window, a refused role) for the page to show.
  answer(res, launched.status, await launched.json());
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > MAX_LAUNCH_BODY_BYTES) return null;
  }
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify(body));
}

function staticFiles(options: EmbedExampleOptions): ReadonlyMap<string, StaticFile> {
  const read = (name: string): string => readFileSync(resolve(import.meta.dirname, name), 'utf8');
  const html = read('index.html').replaceAll('%GATEWAY_ORIGIN%', escapeHtml(options.gatewayOrigin)).replaceAll('%EXAMPLE_ORIGIN%', escapeHtml(options.origin));
  return new Map([
    ['/', { type: 'text/html; charset=utf-8', body: html }],
    ['/page.js', { type: 'text/javascript; charset=utf-8', body: read('page.js') }],
    ['/page.css', { type: 'text/css; charset=utf-8', body: read('page.css') }],
  ]);
}

/** What docs/embedding.md asks of a dashboard with a CSP: the gateway in script-src and frame-src. */
function contentSecurityPolicy(gatewayOrigin: string): string {
  return [
    "default-src 'none'",
    `script-src 'self' ${gatewayOrigin}`,
    `frame-src ${gatewayOrigin}`,
    "style-src 'self'",
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
