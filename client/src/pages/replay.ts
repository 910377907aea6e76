/**
 * Replay page: plays a recorded terminal session with asciinema-player. The recording is fetched
 * with the session cookie from the same origin; the player draws it as text and never runs it.
 */
import '../styles/app.css';
import 'asciinema-player/dist/bundle/asciinema-player.css';
import '../styles/replay.css';
import { create } from 'asciinema-player';
import { localiseTimes } from '../lib/local-time.js';

/** Long pauses (someone reading a man page) are shortened to this many seconds. */
const IDLE_TIME_LIMIT_SECONDS = 2;

localiseTimes();

const container = document.getElementById('player');
const url = container?.dataset['castUrl'];
if (container && url) {
  create({ url, fetchOpts: { credentials: 'same-origin', cache: 'no-store' } }, container, {
    autoPlay: true,
    preload: true,
    fit: 'width',
    idleTimeLimit: IDLE_TIME_LIMIT_SECONDS,
    terminalFontFamily: 'ui-monospace, "SF Mono", "Cascadia Code", "DejaVu Sans Mono", Menlo, Consolas, monospace',
  });
}
