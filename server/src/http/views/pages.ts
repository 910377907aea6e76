/**
 * Server-rendered pages. Everything shown comes from the store or the VM's registration and is
 * escaped by `html`; browser scripts only enhance (countdown, copy, reveal) and are loaded from
 * Vite bundles, never inline.
 */
import { REMOTE_ACCESS_ROLES, type Role } from '../../../../shared/src/roles.js';
import type { BuildListing, BuildRecord } from '../../store/store.js';
import type { PageAssets } from '../assets.js';
import { html, type Html } from './html.js';
import { layout, timeElement, type SignedInUser } from './layout.js';
import { nativeSshCommand, screenshareAddress } from '../../domain/native-instructions.js';
import { formatRemaining } from '../../../../shared/src/format.js';
import { canExtendNow } from '../../access/extension.js';
import type { ConnectionKind } from '../../../../shared/src/protocol/kinds.js';

/** The ways to sign in this gateway offers. */
export interface SignInMethods {
  /** Email + password. */
  readonly local: boolean;
  /** The OpenID Connect provider's display name, when single sign-on is configured. */
  readonly ssoProvider: string | null;
}

export function loginPage(opts: { assets: PageAssets; next: string; error: string | null; email: string; methods: SignInMethods }): Html {
  const { methods } = opts;
  const ssoHref = `/auth/oidc?next=${encodeURIComponent(opts.next)}`;
  return layout({
    title: 'Sign in',
    assets: opts.assets,
    user: null,
    body: html`<section class="card card-narrow" aria-labelledby="login-title">
  <h1 id="login-title">Sign in to Porthole</h1>
  <p class="muted">Open a terminal or screen on your build's virtual machine.</p>
  ${opts.error ? html`<p class="alert alert-error" role="alert">${opts.error}</p>` : ''}
  ${methods.ssoProvider !== null
    ? html`<p class="form"><a class="button ${methods.local ? '' : 'button-primary'}" href="${ssoHref}">Sign in with ${methods.ssoProvider}</a></p>`
    : ''}
  ${methods.local
    ? html`<form method="post" action="/auth/login" class="form">
    <input type="hidden" name="next" value="${opts.next}">
    <label for="email">Email</label>
    <input id="email" name="email" type="email" autocomplete="username" required value="${opts.email}" autofocus>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button class="button button-primary" type="submit">Sign in</button>
  </form>`
    : ''}
</section>`,
  });
}

export function buildsPage(opts: { assets: PageAssets; user: SignedInUser; builds: readonly BuildListing[]; now: Date }): Html {
  const rows = opts.builds.map(
    ({ build, appName, role }) => html`<tr role="row">
      <td role="cell" data-label="Build"><a href="/builds/${build.id}">${build.id}</a></td>
      <td role="cell" data-label="App">${appName}</td>
      <td role="cell" data-label="Stack">${stackLabel(build.stack)}</td>
      <td role="cell" data-label="Status">${statusBadge(build)}</td>
      <td role="cell" data-label="Remote access">${windowSummary(build, opts.now)}</td>
      <td role="cell" data-label="Your role">${roleLabel(role)}</td>
      <td role="cell" data-label="Open" class="launch">${launchLinks(build, role, opts.now)}</td>
    </tr>`,
  );
  return layout({
    title: 'Builds',
    assets: opts.assets,
    user: opts.user,
    body: html`<h1>Your builds</h1>
<p class="muted">Builds rebuilt with remote access on the apps you belong to.</p>
${opts.builds.length === 0
  ? html`<p class="empty">No builds with remote access yet. Choose <strong>Rebuild with Remote Access</strong> on a build to see it here.</p>`
  : html`<div class="table-wrap"><table class="table table-cards" role="table">
  <thead role="rowgroup"><tr role="row"><th role="columnheader" scope="col">Build</th><th role="columnheader" scope="col">App</th><th role="columnheader" scope="col">Stack</th><th role="columnheader" scope="col">Status</th><th role="columnheader" scope="col">Remote access</th><th role="columnheader" scope="col">Your role</th><th role="columnheader" scope="col">Open</th></tr></thead>
  <tbody role="rowgroup">${rows}</tbody>
</table></div>`}`,
  });
}

export type BuildAccessState =
  | { readonly kind: 'allowed'; readonly role: Role }
  | { readonly kind: 'role_forbidden'; readonly role: Role }
  | { readonly kind: 'window_closed'; readonly role: Role };

export interface BuildPageOptions {
  readonly assets: PageAssets;
  readonly user: SignedInUser;
  readonly build: BuildRecord;
  readonly appName: string;
  readonly access: BuildAccessState;
  readonly showNativeCredentials: boolean;
  /** PORTHOLE_WATCH: the live-session list is shown (client/src/pages/build.ts fills it). */
  readonly watchEnabled: boolean;
  /** PORTHOLE_GRACE_MINUTES. */
  readonly graceMinutes: number;
  /** The build's sessions are recorded, or some were: "Session recordings" leads somewhere. */
  readonly recordingsLink: boolean;
  readonly now: Date;
}

/** "10 minutes", "1 minute", "1.5 minutes": the setting allows fractions. */
export function graceText(minutes: number): string {
  return `${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;
}

export function buildPage(o: BuildPageOptions): Html {
  const { build } = o;
  const remainingMs = build.closesAt ? Math.max(0, build.closesAt.getTime() - o.now.getTime()) : null;
  return layout({
    title: `Build ${build.id}`,
    assets: o.assets,
    user: o.user,
    body: html`<nav class="breadcrumbs" aria-label="Breadcrumb"><a href="/">Builds</a> <span aria-hidden="true">/</span> <span>${build.id}</span></nav>
<header class="build-header">
  <h1>Build <span class="mono">${build.id}</span></h1>
  <p class="build-meta">${o.appName} · ${stackLabel(build.stack)} · ${statusBadge(build)} · your role: ${roleLabel(o.access.role)}</p>
</header>
<section class="card" aria-labelledby="window-title">
  <h2 id="window-title">Access window</h2>
  <dl class="facts">
    <dt>Opened</dt><dd>${timeElement(build.startedAt)}</dd>
    <dt>Closes</dt><dd>${build.closesAt ? timeElement(build.closesAt) : `While the build runs, and for ${graceText(o.graceMinutes)} after it ends`}</dd>
    ${remainingMs !== null
      ? html`<dt>Remaining</dt><dd><span class="countdown" data-countdown data-remaining-ms="${remainingMs}" aria-live="polite">${formatRemaining(remainingMs)}</span></dd>`
      : ''}
  </dl>
  ${windowActions(o)}
</section>
${accessBody(o)}
${o.access.kind === 'role_forbidden' || !o.recordingsLink ? '' : html`<p class="recordings-link"><a href="/builds/${build.id}/recordings">Session recordings</a></p>`}`,
  });
}

/**
 * Extend and release (issue #20), for a user who may connect while the window is open. Extend is
 * rendered whenever the orchestrator granted extensions and shown only while it can work (the
 * close time is known and in its last step); client/src/lib/window-actions.ts keeps that live.
 */
export function windowActions(o: Pick<BuildPageOptions, 'build' | 'access' | 'graceMinutes' | 'now'>): Html | '' {
  if (o.access.kind !== 'allowed') return '';
  const step = o.build.extensions?.stepMinutes;
  const extend =
    step === undefined
      ? ''
      : html`<button type="button" class="button" data-extend data-step-minutes="${step}"${canExtendNow(o.build, o.now, o.graceMinutes) ? '' : ' hidden'}>Extend ${step} min</button>`;
  return html`<div class="window-actions" data-window-actions>
    ${extend}
    <button type="button" class="button" data-release>I'm done — release the VM</button>
    <p class="window-actions-status" data-window-actions-status role="status" hidden></p>
  </div>`;
}

function accessBody(o: BuildPageOptions): Html {
  switch (o.access.kind) {
    case 'role_forbidden':
      return html`<section class="card alert alert-error" role="alert" data-refusal="role_forbidden">
  <h2>Remote access not available</h2>
  <p>Your role on this app can't use remote access. Testers/QA members can't open terminals or screens on build machines; ask an owner or admin of the app if you need access.</p>
</section>`;
    case 'window_closed':
      return html`<section class="card alert alert-warning" role="status" data-refusal="window_closed">
  <h2>The access window has closed</h2>
  <p>Remote access is available while the build runs and for a short time after it ends. Rebuild with remote access to connect again.</p>
</section>`;
    case 'allowed':
      return html`${actions(o.build)}${o.watchEnabled ? liveSessions() : ''}${instructions(o)}`;
  }
}

function actions(build: BuildRecord): Html {
  return html`<section class="actions" aria-label="Connect">
  <a class="button button-primary" href="/builds/${build.id}/terminal">Open terminal</a>
  ${build.stack === 'macos' && build.vnc ? html`<a class="button" href="/builds/${build.id}/screen">Open screen</a>` : ''}
</section>`;
}

/** Filled and kept live by the page's script from GET …/live-sessions; empty without it. */
function liveSessions(): Html {
  return html`<section class="card" aria-labelledby="live-sessions-title" data-live-sessions>
  <h2 id="live-sessions-title">Live sessions</h2>
  <p class="muted small" data-live-sessions-status aria-live="polite">No one is connected to this build.</p>
  <ul class="live-sessions" data-live-sessions-list></ul>
</section>`;
}

function instructions(o: BuildPageOptions): Html {
  const { build } = o;
  const ssh = nativeSshCommand(build.ssh);
  const vnc = build.vnc;
  const revealNote = o.showNativeCredentials
    ? ''
    : html`<p class="muted small">This deployment does not show VM passwords. Use the in-page terminal and screen instead.</p>`;
  return html`<section class="card" aria-labelledby="instructions-title" data-build-id="${build.id}">
  <h2 id="instructions-title">Remote Access Instructions</h2>
  <h3>SSH</h3>
  <p>Run this command in a terminal:</p>
  ${copyable('ssh-command', ssh.command, 'SSH command')}
  ${build.ssh.hostKey
    ? html`<p class="small">The first time, ssh shows the VM's host key fingerprint and asks whether to continue: answer <em>yes</em> only if it is <code class="mono" id="ssh-fingerprint">${build.ssh.hostKey}</code>.</p>
  ${ssh.pinnedCommand !== null ? html`<details class="small"><summary>Or let the command check the fingerprint</summary><p>This one-liner (for a POSIX shell) fetches the VM's host key, keeps it only if its fingerprint matches, and connects with strict checking: no question to answer, and any other key is refused.</p>${copyable('ssh-command-pinned', ssh.pinnedCommand, 'SSH command pinned to the host key')}</details>` : ''}`
    : html`<p class="small muted">The VM's host key is not registered; check the fingerprint ssh shows on first connect.</p>`}
  ${passwordRow(o, 'ssh', build.ssh.sealedPassword !== null, build.ssh.sealedPrivateKey !== null)}
  ${vnc
    ? html`<h3>Screenshare</h3>
  <p>Open a VNC screen-sharing app (on macOS, <strong>Screen Sharing</strong>) and enter:</p>
  <dl class="facts">
    <dt>Address</dt><dd>${copyable('vnc-address', screenshareAddress(vnc), 'Screenshare address')}</dd>
    ${vnc.username ? html`<dt>Username</dt><dd>${copyable('vnc-username', vnc.username, 'Screenshare username')}</dd>` : ''}
  </dl>
  ${passwordRow(o, 'vnc', true, false)}`
    : ''}
  ${revealNote}
</section>`;
}

function passwordRow(o: BuildPageOptions, kind: ConnectionKind, hasPassword: boolean, hasKey: boolean): Html {
  const label = kind === 'ssh' ? 'SSH password' : 'Screenshare password';
  if (!hasPassword) {
    return hasKey ? html`<p class="small muted">This VM accepts a key held by Porthole, not a password: use the in-page terminal.</p>` : html``;
  }
  if (!o.showNativeCredentials) return html``;
  return html`<div class="secret-row" data-secret="${kind}">
  <span class="secret-label">${label}</span>
  <output class="secret-value mono" id="${kind}-password" aria-label="${label}">••••••••••••</output>
  <button class="button button-small" type="button" data-reveal="${kind}">Reveal</button>
  <button class="button button-small" type="button" data-copy="${kind}-password" hidden>Copy</button>
</div>`;
}

function copyable(id: string, value: string, label: string): Html {
  return html`<div class="copyable"><code class="mono" id="${id}" aria-label="${label}">${value}</code><button class="button button-small" type="button" data-copy="${id}">Copy</button></div>`;
}

export function errorPage(opts: { assets: PageAssets; user: SignedInUser | null; title: string; message: string }): Html {
  return layout({
    title: opts.title,
    assets: opts.assets,
    user: opts.user,
    body: html`<section class="card card-narrow"><h1>${opts.title}</h1><p>${opts.message}</p><p><a href="/">Back to your builds</a></p></section>`,
  });
}

function statusBadge(build: BuildRecord): Html {
  return html`<span class="badge badge-${build.status}">${build.status}</span>`;
}

function stackLabel(stack: BuildRecord['stack']): string {
  return stack === 'macos' ? 'macOS' : 'Linux';
}

function roleLabel(role: Role): string {
  return role === 'tester' ? 'Tester/QA' : role[0]?.toUpperCase() + role.slice(1);
}

function windowSummary(build: BuildRecord, now: Date): Html {
  if (build.closesAt === null) return html`<span class="badge badge-open">open</span>`;
  const remainingMs = build.closesAt.getTime() - now.getTime();
  if (remainingMs <= 0) return html`<span class="badge badge-closed">closed</span>`;
  // client/src/pages/builds.ts counts it down.
  return html`<span class="badge badge-open">open</span> until ${timeElement(build.closesAt)} · closes in <span class="countdown" data-closes-in data-remaining-ms="${remainingMs}">${formatRemaining(remainingMs)}</span>`;
}

/** The list as a launcher: Terminal (and Screen on macOS) where the user may connect now. */
function launchLinks(build: BuildRecord, role: Role, now: Date): Html {
  if (!REMOTE_ACCESS_ROLES.has(role)) return html`<span class="muted">not available for your role</span>`;
  if (build.closesAt !== null && build.closesAt.getTime() <= now.getTime()) return html`<span class="muted">—</span>`;
  const screen = build.stack === 'macos' && build.vnc !== null ? html` <a class="button button-small" href="/builds/${build.id}/screen">Screen</a>` : '';
  // One element: in the phone's card layout a cell's children are laid out beside its label.
  return html`<span class="launch-links"><a class="button button-small" href="/builds/${build.id}/terminal">Terminal</a>${screen}</span>`;
}
