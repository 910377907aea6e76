/** Build page: local times, the window countdown, copy buttons and the audited password Reveal. */
import '../styles/app.css';
import type { NativeCredentialsView } from '../../../shared/src/api.js';
import { getJson } from '../lib/api.js';
import { wireCopyButtons } from '../lib/copy.js';
import { startCountdowns } from '../lib/countdown.js';
import { localiseTimes } from '../lib/local-time.js';

localiseTimes();
wireCopyButtons();
startCountdowns(() => {
  // The server is the authority; reloading shows the closed state it renders.
  window.location.reload();
});
wireReveal();

function wireReveal(): void {
  const panel = document.querySelector<HTMLElement>('[data-build-id]');
  const buildId = panel?.dataset['buildId'];
  if (!buildId) return;
  let pending: Promise<NativeCredentialsView> | null = null;
  for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-reveal]')) {
    const kind = button.dataset['reveal'];
    if (kind !== 'ssh' && kind !== 'vnc') continue;
    button.addEventListener('click', () => {
      button.disabled = true;
      pending ??= getJson<NativeCredentialsView>(`/api/v1/builds/${encodeURIComponent(buildId)}/remote-access`);
      pending.then(
        (creds) => {
          const secret = kind === 'ssh' ? creds.ssh.password : (creds.vnc?.password ?? null);
          const output = document.getElementById(`${kind}-password`);
          if (output) output.textContent = secret ?? 'not set';
          button.hidden = true;
          const copy = document.querySelector<HTMLButtonElement>(`button[data-copy="${kind}-password"]`);
          if (copy) copy.hidden = false;
        },
        (error: unknown) => {
          pending = null;
          button.disabled = false;
          const output = document.getElementById(`${kind}-password`);
          if (output) output.textContent = error instanceof Error ? error.message : 'Could not reveal the password.';
        },
      );
    });
  }
}
