/**
 * The toolbar's Quality select (issue #19): a fixed preset, or Auto, which follows the link
 * (auto-quality.ts) and says in the select which preset it uses now ("Quality: Auto (Fast)").
 * Whatever the choice, the current viewer gets its levels: noVNC sends SetEncodings again on each
 * change, and the VM's server applies it to its next update.
 */
import type RFB from '@novnc/novnc';
import type { SettingsStorage } from '../lib/storage.js';
import { autoLevel, decideAuto, initialAutoState, type AutoSample, type AutoState } from './auto-quality.js';
import { isQualityChoice, QUALITY_PRESETS, rememberQuality, storedQuality, type QualityChoice, type QualityPreset } from './quality.js';

const AUTO_TEXT = 'Quality: Auto';
/** Where the page cannot time noVNC's updates (a newer noVNC), Auto cannot follow the link and says so. */
const UNMEASURED_TITLE = 'This viewer’s updates cannot be timed, so Auto stays at';

export interface QualityControlDeps {
  readonly select: HTMLSelectElement;
  readonly storage: SettingsStorage | null;
  /** The current viewer; null between connections. */
  readonly viewer: () => RFB | null;
  /** Monotonic ms, as the samples are. */
  readonly now: () => number;
}

export class QualityControl {
  #choice: QualityChoice;
  #auto: AutoState;
  #measured = true;
  readonly #autoOption: HTMLOptionElement | null;
  /** The select's own title, as the page was served with it (server/src/http/views/screen-page.ts). */
  readonly #title: string;

  constructor(private readonly deps: QualityControlDeps) {
    this.#choice = storedQuality(deps.storage);
    this.#auto = initialAutoState(deps.now());
    this.#autoOption = Array.from(deps.select.options).find((option) => option.value === 'auto') ?? null;
    this.#title = deps.select.title;
    deps.select.value = this.#choice;
    deps.select.addEventListener('change', () => {
      if (!isQualityChoice(deps.select.value)) return;
      // Auto takes over from the level in use: its samples were measured there, not at Auto's last.
      if (deps.select.value === 'auto' && this.#choice !== 'auto') {
        this.#auto = initialAutoState(deps.now(), this.#choice);
        this.#show();
      }
      this.#choice = deps.select.value;
      rememberQuality(deps.storage, this.#choice);
      this.#apply();
    });
    this.#show();
  }

  /** A new viewer: Auto starts afresh (a reconnect may be on another network). `measured`: its updates can be timed. */
  attach(rfb: RFB, measured: boolean): void {
    this.#measured = measured;
    this.#auto = initialAutoState(this.deps.now());
    this.#applyTo(rfb);
    this.#show();
  }

  /** A second of the current viewer's link (link-status.ts); Auto learns only from its own levels. */
  sample(sample: AutoSample): void {
    if (this.#choice !== 'auto') return;
    const before = autoLevel(this.#auto);
    this.#auto = decideAuto(this.#auto, sample);
    if (autoLevel(this.#auto) === before) return;
    this.#show();
    this.#apply();
  }

  #level(): QualityPreset {
    return this.#choice === 'auto' ? autoLevel(this.#auto) : this.#choice;
  }

  #apply(): void {
    const rfb = this.deps.viewer();
    if (rfb) this.#applyTo(rfb);
  }

  #applyTo(rfb: RFB): void {
    const levels = QUALITY_PRESETS[this.#level()];
    rfb.qualityLevel = levels.quality;
    rfb.compressionLevel = levels.compression;
  }

  /** Auto's current preset in its option's text and on the select, for people and for tests. */
  #show(): void {
    const label = QUALITY_PRESETS[autoLevel(this.#auto)].label;
    if (this.#autoOption) this.#autoOption.textContent = `${AUTO_TEXT} (${label})`;
    this.deps.select.setAttribute('data-auto-level', autoLevel(this.#auto));
    this.deps.select.title = this.#measured ? this.#title : `${this.#title}. ${UNMEASURED_TITLE} ${label}.`;
  }
}
