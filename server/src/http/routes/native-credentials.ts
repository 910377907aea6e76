/**
 * The audited Reveal: VM passwords for native ssh / VNC clients, only on an explicit request by an
 * allowed user, never cached, and switched off entirely by PORTHOLE_SHOW_NATIVE_CREDENTIALS=false.
 */
import { Router } from 'express';
import { parseId, type BuildId } from '../../../../shared/src/ids.js';
import type { NativeCredentialsView } from '../../../../shared/src/api.js';
import { GatewayError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import { loadBuildStanding } from '../../access/build-access.js';
import { REFUSAL_MESSAGES } from '../../access/remote-access.js';
import { vmSecretContext, type VmSecretField } from '../../domain/vm-secrets.js';
import type { EventSink } from '../../audit/events.js';

export interface NativeCredentialsDeps {
  readonly store: Store;
  readonly secrets: SecretBox;
  readonly enabled: boolean;
  readonly now: () => Date;
  /** Each reveal goes to the audit trail. */
  readonly events: EventSink;
}

export function nativeCredentialsRouter(deps: NativeCredentialsDeps): Router {
  const router = Router();

  router.get('/builds/:buildId/remote-access', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const user = req.user;
    if (!user) throw new GatewayError('unauthenticated', 'Sign in first.');
    // A cross-site page cannot read this answer anyway; refusing it keeps it out of the audit trail.
    const site = req.get('sec-fetch-site');
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      throw new GatewayError('forbidden_origin', 'Cross-site requests are not allowed.');
    }
    const buildId = parseId<BuildId>(req.params['buildId']);
    const standing = buildId.ok ? await loadBuildStanding(deps.store, buildId.value, user.id, deps.now()) : null;
    if (!standing) throw new GatewayError('not_found', REFUSAL_MESSAGES.not_found);
    if (!standing.decision.ok) throw new GatewayError(standing.decision.error, REFUSAL_MESSAGES[standing.decision.error]);
    if (!deps.enabled) throw new GatewayError('credentials_hidden', 'This deployment does not reveal VM credentials; use the in-page terminal and screen.');

    const { build } = standing;
    const open = (sealed: string | null, field: VmSecretField): string | null => {
      if (sealed === null) return null;
      const opened = deps.secrets.open(sealed, vmSecretContext(build.id, field));
      if (!opened.ok) throw new Error(`stored ${field} of build ${build.id} cannot be decrypted (${opened.error})`);
      return opened.value;
    };
    const vncPassword = build.vnc ? open(build.vnc.sealedPassword, 'vnc.password') : null;
    const body: NativeCredentialsView = {
      ssh: { username: build.ssh.username, password: open(build.ssh.sealedPassword, 'ssh.password'), hasPrivateKey: build.ssh.sealedPrivateKey !== null },
      vnc: build.vnc && vncPassword !== null ? { username: build.vnc.username, password: vncPassword } : null,
    };
    deps.events.record({ type: 'native_credentials_revealed', userId: user.id, buildId: build.id, role: standing.role });
    res.json(body);
  });

  return router;
}
