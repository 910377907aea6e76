/**
 * A real OpenID provider (the `oidc-provider` package) on a free loopback port, for single sign-on
 * tests. Its own sign-in page is a minimal form (the package's development pages load web fonts
 * from the internet): type an account id, press "Continue", and the provider signs that account
 * in and grants the requested scopes in one step.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import Provider, { type Configuration } from 'oidc-provider';

export interface OidcAccount {
  readonly sub: string;
  readonly email: string;
  readonly emailVerified: boolean;
  readonly name?: string;
}

export interface TestOidcProvider {
  /** The issuer URL, e.g. http://127.0.0.1:40123 */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Registers the gateway's callback URL (known only once the gateway listens); call before use. */
  setRedirectUri(uri: string): void;
  /** Adds or replaces an account that can sign in by its `sub`. */
  addAccount(account: OidcAccount): void;
  stop(): Promise<void>;
}

const INTERACTION_PREFIX = '/interaction/';
/** The sign-in form posts a short account id; anything longer is not one of ours. */
const MAX_FORM_BYTES = 4096;

export async function startOidcProvider(): Promise<TestOidcProvider> {
  const accounts = new Map<string, OidcAccount>();
  const clientId = `porthole-${randomBytes(4).toString('hex')}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const server: Server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const configure = (redirectUri: string): Configuration => ({
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    interactions: { url: (_ctx, interaction) => `${INTERACTION_PREFIX}${interaction.uid}` },
    findAccount: (_ctx, sub) => {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        claims: () => ({ sub, email: account.email, email_verified: account.emailVerified, ...(account.name ? { name: account.name } : {}) }),
      };
    },
  });
  let provider: Provider | null = null;
  let handle: ReturnType<Provider['callback']> | null = null;

  const interaction = async (provider: Provider, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(`<!doctype html><title>Test provider</title><h1>Test provider sign-in</h1>
<form method="post" action="${INTERACTION_PREFIX}${details.uid}"><label for="account">Account</label>
<input id="account" name="account" autofocus><button type="submit">Continue</button></form>`);
      return;
    }
    const body = await readBody(req);
    const accountId = new URLSearchParams(body).get('account') ?? '';
    if (!accounts.has(accountId)) {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'unknown account' }, { mergeWithLastSubmission: false });
      return;
    }
    const grant = new provider.Grant({ accountId, clientId: String(details.params['client_id']) });
    const scope = details.params['scope'];
    grant.addOIDCScope(typeof scope === 'string' ? scope : 'openid');
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!provider || !handle) {
      res.writeHead(503, { 'Content-Type': 'text/plain' });
      res.end('no client registered yet');
      return;
    }
    if (req.url?.startsWith(INTERACTION_PREFIX)) {
      interaction(provider, req, res).catch((error: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`interaction failed: ${String(error)}`);
      });
      return;
    }
    void handle(req, res);
  });

  return {
    issuer,
    clientId,
    clientSecret,
    setRedirectUri: (uri) => {
      provider = new Provider(issuer, configure(uri));
      handle = provider.callback();
    },
    addAccount: (account) => accounts.set(account.sub, account),
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req as AsyncIterable<Buffer>) {
    body += chunk.toString('utf8');
    if (body.length > MAX_FORM_BYTES) throw new Error('form too large');
  }
  return body;
}
