/**
 * Regenerates the tables in docs/benchmarks.md from bench/results/*.json. Each table lives between
 * `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`; the prose around them is written by hand and
 * left alone. A missing block is appended at the end.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { MachineFacts } from './lib/machine.js';
import { readResult } from './lib/results.js';
import type { Spread } from './lib/stats.js';
import type { TerminalResult } from './cases/terminal.js';
import type { EchoLegSummary, EchoResult } from './cases/echo.js';
import type { VncResult } from './cases/vnc.js';
import type { IdleResult } from './cases/idle.js';
import type { WindowCloseResult } from './cases/window-close.js';
import type { BrowserResult } from './cases/browser.js';
import type { ResumeResult } from './cases/resume.js';
import type { PairingResult } from './cases/pairing.js';
import type { TransferResult } from './cases/transfer.js';
import type { ScreenLeg, ScreenWanResult } from './cases/screen-wan.js';
import { QUALITY_PRESETS, type QualityPreset } from '../client/src/screen/quality.js';

const DOC = resolve(import.meta.dirname, '..', 'docs', 'benchmarks.md');

function f(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits);
}

/** "median (min–max)", or just the value when there was one run. */
function s(spreadValue: Spread | null | undefined, digits = 1, unit = ''): string {
  if (!spreadValue || spreadValue.n === 0) return '—';
  const u = unit ? ` ${unit}` : '';
  if (spreadValue.n === 1) return `${f(spreadValue.median, digits)}${u}`;
  return `${f(spreadValue.median, digits)}${u} (${f(spreadValue.min, digits)}–${f(spreadValue.max, digits)})`;
}

function verdict(ok: boolean | null): string {
  if (ok === null) return '—';
  return ok ? 'met' : '**missed**';
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function dated(date: string | undefined, extra = ''): string {
  return `_Measured ${date ? date.slice(0, 16).replace('T', ' ') : '?'} UTC${extra}; generated from \`bench/results/\` by \`npm run bench\`._`;
}

function machineBlock(): string | null {
  const m = readResult<MachineFacts & { date: string }>('machine');
  if (!m) return null;
  const t = readResult<TerminalResult>('terminal');
  return [
    table(
      ['Fact', 'Value'],
      [
        ['CPU', `${m.cpuModel}, ${m.cores} cores, AES-NI ${m.aesNi ? 'yes' : 'no'}, ${m.memoryGiB} GiB`],
        ['Kernel', m.kernel],
        ['Node / OpenSSL', `${m.node} / ${m.openssl}`],
        ['OpenSSH (client and sshd)', m.openssh],
        ['ssh2', `${m.ssh2} (native crypto binding: ${m.ssh2NativeCrypto ? 'built' : 'absent'})`],
        ['ws', m.ws],
        ['xterm.js', m.xterm],
        ['Chromium', m.chromium],
        ['Xvnc', m.xvnc],
        ['websockify', m.websockify],
        ['Cipher negotiated (server → client)', t ? `gateway and ssh2: ${t.ciphers.ssh2 ?? '?'}; OpenSSH: ${t.ciphers.openssh ?? '?'}` : '—'],
      ],
    ),
    '',
    dated(m.date),
  ].join('\n');
}

function terminalBlock(): string | null {
  const r = readResult<TerminalResult>('terminal');
  if (!r) return null;
  const parts: string[] = [];
  for (const [name, p] of Object.entries(r.payloads)) {
    parts.push(`**\`${p.command}\`**\n`);
    parts.push(
      table(
        ['Client', 'MB/s', 'CPU-s per GB of its process'],
        [
          ['Gateway (WebSocket client acking like the page)', s(p.legs.gateway.mbPerS), s(p.legs.gateway.cpuSecondsPerGB)],
          ['ssh2 direct', s(p.legs.ssh2.mbPerS), s(p.legs.ssh2.cpuSecondsPerGB)],
          ['OpenSSH `ssh -tt`', s(p.legs.openssh.mbPerS), s(p.legs.openssh.cpuSecondsPerGB)],
        ],
      ),
    );
    parts.push('');
    parts.push(
      table(
        ['Ratio (same run)', 'Median (min–max)', 'Target', ''],
        [
          ['Gateway ÷ OpenSSH throughput', s(p.ratios.throughputGatewayToOpenssh, 2), '≥ 0.95', verdict(p.ratios.throughputGatewayToOpenssh.median >= 0.95)],
          ['Gateway ÷ ssh2 throughput', s(p.ratios.throughputGatewayToSsh2, 2), '—', ''],
          ['Gateway ÷ ssh2 CPU per GB', s(p.ratios.cpuGatewayToSsh2, 2), '≤ 1.3', verdict(p.ratios.cpuGatewayToSsh2.median <= 1.3)],
        ],
      ),
    );
    parts.push('');
    parts.push(`Gateway RSS peak during this payload: ${f(p.gatewayRssPeakMiB)} MiB (${name}).\n`);
  }
  parts.push(dated(r.date, `, ${r.runs} runs per leg`));
  return parts.join('\n');
}

function echoRow(name: string, e: EchoLegSummary | undefined): string[] {
  return [name, f(e?.p50Ms, 2), f(e?.p99Ms, 2), f(e?.maxMs, 2), s(e?.roundP99Ms, 2)];
}

function echoBlock(): string | null {
  const r = readResult<EchoResult>('echo');
  if (!r) return null;
  const header = ['Leg', 'p50 ms', 'p99 ms', 'max ms', 'p99 per round, ms'];
  return [
    `Idle, ${r.keystrokesPerLeg} keystrokes per leg in ${r.rounds} alternating rounds:\n`,
    table(header, [echoRow('Gateway', r.idle['gateway']), echoRow('ssh2 direct', r.idle['ssh2']), echoRow('OpenSSH in a local PTY', r.idle['openssh'])]),
    '',
    table(
      ['Figure', 'Median over rounds (min–max)', 'Target', ''],
      [
        ['Gateway − ssh2, p99', s(r.idleAddedP99Ms, 2, 'ms'), '≤ 1 ms', verdict(r.idleAddedP99Ms.median <= 1)],
        ['Gateway − ssh2, p50', s(r.idleAddedP50Ms, 2, 'ms'), '—', ''],
      ],
    ),
    '',
    'While another session of the same kind floods output (`yes`, acked like the page):\n',
    table([...header, 'Target'], [
      [...echoRow('Gateway', r.flood['gateway']), `p99 ≤ 25 ms: ${verdict((r.flood['gateway']?.p99Ms ?? Infinity) <= 25)}`],
      [...echoRow('ssh2 direct', r.flood['ssh2']), '—'],
    ]),
    '',
    dated(r.date),
  ].join('\n');
}

function vncBlock(): string | null {
  const r = readResult<VncResult>('vnc');
  if (!r) return null;
  const row = (name: string, l: VncResult['legs']['direct']): string[] => [name, s(l.fps), s(l.mbPerS, 0), s(l.cpuSecondsPerGB, 2), s(l.minorFaultsPerMB ?? null, 1), s(l.roundTripP50Ms, 2), s(l.roundTripP99Ms, 2), f(l.roundTripPooledP99Ms, 2)];
  return [
    `${r.screen}; full-screen non-incremental updates one after another, then 1×1 updates:\n`,
    table(
      ['Path', 'Frames/s', 'MB/s', 'CPU-s/GB of the bridge', 'Minor faults/MB of the bridge', '1×1 p50 ms', '1×1 p99 ms (per run)', '1×1 p99 ms (pooled)'],
      [row('Direct TCP (client does VncAuth)', r.legs.direct), row('Gateway (gateway does VncAuth)', r.legs.gateway), row('websockify (client does VncAuth)', r.legs.websockify)],
    ),
    '',
    table(
      ['Ratio (same run)', 'Median (min–max)', 'Target', ''],
      [
        ['Gateway ÷ direct throughput', s(r.ratios.gatewayToDirect, 2), '≥ 0.6 (2 cores; issue #18)', verdict(r.ratios.gatewayToDirect.median >= 0.6)],
        ['Gateway ÷ websockify throughput', s(r.ratios.gatewayToWebsockify, 2), '≥ 1.2', verdict(r.ratios.gatewayToWebsockify.median >= 1.2)],
        ...(r.ratios.cpuGatewayToWebsockify ? [['Gateway ÷ websockify CPU per GB', s(r.ratios.cpuGatewayToWebsockify, 2), '≤ 1', verdict(r.ratios.cpuGatewayToWebsockify.median <= 1)]] : []),
        ['Gateway − direct, 1×1 p99', s(r.ratios.addedRoundTripP99Ms, 2, 'ms'), '≤ 1 ms', verdict(r.ratios.addedRoundTripP99Ms.median <= 1)],
      ],
    ),
    '',
    dated(r.date),
  ].join('\n');
}

function idleBlock(): string | null {
  const r = readResult<IdleResult>('idle');
  if (!r) return null;
  return [
    table(
      ['Open SSH sessions', 'Gateway RSS MiB', 'V8 heap used MiB', 'External MiB', 'Opened in s'],
      [['0', f(r.baseline.rssMiB), f(r.baseline.heapUsedMiB), '—', '—'], ...r.steps.map((st) => [String(st.sessions), f(st.rssMiB), f(st.heapUsedMiB), f(st.externalMiB), f(st.openSeconds)])],
    ),
    '',
    table(
      ['Figure', 'Value', 'Target', ''],
      [
        ['RSS per session (linear fit)', `${f(r.rssPerSessionKiB, 0)} KiB (R² ${f(r.rssFit.r2, 3)})`, '≤ 200 KiB', verdict(r.rssPerSessionKiB <= 200)],
        ['V8 heap per session (linear fit)', `${f(r.heapPerSessionKiB, 0)} KiB (R² ${f(r.heapFit.r2, 3)})`, '—', ''],
        ['Sessions within 512 MiB RSS (on the line)', f(r.sessionsWithin512MiB, 0), '≥ 2,000', verdict(r.sessionsWithin512MiB >= 2000)],
        ...r.steps.filter((st) => st.sessions >= 2000).map((st) => [`Gateway RSS measured with ${st.sessions} sessions open`, `${f(st.rssMiB)} MiB`, '≤ 512 MiB', verdict(st.rssMiB <= 512)]),
        [`Keystroke echo with ${r.echoAtTop.sessions} sessions open, p99`, `${f(r.echoAtTop.p99Ms, 2)} ms (p50 ${f(r.echoAtTop.p50Ms, 2)}, per round ${s(r.echoAtTop.roundP99Ms, 2)})`, '≤ 50 ms', verdict(r.echoAtTop.p99Ms <= 50)],
      ],
    ),
    '',
    dated(r.date, `, sessions opened at ${f(r.openRatePerSecond, 0)}/s`),
  ].join('\n');
}

function closeBlock(): string | null {
  const r = readResult<WindowCloseResult>('close');
  if (!r) return null;
  return [
    `${r.perKind} terminal + ${r.perKind} screen connections per run, window end → close:\n`,
    table(
      ['Run', 'Client close p50 ms', 'Client close p99 ms', 'Upstream close p50 ms', 'Upstream close p99 ms', 'Close codes'],
      r.runs.map((x) => [String(x.run + 1), f(x.clientP50Ms), f(x.clientP99Ms), f(x.upstreamP50Ms), f(x.upstreamP99Ms), Object.entries(x.closeCodes).map(([c, n]) => `${c}×${n}`).join(', ')]),
    ),
    '',
    table(
      ['Figure', 'Median (min–max)', 'Target', ''],
      [
        ['Client close frame, p99', s(r.clientP99Ms, 1, 'ms'), '≤ 250 ms', verdict(r.clientP99Ms.median <= 250)],
        ['Upstream socket close, p99', s(r.upstreamP99Ms, 1, 'ms'), '≤ 250 ms', verdict(r.upstreamP99Ms.median <= 250)],
      ],
    ),
    '',
    dated(r.date),
  ].join('\n');
}

function resumeBlock(): string | null {
  const r = readResult<ResumeResult>('resume');
  if (!r) return null;
  const kib = (value: number): string => `${f(value, 0)} KiB`;
  const buffer = (bytes: number): string => (bytes >= 2 ** 20 ? `${f(bytes / 2 ** 20, 0)} MiB` : `${f(bytes / 1024, 0)} KiB`);
  const lost = r.lost;
  const leg = (h: ResumeResult['held'][number]): string => `${buffer(h.bufferBytes)} buffer, ${h.scenario === 'after' ? 'flood started after the page left' : 'page watched the flood'}`;
  return [
    `${r.resume.n} resumes (${r.runs} runs × ${r.samplesPerRun}), the page's network down ${r.outageMs} ms each time, alternated with as many new terminals over the same relay:\n`,
    table(
      ['Figure', 'p50 ms', 'p95 ms', 'max ms', 'p95 per run, ms'],
      [
        ['Network back → first replayed byte', f(r.resume.p50Ms), f(r.resume.p95Ms), f(r.resume.maxMs), s(r.resume.runP95Ms)],
        ['New terminal: ticket → first output byte (baseline)', f(r.newTerminal.p50Ms), f(r.newTerminal.p95Ms), f(r.newTerminal.maxMs), s(r.newTerminal.runP95Ms)],
      ],
    ),
    '',
    `Resume, p50 of each step: ticket ${f(r.resume.mintP50Ms)} ms, upgrade ${f(r.resume.upgradeP50Ms)} ms, open → \`resumed\` ${f(r.resume.resumedP50Ms)} ms. The first whole counter line replayed had been printed ${f(r.resume.firstLineHeldMsP50, 0)} ms before the network came back (p50; ${r.resume.firstLinesHeld} of ${r.resume.n} were held output, not new), ${f(r.resume.replayedLinesP50, 0)} lines held over the outage (p50). New terminal: ticket ${f(r.newTerminal.mintP50Ms)} ms, upgrade ${f(r.newTerminal.upgradeP50Ms)} ms, open → \`ready\` (SSH connect, auth, PTY) ${f(r.newTerminal.readyP50Ms)} ms.\n`,
    table(
      ['Figure', 'Value', 'Target', ''],
      [
        ['Resume ÷ new terminal, p50 (per run)', s(r.ratioP50, 2), '—', ''],
        ['Resume ÷ new terminal, p95 (pooled)', f(r.ratioP95, 2), '—', ''],
        ['Network back → first replayed byte, p95', `${f(r.resume.p95Ms)} ms`, '≤ 1,000 ms after the attempt', verdict(r.resume.p95Ms <= 1000)],
        [
          `Bytes lost over ${lost.resumes} resumes (${lost.counterLines} counter lines: ${lost.linesMissing} missing, ${lost.linesRepeated} repeated; ${lost.bytesRepeated} bytes replayed twice)`,
          String(lost.bytesLost),
          '0',
          verdict(lost.bytesLost === 0 && lost.linesMissing === 0 && lost.linesRepeated === 0),
        ],
        ...r.held.map((h) => [`RSS per held session, ${leg(h)}`, kib(h.rssPerSessionKiB), `≤ ${kib(h.targetKiB)}`, verdict(h.rssPerSessionKiB <= h.targetKiB)]),
      ],
    ),
    '',
    `${r.held[0]?.sessions ?? '?'} sessions held at once, each running \`yes\`, measured once every \`yes\` had stopped writing; a fresh gateway for each column:\n`,
    table(
      ['Per held session', ...r.held.map(leg)],
      [
        ['Gateway RSS', ...r.held.map((h) => kib(h.rssPerSessionKiB))],
        ['… of which the session attached and idle', ...r.held.map((h) => kib(h.idleRssPerSessionKiB))],
        ['Gateway Buffer (ArrayBuffer) memory', ...r.held.map((h) => kib(h.arrayBuffersPerSessionKiB))],
        ['Gateway V8 heap', ...r.held.map((h) => kib(h.heapPerSessionKiB))],
        ['VM output held (written by `yes`, received by no page), median', ...r.held.map((h) => kib(h.undeliveredPerSessionKiB.median))],
        ['Target: buffer + 64 KiB', ...r.held.map((h) => kib(h.targetKiB))],
      ],
    ),
    '',
    `From a ${buffer(r.perBufferByte.fromBytes)} to a ${buffer(r.perBufferByte.toBytes)} buffer (flood started after the page left), per byte of \`PORTHOLE_RESUME_BUFFER_BYTES\` a held session keeps ${f(r.perBufferByte.held, 2)} more bytes of VM output, ${f(r.perBufferByte.arrayBuffers, 2)} of Buffers, ${f(r.perBufferByte.rss, 2)} of RSS. The same flood read by ssh2 directly with its own window and read buffer (2 MiB each; the gateway's shell has 256 KiB and none), its channel paused as the gateway pauses it: ${s(r.ssh2Paused.bufferedKiB, 0, 'KiB')} in the channel's buffer (${r.ssh2Paused.channels} channels).\n`,
    dated(r.date),
  ].join('\n');
}

/** Page ÷ bare xterm.js without DevTools (issue #18); the Playwright row had ≥ 0.8 before DevTools was found to be the limit. */
const BROWSER_RATIO_TARGET = 0.7;
const CTRL_C_TARGET_MS = 1000;

function browserBlock(): string | null {
  const r = readResult<BrowserResult>('browser');
  if (!r) return null;
  const mb = f(r.bytes / 1e6, 0);
  const shown = (seconds: Spread, speed: Spread): string => `${s(seconds, 2, 's')} = ${s(speed, 1, 'MB/s')}`;
  const d = r.direct;
  const rows: string[][] = [];
  if (d) {
    rows.push(
      ['**Without DevTools** (Chromium started directly)', '', '', ''],
      [`Real terminal page: ${mb} MB displayed`, shown(d.pageSeconds, d.pageMBps), '', ''],
      ['xterm.js alone, same options and addons, fed the same bytes in-page', shown(d.bareSeconds, d.bareMBps), '', ''],
      ["The same `cat` read by ssh2 directly (the PTY's own ceiling)", shown(d.ptySeconds, d.ptyMBps), '', ''],
      ['Page ÷ xterm.js alone (speed, same run)', s(d.ratio, 2), `≥ ${BROWSER_RATIO_TARGET}`, verdict(d.ratio.median >= BROWSER_RATIO_TARGET)],
      ['Page ÷ PTY ceiling (speed, same run)', s(d.pageToPty, 2), '—', ''],
      ['Ctrl-C during `yes` → prompt shown', s(d.ctrlCToPromptMs, 0, 'ms'), '≤ 1,000 ms', verdict(d.ctrlCToPromptMs.median <= CTRL_C_TARGET_MS)],
    );
    if (d.receive) {
      rows.push(
        ['Prototype, bare page: same bytes over a WebSocket, received on the main thread', shown(d.receive.mainSeconds, d.receive.mainMBps), '', ''],
        ['… received in a Worker, bytes transferred to the main thread', shown(d.receive.workerSeconds, d.receive.workerMBps), '', ''],
        ['Worker ÷ main thread (speed, same run)', s(d.receive.workerToMain, 2), '—', ''],
      );
    }
    rows.push(
      ['**With Playwright** (DevTools attached: every WebSocket frame copied to the bench)', '', '', ''],
    );
  }
  rows.push(
    [`Real terminal page: ${mb} MB displayed`, shown(r.pageSeconds, r.pageMBps), '', ''],
    [d ? 'xterm.js alone (the same bare page)' : 'xterm.js alone, fed the same bytes in-page', shown(r.bareSeconds, r.bareMBps), '', ''],
  );
  if (r.ptySeconds && r.ptyMBps) rows.push(["The same `cat` read by ssh2 directly (the PTY's own ceiling)", shown(r.ptySeconds, r.ptyMBps), '', '']);
  rows.push(d ? ['Page ÷ xterm.js alone (speed, same run)', s(r.ratio, 2), '—', ''] : ['Page ÷ xterm.js alone (speed, same run)', s(r.ratio, 2), '≥ 0.8', verdict(r.ratio.median >= 0.8)]);
  if (r.pageToPty) rows.push(['Page ÷ PTY ceiling (speed, same run)', s(r.pageToPty, 2), '—', '']);
  rows.push(['Ctrl-C during `yes` → prompt shown', s(r.ctrlCToPromptMs, 0, 'ms'), d ? '—' : '≤ 1,000 ms', d ? '' : verdict(r.ctrlCToPromptMs.median <= CTRL_C_TARGET_MS)]);
  return [
    table(['Figure', 'Median (min–max)', 'Target', ''], rows),
    '',
    dated(r.date, `, renderer: page ${r.renderer.page}, bare ${r.renderer.bare}, ${r.terminalSize} cells`),
  ].join('\n');
}

/** Key figures of the run before the performance work (bench/results/baseline/) beside the current ones. */
function beforeAfterBlock(): string | null {
  const before = <T,>(name: string): T | null => readResult<T>(`baseline/${name}`);
  const rows: string[][] = [];
  const add = (figure: string, b: Spread | number | null | undefined, a: Spread | number | null | undefined, digits: number, target: string): void => {
    const show = (v: Spread | number | null | undefined): string => (typeof v === 'number' ? f(v, digits) : s(v, digits));
    rows.push([figure, show(b), show(a), target]);
  };
  const tb = before<TerminalResult>('terminal');
  const ta = readResult<TerminalResult>('terminal');
  for (const payload of ['lines', 'oneLine'] as const) {
    const pb = tb?.payloads[payload];
    const pa = ta?.payloads[payload];
    add(`Terminal ${payload}: gateway MB/s`, pb?.legs.gateway.mbPerS, pa?.legs.gateway.mbPerS, 1, '—');
    add(`Terminal ${payload}: gateway ÷ OpenSSH throughput`, pb?.ratios.throughputGatewayToOpenssh, pa?.ratios.throughputGatewayToOpenssh, 2, '≥ 0.95');
    add(`Terminal ${payload}: gateway CPU-s/GB`, pb?.legs.gateway.cpuSecondsPerGB, pa?.legs.gateway.cpuSecondsPerGB, 1, '—');
    add(`Terminal ${payload}: gateway ÷ ssh2 CPU per GB`, pb?.ratios.cpuGatewayToSsh2, pa?.ratios.cpuGatewayToSsh2, 2, '≤ 1.3');
  }
  const eb = before<EchoResult>('echo');
  const ea = readResult<EchoResult>('echo');
  add('Echo idle: gateway p50 ms (pooled)', eb?.idle['gateway']?.p50Ms, ea?.idle['gateway']?.p50Ms, 2, '—');
  add('Echo idle: gateway − ssh2 p99 ms (per round)', eb?.idleAddedP99Ms, ea?.idleAddedP99Ms, 2, '≤ 1');
  add('Echo during a flood: gateway p99 ms (pooled)', eb?.flood['gateway']?.p99Ms, ea?.flood['gateway']?.p99Ms, 1, '≤ 25');
  const vb = before<VncResult>('vnc');
  const va = readResult<VncResult>('vnc');
  add('VNC: gateway ÷ direct throughput', vb?.ratios.gatewayToDirect, va?.ratios.gatewayToDirect, 2, '≥ 0.6');
  add('VNC: gateway ÷ websockify throughput', vb?.ratios.gatewayToWebsockify, va?.ratios.gatewayToWebsockify, 2, '≥ 1.2');
  const ib = before<IdleResult>('idle');
  const ia = readResult<IdleResult>('idle');
  add('Idle: RSS KiB per session', ib?.rssPerSessionKiB, ia?.rssPerSessionKiB, 0, '≤ 200');
  add('Idle: sessions within 512 MiB', ib?.sessionsWithin512MiB, ia?.sessionsWithin512MiB, 0, '≥ 2,000');
  const cb = before<WindowCloseResult>('close');
  const ca = readResult<WindowCloseResult>('close');
  add('Window close: client close p99 ms', cb?.clientP99Ms, ca?.clientP99Ms, 0, '≤ 250');
  add('Window close: upstream close p99 ms', cb?.upstreamP99Ms, ca?.upstreamP99Ms, 0, '≤ 250');
  const bb = before<BrowserResult>('browser');
  const ba = readResult<BrowserResult>('browser');
  // The baseline was measured with Playwright only: its rows compare like with like.
  add('Browser, with Playwright: page ÷ bare xterm.js speed', bb?.ratio, ba?.ratio, 2, '—');
  add('Browser, with Playwright: Ctrl-C → prompt ms', bb?.ctrlCToPromptMs, ba?.ctrlCToPromptMs, 0, '—');
  add('Browser, without DevTools: page ÷ bare xterm.js speed', bb?.direct?.ratio, ba?.direct?.ratio, 2, `≥ ${BROWSER_RATIO_TARGET}`);
  add('Browser, without DevTools: Ctrl-C → prompt ms', bb?.direct?.ctrlCToPromptMs, ba?.direct?.ctrlCToPromptMs, 0, '≤ 1,000');
  if (!tb && !eb && !vb) return null;
  return [
    table(['Figure', `Before (${(tb?.date ?? '').slice(0, 10)})`, 'After', 'Target'], rows),
    '',
    '_Before: the gateway as it was before this work, same bench (`bench/results/baseline/`); after: `bench/results/`. The two were measured at different times on a shared machine, so compare the ratios (each measured within one run) rather than absolute figures._',
  ].join('\n');
}

function pairingBlock(): string | null {
  const r = readResult<PairingResult>('pairing');
  if (!r) return null;
  const legs = ['alone', 'stalled watcher'] as const;
  const alone = r.ownerMiBPerSecond.alone;
  const stalled = r.ownerMiBPerSecond['stalled watcher'];
  return [
    `The owner floods (\`yes\`) for ${f(r.floodSeconds, 0)} s per leg; legs alternate within each run (${alone.n} runs):\n`,
    table(
      ['Leg', 'Owner MiB/s', 'Gateway RSS peak over start', 'Ctrl-C → prompt', 'Watcher received'],
      legs.map((leg) => [
        leg,
        s(r.ownerMiBPerSecond[leg]),
        s(r.rssGrowthMiB[leg], 1, 'MiB'),
        s(r.ctrlCMs[leg], 0, 'ms'),
        leg === 'alone' ? '—' : s(r.watcherReceivedKiB, 0, 'KiB'),
      ]),
    ),
    '',
    table(
      ['Figure', 'Value', 'Target', ''],
      [
        ['Owner throughput with a stalled watcher ÷ alone (medians)', f(r.throughputRatio, 2), 'within the spread of alone', verdict(stalled.median >= alone.min)],
      ],
    ),
    '',
    dated(r.date),
  ].join('\n');
}

function transferBlock(): string | null {
  const r = readResult<TransferResult>('transfer');
  if (!r) return null;
  const rows = (d: TransferResult['download'], client: string): string[][] => [
    [`Gateway (${client})`, s(d.legs.gateway.mbPerS), s(d.legs.gateway.cpuSecondsPerGB)],
    [`OpenSSH \`sftp\` (${r.sftpCipher})`, s(d.legs.sftp.mbPerS), s(d.legs.sftp.cpuSecondsPerGB)],
  ];
  const header = ['Client', 'MB/s', 'CPU-s per GB (gateway; `sftp` + its `ssh`)'];
  const m = r.slowDownload;
  const quick = r.quick ? ' (**quick run: smaller files, not publishable**)' : '';
  return [
    `A ${r.fileMiB} MiB random file, ${r.runs} runs, legs alternated; each leg logs in afresh${quick}.\n`,
    '**Download**\n',
    table(header, rows(r.download, 'curl reading as fast as it can')),
    '',
    '**Upload**\n',
    table(header, rows(r.upload, 'HTTP client streaming the file from disk')),
    '',
    table(
      ['Figure', 'Median (min–max)', 'Target', ''],
      [
        ['Download: gateway ÷ `sftp` throughput (same run)', s(r.download.ratio, 2), `≥ ${r.target}`, verdict(r.download.ratio.median >= r.target)],
        ['Upload: gateway ÷ `sftp` throughput (same run)', s(r.upload.ratio, 2), `≥ ${r.target}`, verdict(r.upload.ratio.median >= r.target)],
        [
          `Gateway RSS growth while a ${f(m.fileMiB, 0)} MiB download is read at ${f(m.paceMiBPerSecond)} MiB/s for ${f(m.spanSeconds, 0)} s`,
          `${f(m.rssGrowthMiB)} MiB (${f(m.rssBeforeMiB)} → peak ${f(m.rssPeakMiB)} MiB; peak of the second half over the first's: ${f(m.rssSecondHalfGrowthMiB)} MiB)`,
          `≤ ${m.targetMiB} MiB`,
          verdict(m.rssGrowthMiB <= m.targetMiB),
        ],
      ],
    ),
    '',
    `The slow reader took ${f(m.receivedMiB, 0)} MiB (${f(m.readMiBPerSecond)} MiB/s); ${m.starvedTicks} of ${m.ticks} ticks (one per ${m.tickMs} ms) found less than their ${f(m.readKiBPerTick, 0)} KiB waiting. Gateway RSS peak during the fast legs: download ${f(r.download.gatewayRssPeakMiB)} MiB, upload ${f(r.upload.gatewayRssPeakMiB)} MiB.\n`,
    dated(r.date, `, ${r.runs} runs per leg`),
  ].join('\n');
}

/** Each preset as the page names it, with the levels it sends (noVNC's JPEG quality q, zlib compression c). */
const PRESET_LABELS = Object.fromEntries(
  (Object.keys(QUALITY_PRESETS) as QualityPreset[]).map((name) => {
    const p = QUALITY_PRESETS[name];
    return [name, `${p.label} (q${p.quality} c${p.compression})`];
  }),
) as Record<QualityPreset, string>;

/** The table's rows, in this order: the presets in the product's (sharpest first). */
const SCREEN_LEG_LABELS: Readonly<Record<ScreenLeg, string>> = {
  raw: 'Raw (SetEncodings rewritten)',
  ...PRESET_LABELS,
  auto: 'Auto',
  peer: 'noVNC defaults via websockify (peer)',
};

function screenWanBlock(): string | null {
  const r = readResult<ScreenWanResult>('screen-wan');
  if (!r) return null;
  const linkName = (name: keyof ScreenWanResult['links']): string => {
    const l = r.links[name];
    return l.mbitPerSecond === null ? 'LAN (no shaping)' : `${l.mbitPerSecond} Mbit/s, ${l.rttMs} ms RTT`;
  };
  const rows: string[][] = [];
  for (const link of Object.keys(r.links) as (keyof ScreenWanResult['links'])[]) {
    rows.push([`**${linkName(link)}**`, '', '', '', '', '', '', '']);
    for (const leg of Object.keys(SCREEN_LEG_LABELS) as ScreenLeg[]) {
      const x = r.results[link][leg];
      if (!x) continue;
      const perFrame = x.readoutKBps && x.readoutFps && x.readoutFps.median > 0 ? f(x.readoutKBps.median / x.readoutFps.median, 1) : '—';
      rows.push([
        SCREEN_LEG_LABELS[leg],
        s(x.fpsShown),
        f(x.pooledP50Ms, 0),
        `${f(x.pooledP95Ms, 0)}${x.overCap > 0 ? ` (${x.overCap} ≥ cap)` : ''}`,
        String(x.flips),
        `${s(x.readoutFps, 0)} / ${s(x.readoutKBps, 0)}`,
        perFrame,
        s(x.readoutRttMs, 0),
      ]);
    }
  }
  const t = r.targets;
  const missing = t.slowAutoFps.met === null ? ' (Auto not measured)' : '';
  return [
    `${r.screen}; ${r.legMs / 1000} s per leg and run; change→pixel pooled over every flip of every run:\n`,
    table(['Mode', 'Frames shown/s', 'Change→pixel p50 ms', 'p95 ms', 'Flips', 'Readout: updates/s / KB/s', 'KB per update', 'Readout /healthz ms'], rows),
    '',
    table(
      ['Target (issue #19)', 'Measured', 'Target', ''],
      [
        [`5 Mbit/s, Auto: change→pixel p95${missing}`, f(t.slowAutoP95Ms.value, 0), `≤ ${t.slowAutoP95Ms.max} ms`, verdict(t.slowAutoP95Ms.met)],
        [`5 Mbit/s, Auto: frames shown/s${missing}`, f(t.slowAutoFps.value), `≥ ${t.slowAutoFps.min}`, verdict(t.slowAutoFps.met)],
        [
          `LAN, Auto against the best preset (${t.lanAutoToBest.bestPreset}): frames/s, p95 ms`,
          `${f(t.lanAutoToBest.autoFps)} vs ${f(t.lanAutoToBest.bestFps)}, ${f(t.lanAutoToBest.autoP95Ms, 0)} vs ${f(t.lanAutoToBest.bestP95Ms, 0)}`,
          'within 10 %',
          verdict(t.lanAutoToBest.met),
        ],
      ],
    ),
    '',
    dated(r.date, `, ${r.runs} runs asked${r.skippedLegs > 0 ? `, ${r.skippedLegs} legs not started (time was up)` : ''}${r.failedLegs > 0 ? `, ${r.failedLegs} failed (the page stopped answering)` : ''}, 1-min load average ${r.loadAverage.map((v) => f(v, 1)).join(' → ')} on ${r.cores ?? '?'} cores`),
  ].join('\n');
}

const BLOCKS: Record<string, () => string | null> = {
  'before-after': beforeAfterBlock,
  machine: machineBlock,
  terminal: terminalBlock,
  echo: echoBlock,
  vnc: vncBlock,
  idle: idleBlock,
  close: closeBlock,
  resume: resumeBlock,
  pairing: pairingBlock,
  transfer: transferBlock,
  browser: browserBlock,
  'screen-wan': screenWanBlock,
};

export function writeReport(): string {
  let doc = readFileSync(DOC, 'utf8');
  for (const [name, render] of Object.entries(BLOCKS)) {
    const body = render();
    if (body === null) continue;
    const open = `<!-- bench:${name} -->`;
    const close = `<!-- /bench:${name} -->`;
    const block = `${open}\n${body}\n${close}`;
    const start = doc.indexOf(open);
    const end = doc.indexOf(close);
    doc = start >= 0 && end > start ? doc.slice(0, start) + block + doc.slice(end + close.length) : `${doc.trimEnd()}\n\n${block}\n`;
  }
  writeFileSync(DOC, doc);
  return DOC;
}
