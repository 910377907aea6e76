/**
 * A build's session recordings and the replay page. The replay's terminal content is fetched and
 * drawn by asciinema-player in the browser (client/src/pages/replay.ts); it never passes through
 * this markup.
 */
import type { RecordingView } from '../../../../shared/src/api.js';
import { formatRemaining } from '../../../../shared/src/format.js';
import type { BuildRecord } from '../../store/store.js';
import type { PageAssets } from '../assets.js';
import { html, type Html } from './html.js';
import { layout, timeElement, type SignedInUser } from './layout.js';

const BYTES_PER_KIB = 1024;

export interface RecordingsPageOptions {
  readonly assets: PageAssets;
  readonly user: SignedInUser;
  readonly build: BuildRecord;
  readonly appName: string;
  readonly recordings: readonly RecordingView[];
}

export function recordingsPage(o: RecordingsPageOptions): Html {
  const rows = o.recordings.map(
    (r) => html`<tr role="row" data-recording-id="${r.id}">
      <td role="cell" data-label="Started">${timeElement(new Date(r.startedAt))}</td>
      <td role="cell" data-label="Length">${duration(r)}</td>
      <td role="cell" data-label="User">${r.userName ?? r.userId}</td>
      <td role="cell" data-label="Size">${size(r.sizeBytes)}${r.droppedBytes > 0 ? html` <span class="badge badge-closed" title="Output the disk could not keep up with">gaps</span>` : ''}</td>
      <td role="cell" data-label="Actions"><a href="${r.replayUrl}">Replay</a> · <a href="${r.url}" download>Download</a></td>
    </tr>`,
  );
  return layout({
    title: `Recordings · Build ${o.build.id}`,
    assets: o.assets,
    user: o.user,
    body: html`${breadcrumbs(o.build, null)}
<h1>Session recordings</h1>
<p class="muted">Terminal sessions on build <span class="mono">${o.build.id}</span> (${o.appName}). Output and window sizes are recorded; keystrokes are not.</p>
${o.recordings.length === 0
  ? html`<p class="empty">No recordings for this build. Recording is switched on per app by the CI system, or for the whole deployment by its operators.</p>`
  : html`<div class="table-wrap"><table class="table table-cards" role="table">
  <thead role="rowgroup"><tr role="row"><th role="columnheader" scope="col">Started</th><th role="columnheader" scope="col">Length</th><th role="columnheader" scope="col">User</th><th role="columnheader" scope="col">Size</th><th role="columnheader" scope="col">Actions</th></tr></thead>
  <tbody role="rowgroup">${rows}</tbody>
</table></div>`}`,
  });
}

export interface ReplayPageOptions {
  readonly assets: PageAssets;
  readonly user: SignedInUser;
  readonly build: BuildRecord;
  readonly recording: RecordingView;
}

/** The replay speeds offered; the page (client/src/pages/replay.ts) starts at 1× or the remembered one. */
export const REPLAY_SPEEDS = [0.5, 1, 1.5, 2, 4] as const;

export function replayPage(o: ReplayPageOptions): Html {
  const r = o.recording;
  return layout({
    title: `Replay · Build ${o.build.id}`,
    assets: o.assets,
    user: o.user,
    body: html`${breadcrumbs(o.build, r)}
<header class="build-header">
  <h1>Session replay</h1>
  <p class="build-meta">Started ${timeElement(new Date(r.startedAt))} · ${duration(r)} · ${r.userName ?? r.userId} · <a href="${r.url}" download>Download (.cast)</a></p>
</header>
${r.droppedBytes > 0 ? html`<p class="alert alert-warning" role="status">${size(r.droppedBytes)} of output could not be recorded because the disk did not keep up; the replay marks where.</p>` : ''}
<div class="replay-controls"><label for="replay-speed">Speed</label> <select id="replay-speed">${REPLAY_SPEEDS.map((speed) => html`<option value="${String(speed)}">${String(speed)}×</option>`)}</select> <span class="muted small">Space plays and pauses; ← and → step 5 s; the bar below seeks.</span></div>
<div id="player" class="replay-player" data-cast-url="${r.url}" aria-label="Recorded terminal session"></div>`,
  });
}

function breadcrumbs(build: BuildRecord, recording: RecordingView | null): Html {
  return html`<nav class="breadcrumbs" aria-label="Breadcrumb"><a href="/">Builds</a> <span aria-hidden="true">/</span> <a href="/builds/${build.id}">${build.id}</a> <span aria-hidden="true">/</span> ${recording
    ? html`<a href="/builds/${build.id}/recordings">Recordings</a> <span aria-hidden="true">/</span> <span class="mono">${recording.id.slice(0, 8)}</span>`
    : html`<span>Recordings</span>`}</nav>`;
}

function duration(r: RecordingView): string {
  if (r.endedAt === null) return 'in progress or interrupted';
  return formatRemaining(Date.parse(r.endedAt) - Date.parse(r.startedAt));
}

function size(bytes: number): string {
  if (bytes < BYTES_PER_KIB) return `${bytes} B`;
  if (bytes < BYTES_PER_KIB * BYTES_PER_KIB) return `${(bytes / BYTES_PER_KIB).toFixed(1)} KiB`;
  return `${(bytes / BYTES_PER_KIB / BYTES_PER_KIB).toFixed(1)} MiB`;
}
