/**
 * `npm run bench [-- case…] [--runs=N] [--quick] [--no-report]`: builds the gateway, runs the cases (all by
 * default, in this order), writes bench/results/<case>.json, then regenerates the tables in
 * docs/benchmarks.md from every result file present. `npm run bench -- report` only regenerates.
 *
 * Every case starts its own sshd, Xvnc, gateway (and websockify, Chromium) on loopback and tears
 * them down; a case that fails or times out is reported and the others still run.
 */
import { browserCase } from './cases/browser.js';
import { echoCase } from './cases/echo.js';
import { idleCase } from './cases/idle.js';
import { pairingCase } from './cases/pairing.js';
import { resumeCase } from './cases/resume.js';
import { screenWanCase } from './cases/screen-wan.js';
import { terminalCase } from './cases/terminal.js';
import { transferCase } from './cases/transfer.js';
import { vncCase } from './cases/vnc.js';
import { windowCloseCase } from './cases/window-close.js';
import type { BenchCase } from './lib/case.js';
import { withDeadline } from './lib/deadline.js';
import { machineFacts } from './lib/machine.js';
import { writeResult } from './lib/results.js';
import { writeReport } from './report.js';

const CASES: readonly BenchCase[] = [terminalCase, echoCase, vncCase, idleCase, windowCloseCase, resumeCase, pairingCase, transferCase, browserCase, screenWanCase];
const DEFAULT_RUNS = 5;
/** No single case may take the whole budget (~25 min for everything on 2 cores). */
const CASE_TIMEOUT_MS = 12 * 60_000;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const runs = Number(/^--runs=(\d+)$/.exec(args.find((a) => a.startsWith('--runs=')) ?? '')?.[1] ?? DEFAULT_RUNS);
  const quick = args.includes('--quick');
  const names = args.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => n !== 'report' && !CASES.some((c) => c.name === n));
  if (unknown.length > 0) {
    console.error(`unknown case(s): ${unknown.join(', ')}; known: ${CASES.map((c) => c.name).join(', ')}, report`);
    process.exit(2);
  }
  const selected = names.length === 0 ? CASES : CASES.filter((c) => names.includes(c.name));
  const log = (message: string): void => console.log(message);
  let failed = 0;
  if (selected.length > 0) writeResult('machine', { date: new Date().toISOString(), ...machineFacts() });
  for (const benchCase of selected) {
    const started = performance.now();
    log(`== ${benchCase.name}: ${benchCase.title}`);
    try {
      const result = await withDeadline(`case ${benchCase.name}`, CASE_TIMEOUT_MS, () => benchCase.run({ runs, quick, log }));
      const file = writeResult(benchCase.name, { ...result, elapsedSeconds: (performance.now() - started) / 1000 });
      log(`   → ${file} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    } catch (error) {
      failed += 1;
      console.error(`!! ${benchCase.name} failed:`, error);
    }
  }
  if (!quick && !args.includes('--no-report')) {
    const doc = writeReport();
    log(`report: ${doc}`);
  }
  // Cases close what they open; exiting here also ends anything a timed-out case left behind.
  process.exit(failed > 0 ? 1 : 0);
}

void main();
