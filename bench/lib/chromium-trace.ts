/**
 * Opt-in profiling of the Chromium the bench starts directly (bench/lib/direct-chromium.ts), with
 * nothing attached: `PORTHOLE_BENCH_CHROMIUM_TRACE=<dir>` makes every launch write a startup trace
 * there (one JSON file per launch, Chromium's trace event format), for the first
 * `PORTHOLE_BENCH_CHROMIUM_TRACE_SECONDS` (default 60) after it starts. Off by default: tracing
 * costs CPU the figures must not pay, so traced runs are for finding where time goes, not for the
 * tables. Use `--quick`, so the pages are done within the traced seconds.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

const TRACE_DIR_ENV = 'PORTHOLE_BENCH_CHROMIUM_TRACE';
const TRACE_SECONDS_ENV = 'PORTHOLE_BENCH_CHROMIUM_TRACE_SECONDS';
/** Chromium start, sign-in and a quick run's pages fit in it on a loaded 2-core machine. */
const DEFAULT_TRACE_SECONDS = 60;
/** What DevTools' Performance panel records: tasks per thread, and V8's sampling profiler. */
const TRACE_CATEGORIES: readonly string[] = ['toplevel', 'v8', 'v8.execute', 'blink', 'cc', 'netlog', 'devtools.timeline', 'disabled-by-default-devtools.timeline', 'disabled-by-default-v8.cpu_profiler'];
/** Writing a 100 MB trace took over 30 s on the loaded machine; a browser stopped before that loses it. */
const TRACE_WRITE_GRACE_MS = 180_000;
/** The file is complete once its size stops changing between two looks this far apart. */
const TRACE_POLL_MS = 500;

let launches = 0;

export interface ChromiumTrace {
  /** Switches for the launch. */
  readonly args: readonly string[];
  /** Resolves once the trace is written (or its deadline passed): call before stopping the browser. */
  written(): Promise<void>;
}

/** The trace for one launch, or null when tracing is off. */
export function chromiumTrace(): ChromiumTrace | null {
  const dir = process.env[TRACE_DIR_ENV];
  if (!dir) return null;
  launches += 1;
  const file = join(dir, `chromium-${process.pid}-${launches}.json`);
  const seconds = Number(process.env[TRACE_SECONDS_ENV] ?? DEFAULT_TRACE_SECONDS);
  const deadline = performance.now() + seconds * 1000 + TRACE_WRITE_GRACE_MS;
  return {
    args: [`--trace-startup=${TRACE_CATEGORIES.join(',')}`, `--trace-startup-file=${file}`, `--trace-startup-duration=${seconds}`, '--trace-startup-format=json'],
    async written() {
      let size = -1;
      while (performance.now() < deadline) {
        const now = existsSync(file) ? statSync(file).size : -1;
        if (now > 0 && now === size) return;
        size = now;
        await new Promise((done) => setTimeout(done, TRACE_POLL_MS));
      }
    },
  };
}
