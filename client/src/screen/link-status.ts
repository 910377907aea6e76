/**
 * The toolbar's link readout, fed by the current viewer: its FramebufferUpdates (novnc-hooks.ts),
 * the bytes on its WebSocket, and a round trip to the gateway's /healthz, which answers without
 * touching the store, over the same origin and network path as the screen's socket. Each second's
 * update times also go to Quality Auto.
 */
import type RFB from '@novnc/novnc';
import type { AutoSample } from './auto-quality.js';
import { hookFrames } from './novnc-hooks.js';
import { describeLink, LinkMeter } from './link-stats.js';
import { UpdateTiming } from './update-timing.js';

/** Often enough to follow a change, seldom enough not to be read as flicker. */
const UPDATE_EVERY_MS = 1000;
/** A request every few seconds: enough to follow the link, too few to cost it anything. */
const ROUND_TRIP_EVERY_MS = 5000;
/** The probe is the gateway's liveness endpoint: no store, no auth, no body worth reading. */
const ROUND_TRIP_PATH = '/healthz';

export class LinkStatus {
  #meter: LinkMeter | null = null;
  #timing: UpdateTiming | null = null;
  #onSample: ((sample: AutoSample) => void) | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #roundTripMs: number | null = null;
  /** The first probe goes out with the first readout, not 5 s after the page loaded. */
  #lastProbe = -Infinity;
  #probing = false;
  #stopSocket: (() => void) | null = null;

  constructor(private readonly element: HTMLElement) {
    element.hidden = true;
  }

  /**
   * Measures this viewer until stop(), handing each second's sample to `onSample`. False: its
   * updates cannot be timed, so there is no readout and no sample.
   */
  start(rfb: RFB, ws: WebSocket, onSample: (sample: AutoSample) => void): boolean {
    this.stop();
    const meter = new LinkMeter(performance.now());
    const timing = new UpdateTiming();
    const hooked = hookFrames(rfb, {
      started: () => timing.started(performance.now()),
      finished: () => {
        meter.frame();
        timing.finished(performance.now());
      },
    });
    if (!hooked) return false;
    this.#meter = meter;
    this.#timing = timing;
    this.#onSample = onSample;
    const onMessage = (event: MessageEvent): void => {
      const data: unknown = event.data;
      if (data instanceof ArrayBuffer) meter.received(data.byteLength);
      else if (data instanceof Blob) meter.received(data.size);
    };
    ws.addEventListener('message', onMessage);
    this.#stopSocket = () => ws.removeEventListener('message', onMessage);
    this.#timer = setInterval(() => this.#tick(), UPDATE_EVERY_MS);
    return true;
  }

  /** Shown once connected; the readout would only say "0 fps" before. */
  show(): void {
    if (this.#meter) this.element.hidden = false;
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#stopSocket?.();
    this.#stopSocket = null;
    this.#meter = null;
    this.#timing = null;
    this.#onSample = null;
    this.element.hidden = true;
  }

  #tick(): void {
    const now = performance.now();
    if (this.#meter) this.element.textContent = describeLink(this.#meter.sample(now), this.#roundTripMs);
    if (this.#timing) this.#onSample?.({ atMs: now, ...this.#timing.sample(now) });
    if (!this.#probing && now - this.#lastProbe >= ROUND_TRIP_EVERY_MS) void this.#probe(now);
  }

  async #probe(startedAt: number): Promise<void> {
    this.#probing = true;
    this.#lastProbe = startedAt;
    try {
      const res = await fetch(ROUND_TRIP_PATH, { cache: 'no-store', credentials: 'omit' });
      await res.arrayBuffer();
      if (res.ok) this.#roundTripMs = performance.now() - startedAt;
    } catch {
      // No round trip this time; the readout keeps the last one.
    } finally {
      this.#probing = false;
    }
  }
}
