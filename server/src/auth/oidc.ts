/**
 * OpenID Connect sign-in through passport and openid-client's strategy: authorization code with
 * PKCE (S256), and always a `state` and a `nonce`, kept in the login session and checked on the
 * way back. The provider says who the person is; Porthole says what they may do: the ID token's
 * subject (or verified email) must match a user the orchestrator registered through the control
 * API. Nobody is created on first sign-in.
 *
 * The provider's metadata is fetched on first use rather than at start-up, so a provider outage
 * breaks single sign-on only (and only until it is back), never the gateway's start.
 */
import * as client from 'openid-client';
import { Strategy, type AuthenticateOptions, type VerifyFunction } from 'openid-client/passport';
import type { Request } from 'express';
import type { OidcConfig } from '../config/config.js';
import type { Logger } from '../log.js';
import type { Store, UserRecord } from '../store/store.js';
import { toExpressUser, type PassportInstance } from './passport.js';

export const OIDC_STRATEGY = 'oidc';
/** What Porthole asks for: the subject, and the email to match users registered by email. */
const OIDC_SCOPE = 'openid email profile';
/** A provider slower than this to answer discovery or the code exchange is treated as down. */
const PROVIDER_TIMEOUT_S = 10;

/** Why a sign-in through the provider did not produce a Porthole user. */
export type OidcRefusal = 'not_registered' | 'subject_mismatch';

export const OIDC_REFUSAL_MESSAGES: Readonly<Record<OidcRefusal, string>> = {
  not_registered: 'Your account is not registered with Porthole. Ask your CI administrator for access.',
  subject_mismatch: 'This email is registered to a different single sign-on account.',
};

/** Adds state and nonce even where PKCE alone would do: both are checked by openid-client on return. */
class StateAndNonceStrategy extends Strategy {
  override authorizationRequestParams<TOptions extends AuthenticateOptions>(req: Request, options: TOptions): URLSearchParams {
    const params = new URLSearchParams(super.authorizationRequestParams(req, options));
    params.set('state', client.randomState());
    params.set('nonce', client.randomNonce());
    return params;
  }
}

export interface OidcLogin {
  readonly providerName: string;
  /** Registers the strategy with passport once the provider's metadata is known. */
  ready(): Promise<void>;
}

/** Finds the Porthole user for an ID token: by subject first, then by verified email. */
export async function userForClaims(store: Store, claims: client.IDToken): Promise<{ ok: true; user: UserRecord } | { ok: false; reason: OidcRefusal }> {
  const bySubject = await store.getUserByOidcSubject(claims.sub);
  if (bySubject) return { ok: true, user: bySubject };
  // An unverified email is whatever the person typed at the provider: never enough to be someone.
  const email = typeof claims['email'] === 'string' && claims['email_verified'] === true ? claims['email'] : null;
  const byEmail = email === null ? null : await store.getUserByEmail(email);
  if (!byEmail) return { ok: false, reason: 'not_registered' };
  // A user registered with a subject signs in with that subject only.
  if (byEmail.oidcSubject !== null) return { ok: false, reason: 'subject_mismatch' };
  return { ok: true, user: byEmail };
}

/**
 * Many providers put `email` in the UserInfo response only, not in the ID token; fetch it there
 * (openid-client checks that its subject is the ID token's).
 */
async function withEmail(configuration: client.Configuration, tokens: client.TokenEndpointResponse, claims: client.IDToken): Promise<client.IDToken> {
  if (typeof claims['email'] === 'string') return claims;
  const info = await client.fetchUserInfo(configuration, tokens.access_token, claims.sub);
  return { ...claims, email: info.email, email_verified: info.email_verified };
}

export function createOidcLogin(config: OidcConfig, passport: PassportInstance, store: Store, logger: Logger): OidcLogin {
  let registered: Promise<void> | null = null;
  const verifyWith = (configuration: client.Configuration): VerifyFunction => (tokens, verified) => {
    const claims = tokens.claims();
    if (!claims) {
      verified(null, false, { message: 'not_registered' });
      return;
    }
    withEmail(configuration, tokens, claims)
      .then((full) => userForClaims(store, full))
      .then(
      (found) => {
        if (!found.ok) {
          logger.info({ event: 'oidc_login_failed', reason: found.reason }, 'single sign-on refused');
          verified(null, false, { message: found.reason });
          return;
        }
        verified(null, toExpressUser(found.user));
      },
      (error: unknown) => {
        verified(error);
      },
    );
  };
  const discover = async (): Promise<void> => {
    const insecure = config.issuer.protocol === 'http:';
    const configuration = await client.discovery(
      config.issuer,
      config.clientId,
      undefined,
      config.clientSecret === null ? client.None() : client.ClientSecretBasic(config.clientSecret),
      { timeout: PROVIDER_TIMEOUT_S, ...(insecure ? { execute: [client.allowInsecureRequests] } : {}) },
    );
    passport.use(
      OIDC_STRATEGY,
      new StateAndNonceStrategy(
        { config: configuration, name: OIDC_STRATEGY, sessionKey: 'oidc', callbackURL: config.redirectUri, scope: OIDC_SCOPE },
        verifyWith(configuration),
      ),
    );
    logger.info({ event: 'oidc_ready', issuer: config.issuer.href }, 'single sign-on provider discovered');
  };
  return {
    providerName: config.providerName,
    ready() {
      registered ??= discover().catch((error: unknown) => {
        registered = null; // try again on the next sign-in
        throw error;
      });
      return registered;
    },
  };
}
