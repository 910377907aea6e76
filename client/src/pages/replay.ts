/**
 * Replay page: plays a recorded terminal session with asciinema-player. The recording is fetched
 * with the session cookie from the same origin; the player draws it as text and never runs it.
 */
import '../styles/app.css';
import 'asciinema-player/dist/bundle/asciinema-player.css';
import '../styles/replay.css';
import { create } from 'asciinema-player';
import { localiseTimes } from '../lib/local-time.js';
import { browserStorage, readSetting, writeSetting } from '../lib/storage.js';

/** Long pauses (someone reading a man page) are shortened to this many seconds. */
const IDLE_TIME_LIMIT_SECONDS = 2;
const SPEED_SETTING_KEY = 'porthole.replay.speed';
/** Bounds a stored speed to what the menu offers (the server renders the menu). */
const SPEED_MIN = 0.25;
const SPEED_MAX = 8;

localiseTimes();

type Player = ReturnType<typeof create>;

const container = document.getElementById('player');
const url = container?.dataset['castUrl'];
const speedMenu = document.getElementById('replay-speed') as HTMLSelectElement | null;
if (container && url) {
  const storage = browserStorage();
  const stored = Number(readSetting(storage, SPEED_SETTING_KEY));
  const offered = speedMenu ? [...speedMenu.options].map((o) => Number(o.value)) : [];
  let speed = offered.includes(stored) && stored >= SPEED_MIN && stored <= SPEED_MAX ? stored : 1;
  if (speedMenu) speedMenu.value = String(speed);

  const play = (startAt: number): Player =>
    create({ url, fetchOpts: { credentials: 'same-origin', cache: 'no-store' } }, container, {
      autoPlay: true,
      preload: true,
      fit: 'width',
      // Always shown: hidden-until-hover controls are invisible on touch screens and to first-time users.
      controls: true,
      speed,
      startAt,
      idleTimeLimit: IDLE_TIME_LIMIT_SECONDS,
      terminalFontFamily: 'ui-monospace, "SF Mono", "Cascadia Code", "DejaVu Sans Mono", Menlo, Consolas, monospace',
    });
  let player = play(0);

  // The player takes its speed only when created: a new one continues from where this one is.
  speedMenu?.addEventListener('change', () => {
    const next = Number(speedMenu.value);
    if (!(next >= SPEED_MIN && next <= SPEED_MAX)) return;
    speed = next;
    writeSetting(storage, SPEED_SETTING_KEY, String(speed));
    const old = player;
    void Promise.resolve(old.getCurrentTime()).then((at) => {
      old.dispose();
      player = play(Number.isFinite(at) ? at : 0);
    });
  });
}
