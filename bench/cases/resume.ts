/**
 * Resuming a terminal session after the page's network dropped (issue #15):
 *
 *  1. Time from the network coming back to the first replayed byte on the page: a page behind a
 *     relay (the page's network, `test/helpers/tcp-relay.ts`) watches a shell print a counter; the relay is cut
 *     (every connection reset, new ones too), stays down for the outage, and is restored. From
 *     the moment it accepts again the page mints a resume ticket, upgrades, sends "resume" and its
 *     size, and gets "resumed" and then the output it missed. The baseline, measured in the same
 *     runs and alternated with it over the same relay: a page opening a new terminal, from the
 *     ticket to its first output byte (what a page without resume would do: reload).
 *  2. Bytes lost: every counter line, stitched across every cut at the offsets "resumed" names,
 *     must arrive once and in order.
 *  3. Memory per held session: sessions each running `yes` with no page; once every `yes` has
 *     stopped writing (the gateway stopped reading), the gateway's RSS over what it was before the
 *     sessions opened, per session. The flood starts after the page left (the hold alone) at the
 *     default buffer and two larger ones, or while the page watched; and, to tell apart what ssh2
 *     keeps, the same flood into a paused ssh2 channel read directly.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { SshdHandle } from '../../test/helpers/sshd.js';
import type { BenchCase, CaseOptions } from '../lib/case.js';
import { keyEndpoint, startBenchGateway, startBenchSshd, type BenchGateway, type GatewayMemory, type SshEndpoint } from '../lib/gateway-process.js';
import { startTcpRelay, type TcpRelay } from '../../test/helpers/tcp-relay.js';
import { mintTicketVia, openPageTerminal, type PageTerminal } from '../lib/page-terminal.js';
import { alternate, percentile, spread, type Spread } from '../lib/stats.js';
import { sleep, withDeadline } from '../lib/deadline.js';

const BUILD_ID = 'bench-resume';
const FULL_SAMPLES_PER_RUN = 8;
const QUICK_SAMPLES_PER_RUN = 2;
/** How long the page's network stays down: the deliberate outage, long enough for output to be held. */
const OUTAGE_MS = 500;
/** After a resume, the counter goes on live this many lines before the next cut. */
const LIVE_LINES = 5;
/**
 * Up to 100 lines a second, each a separate write, so output is produced throughout the outage;
 * each line says when it was printed (bash's clock, the bench's: same machine).
 */
const COUNTER_COMMAND = 'i=0; while :; do echo "n$i $EPOCHREALTIME"; i=$((i+1)); sleep 0.01; done\r';
/** A counter line as the shell prints it, at a line start (the typed command's echo never matches). */
const COUNTER_LINE = /(?<=[\r\n])n(\d+) (\d+\.\d+)\r\n/g;

const FULL_HELD_SESSIONS = 20;
const QUICK_HELD_SESSIONS = 5;
const DEFAULT_BUFFER_BYTES = 256 * 1024;
/** Larger buffers: whether a held session's memory follows the buffer, and from where. */
const MID_BUFFER_BYTES = 1024 * 1024;
const LARGE_BUFFER_BYTES = 4 * 1024 * 1024;
/** The target: the buffer plus this much per held session. */
const SESSION_ALLOWANCE_BYTES = 64 * 1024;
/**
 * The default buffer with the flood started after the page left (the hold alone), the same at two
 * larger buffers (the slope between them: what the hold keeps per buffer byte), and the default
 * buffer with a page that watched the flood (plus what was in flight to it).
 */
const HELD_LEGS: readonly (readonly [HeldScenario, number])[] = [
  ['after', DEFAULT_BUFFER_BYTES],
  ['after', MID_BUFFER_BYTES],
  ['after', LARGE_BUFFER_BYTES],
  ['watching', DEFAULT_BUFFER_BYTES],
];
const FLOOD_LINE = 'porthole-held-flood-line';
const FLOOD_COMMAND = `printf 'pid=%s\\n' $$; exec yes ${FLOOD_LINE}\r`;
/** The flood once the page has gone: the shell waits on a FIFO the bench opens and closes (EOF) when every page is gone. */
const floodAfter = (fifo: string): string => `printf 'pid=%s\\n' $$; read _ < ${fifo}; exec yes ${FLOOD_LINE}\r`;
const FLOOD_PID = /(?<=[\r\n])pid=(\d+)\r\n/;
/** `yes` writes LINE\n; the PTY hands out LINE\r\n. */
const wireBytes = (written: number): number => (written / (FLOOD_LINE.length + 1)) * (FLOOD_LINE.length + 2);
/** A flood is stopped when its `yes` has written nothing for this long (polled). */
const QUIET_MS = 1_000;
const POLL_MS = 100;
const STOP_DEADLINE_MS = 90_000;
/** Sessions opened at once for the memory part. */
const OPEN_CONCURRENCY = 5;
const MEMORY_SAMPLES = 3;
const SSH2_CHANNELS = 3;
const KiB = 1024;

interface ResumeSample {
  readonly run: number;
  /** Relay accepting again → first output byte after "resumed". */
  readonly firstByteMs: number;
  readonly mintMs: number;
  /** Ticket → WebSocket open. */
  readonly upgradeMs: number;
  /** WebSocket open → "resumed". */
  readonly resumedMs: number;
  /** Counter lines printed before the network came back that reached the page on the new socket: held, then replayed. */
  readonly replayedLines: number;
  /** How long before the network came back the first whole line replayed was printed (> 0: it had been held). */
  readonly firstLineHeldMs: number;
}

interface NewSample {
  readonly run: number;
  /** Ticket request → first output byte of the new shell. */
  readonly firstByteMs: number;
  readonly mintMs: number;
  readonly upgradeMs: number;
  /** WebSocket open → "ready" (SSH connect, auth, PTY). */
  readonly readyMs: number;
}

interface LatencySummary {
  readonly n: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  readonly runP50Ms: Spread;
  readonly runP95Ms: Spread;
}

interface Continuity {
  readonly lines: number;
  readonly missing: number;
  readonly repeated: number;
}

/**
 * `after`: the flood starts once the page is gone, so the log holds what the hold reads, nothing
 * the page left unacknowledged. `watching`: the page watched (and acknowledged) a buffer's worth of
 * the flood and then went, with whatever was in flight to it.
 */
export type HeldScenario = 'after' | 'watching';

export interface HeldMemory {
  readonly scenario: HeldScenario;
  readonly bufferBytes: number;
  readonly sessions: number;
  /** Output each page received (and acknowledged) before it went, beyond the pid line. */
  readonly watchedBytes: number;
  readonly baseRssMiB: number;
  readonly rssPerSessionKiB: number;
  /** The same sessions attached and idle, before any flood: the session itself. */
  readonly idleRssPerSessionKiB: number;
  readonly idleArrayBuffersPerSessionKiB: number;
  readonly heapPerSessionKiB: number;
  readonly arrayBuffersPerSessionKiB: number;
  /** What `yes` wrote that no page received: held by the gateway, ssh2, sshd and the kernel. */
  readonly undeliveredPerSessionKiB: Spread;
  /** From the last page leaving to every flood stopped (for `after`, starting the floods included). */
  readonly stopSeconds: number;
  readonly targetKiB: number;
}

export interface ResumeResult {
  readonly case: 'resume';
  readonly date: string;
  readonly runs: number;
  readonly samplesPerRun: number;
  readonly outageMs: number;
  readonly resume: LatencySummary & { readonly mintP50Ms: number; readonly upgradeP50Ms: number; readonly resumedP50Ms: number; readonly replayedLinesP50: number; readonly firstLineHeldMsP50: number; readonly firstLinesHeld: number };
  readonly newTerminal: LatencySummary & { readonly mintP50Ms: number; readonly upgradeP50Ms: number; readonly readyP50Ms: number };
  /** Resume ÷ new terminal, p50 of each run. */
  readonly ratioP50: Spread;
  /** Resume ÷ new terminal, pooled p95. */
  readonly ratioP95: number;
  readonly lost: {
    readonly resumes: number;
    /** Bytes between what the page had received and where "resumed" restarted it (must be 0). */
    readonly bytesLost: number;
    /** Bytes replayed that the page already had. */
    readonly bytesRepeated: number;
    readonly counterLines: number;
    readonly linesMissing: number;
    readonly linesRepeated: number;
    /** How the cut pages saw their socket end. */
    readonly cutCloseCodes: Record<string, number>;
  };
  readonly held: HeldMemory[];
  /** Per byte of PORTHOLE_RESUME_BUFFER_BYTES between two larger buffers (flood after the page left): VM output held, Buffers, RSS. */
  readonly perBufferByte: { readonly fromBytes: number; readonly toBytes: number; readonly held: number; readonly arrayBuffers: number; readonly rss: number };
  /** The same flood into a paused ssh2 channel, directly: what ssh2 keeps, and what is held before it. */
  readonly ssh2Paused: { readonly channels: number; readonly bufferedKiB: Spread; readonly undeliveredKiB: Spread };
}

function summarize(samples: readonly { run: number; firstByteMs: number }[]): LatencySummary {
  const all = samples.map((s) => s.firstByteMs);
  const runs = [...new Set(samples.map((s) => s.run))].map((run) => samples.filter((s) => s.run === run).map((s) => s.firstByteMs));
  return {
    n: all.length,
    p50Ms: percentile(all, 50),
    p95Ms: percentile(all, 95),
    maxMs: Math.max(...all),
    runP50Ms: spread(runs.map((r) => percentile(r, 50))),
    runP95Ms: spread(runs.map((r) => percentile(r, 95))),
  };
}

const p50 = (values: readonly number[]): number => percentile(values, 50);

function lastCounter(output: Buffer): number {
  const tail = output.subarray(Math.max(0, output.length - 256)).toString('latin1');
  const all = [...tail.matchAll(COUNTER_LINE)];
  return Number(all.at(-1)?.[1] ?? -1);
}

/** Every counter number once, in order, from 0. */
function continuity(stream: Buffer): Continuity {
  let expected = 0;
  let missing = 0;
  let repeated = 0;
  let lines = 0;
  for (const match of stream.toString('latin1').matchAll(COUNTER_LINE)) {
    const n = Number(match[1]);
    lines += 1;
    if (n === expected) expected += 1;
    else if (n < expected) repeated += 1;
    else {
      missing += n - expected;
      expected = n + 1;
    }
  }
  return { lines, missing, repeated };
}

async function openThrough(gateway: BenchGateway, relay: TcpRelay): Promise<PageTerminal> {
  const page = await openPageTerminal(await mintTicketVia(gateway, relay, BUILD_ID, { kind: 'ssh' }), gateway.origin, { via: relay });
  await page.waitFor('ready', () => page.at.ready);
  return page;
}

/** A page opening a new terminal over the page's network, to its first output byte; then it disconnects. */
async function newTerminalSample(run: number, gateway: BenchGateway, relay: TcpRelay): Promise<NewSample> {
  const started = performance.now();
  const ticket = await mintTicketVia(gateway, relay, BUILD_ID, { kind: 'ssh' });
  const minted = performance.now();
  const page = await openPageTerminal(ticket, gateway.origin, { via: relay, keep: false });
  const firstOutput = await page.waitFor('first output', () => page.at.firstOutput);
  await page.close();
  return { run, firstByteMs: firstOutput - started, mintMs: minted - started, upgradeMs: page.at.open - minted, readyMs: (page.at.ready ?? NaN) - page.at.open };
}

interface Stream {
  /** Output of the session before the current page's socket, stitched at the offsets "resumed" named. */
  prefix: Buffer;
  page: PageTerminal;
  bytesLost: number;
  bytesRepeated: number;
  codes: Record<string, number>;
}

/** Cuts the page's network, keeps it down for the outage, restores it and resumes the session. */
async function resumeSample(run: number, gateway: BenchGateway, relay: TcpRelay, sessionId: string, stream: Stream): Promise<ResumeSample> {
  relay.refuse();
  const code = await stream.page.closed;
  stream.codes[code] = (stream.codes[code] ?? 0) + 1;
  const had = Buffer.concat([stream.prefix, stream.page.output()]);
  // The outage itself: how long the network stays down, not a wait for something to happen.
  await sleep(OUTAGE_MS);
  relay.accept();
  const back = performance.now();
  const ticket = await mintTicketVia(gateway, relay, BUILD_ID, { kind: 'ssh', sessionId });
  const minted = performance.now();
  const page = await openPageTerminal(ticket, gateway.origin, { via: relay, resumeFrom: had.length });
  await page.waitFor('first replayed byte', () => page.at.firstOutput);
  const resumed = page.controls.find((c) => c.type === 'resumed');
  if (resumed?.type !== 'resumed' || page.at.resumed === undefined || page.at.firstOutput === undefined) throw new Error('output came before "resumed"');
  stream.bytesLost += Math.max(0, resumed.offset - had.length);
  stream.bytesRepeated += Math.max(0, had.length - resumed.offset);
  stream.prefix = had.subarray(0, Math.min(resumed.offset, had.length));
  stream.page = page;
  // The shell goes on past what was held, live, before anything else happens.
  const target = lastCounter(had) + LIVE_LINES;
  await page.waitFor(`counter n${target}`, () => (lastCounter(page.output()) >= target ? true : null));
  const backEpochMs = performance.timeOrigin + back;
  const printed = [...page.output().toString('latin1').matchAll(COUNTER_LINE)].map((m) => Number(m[2]) * 1000);
  return {
    run,
    firstByteMs: page.at.firstOutput - back,
    mintMs: minted - back,
    upgradeMs: page.at.open - minted,
    resumedMs: page.at.resumed - page.at.open,
    replayedLines: printed.filter((at) => at < backEpochMs).length,
    firstLineHeldMs: backEpochMs - (printed[0] ?? NaN),
  };
}

async function measureResume(options: CaseOptions, sshd: SshdHandle): Promise<Pick<ResumeResult, 'resume' | 'newTerminal' | 'ratioP50' | 'ratioP95' | 'lost' | 'samplesPerRun'>> {
  const samplesPerRun = options.quick ? QUICK_SAMPLES_PER_RUN : FULL_SAMPLES_PER_RUN;
  const gateway = await startBenchGateway();
  const relay = await startTcpRelay({ host: '127.0.0.1', port: Number(new URL(gateway.origin).port) });
  const resumes: ResumeSample[] = [];
  const news: NewSample[] = [];
  const lost = { resumes: 0, bytesLost: 0, bytesRepeated: 0, counterLines: 0, linesMissing: 0, linesRepeated: 0, cutCloseCodes: {} as Record<string, number> };
  let open: PageTerminal | null = null;
  try {
    await gateway.registerBuild(BUILD_ID, { ssh: keyEndpoint(sshd) });
    for (let run = 0; run < options.runs; run++) {
      const first = await openThrough(gateway, relay);
      open = first;
      const ready = first.controls.find((c) => c.type === 'ready');
      if (ready?.type !== 'ready' || ready.resumeSeconds <= 0) throw new Error('the session is not resumable');
      first.type(COUNTER_COMMAND);
      await first.waitFor('counter', () => (lastCounter(first.output()) >= LIVE_LINES ? true : null));
      const stream: Stream = { prefix: Buffer.alloc(0), page: first, bytesLost: 0, bytesRepeated: 0, codes: lost.cutCloseCodes };
      for (let sample = 0; sample < samplesPerRun; sample++) {
        for (const leg of alternate(['resume', 'new'] as const, sample + run)) {
          if (leg === 'new') news.push(await newTerminalSample(run, gateway, relay));
          else {
            const result = await resumeSample(run, gateway, relay, ready.sessionId, stream);
            open = stream.page;
            resumes.push(result);
          }
        }
      }
      const whole = Buffer.concat([stream.prefix, stream.page.output()]);
      await stream.page.close();
      open = null;
      const check = continuity(whole);
      lost.resumes += samplesPerRun;
      lost.bytesLost += stream.bytesLost;
      lost.bytesRepeated += stream.bytesRepeated;
      lost.counterLines += check.lines;
      lost.linesMissing += check.missing;
      lost.linesRepeated += check.repeated;
      const mine = resumes.filter((r) => r.run === run).map((r) => r.firstByteMs);
      const theirs = news.filter((r) => r.run === run).map((r) => r.firstByteMs);
      options.log(
        `  run ${run + 1}: network back → first replayed byte p50 ${p50(mine).toFixed(1)} ms, max ${Math.max(...mine).toFixed(1)} ms; new terminal → first byte p50 ${p50(theirs).toFixed(1)} ms; ${check.lines} counter lines, ${check.missing} missing, ${check.repeated} repeated, ${stream.bytesLost} bytes lost`,
      );
    }
    const resume = summarize(resumes);
    const newTerminal = summarize(news);
    const runs = [...new Set(resumes.map((r) => r.run))];
    return {
      samplesPerRun,
      resume: {
        ...resume,
        mintP50Ms: p50(resumes.map((r) => r.mintMs)),
        upgradeP50Ms: p50(resumes.map((r) => r.upgradeMs)),
        resumedP50Ms: p50(resumes.map((r) => r.resumedMs)),
        replayedLinesP50: p50(resumes.map((r) => r.replayedLines)),
        firstLineHeldMsP50: p50(resumes.map((r) => r.firstLineHeldMs)),
        firstLinesHeld: resumes.filter((r) => r.firstLineHeldMs > 0).length,
      },
      newTerminal: {
        ...newTerminal,
        mintP50Ms: p50(news.map((r) => r.mintMs)),
        upgradeP50Ms: p50(news.map((r) => r.upgradeMs)),
        readyP50Ms: p50(news.map((r) => r.readyMs)),
      },
      ratioP50: spread(runs.map((run) => p50(resumes.filter((r) => r.run === run).map((r) => r.firstByteMs)) / p50(news.filter((r) => r.run === run).map((r) => r.firstByteMs)))),
      ratioP95: resume.p95Ms / newTerminal.p95Ms,
      lost,
    };
  } finally {
    open?.ws.terminate();
    await relay.close();
    await gateway.stop();
  }
}

/** Bytes the process has written so far (/proc/<pid>/io). */
function bytesWritten(pid: number): number {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  return Number(/^wchar:\s+(\d+)$/m.exec(io)?.[1] ?? NaN);
}

/** Resolves once no `yes` has written anything for QUIET_MS: nothing downstream is reading. */
async function untilStopped(pids: readonly number[]): Promise<void> {
  await withDeadline('floods to stop', STOP_DEADLINE_MS, async () => {
    const last = pids.map(bytesWritten);
    const changedAt = pids.map(() => performance.now());
    for (;;) {
      // Polling a counter in /proc: stopping is the absence of progress, seen over QUIET_MS.
      await sleep(POLL_MS);
      const now = performance.now();
      pids.forEach((pid, i) => {
        const written = bytesWritten(pid);
        if (written !== last[i]) {
          last[i] = written;
          changedAt[i] = now;
        }
      });
      if (changedAt.every((t) => now - t >= QUIET_MS)) return;
    }
  });
}

async function settledMemory(gateway: BenchGateway): Promise<GatewayMemory> {
  const samples: GatewayMemory[] = [];
  for (let i = 0; i < MEMORY_SAMPLES; i++) samples.push(await gateway.memory());
  const pick = (f: (m: GatewayMemory) => number): number => percentile(samples.map(f), 50, 'interpolate');
  return { rss: pick((m) => m.rss), heapUsed: pick((m) => m.heapUsed), heapTotal: pick((m) => m.heapTotal), external: pick((m) => m.external), arrayBuffers: pick((m) => m.arrayBuffers) };
}

async function heldCount(gateway: BenchGateway): Promise<number> {
  return Number(/^porthole_sessions_held\{kind="ssh"\} (\d+)$/m.exec(await gateway.metrics())?.[1] ?? NaN);
}

async function untilHeld(gateway: BenchGateway, count: number): Promise<void> {
  await withDeadline(`${count} sessions held`, STOP_DEADLINE_MS, async () => {
    while ((await heldCount(gateway)) !== count) await sleep(POLL_MS);
  });
}

interface Flood {
  readonly pid: number;
  /** Output the page received after the pid line. */
  readonly watched: number;
}

/**
 * Starts `yes` in the page's shell (or, with a FIFO, readies it to start once the bench says so),
 * lets the page watch (and acknowledge) `watch` bytes of it, then the page goes.
 */
async function floodThenLeave(page: PageTerminal, watch: number, fifo?: string): Promise<Flood> {
  page.type(fifo ? floodAfter(fifo) : FLOOD_COMMAND);
  const match = await page.waitFor('flood pid', () => FLOOD_PID.exec(page.output().toString('latin1')));
  const pidEnd = match.index + match[0].length;
  page.stopKeeping();
  await page.waitFor('flood watched', () => (page.received() - pidEnd >= watch ? true : null));
  page.ws.terminate();
  await page.closed;
  return { pid: Number(match[1]), watched: page.received() - pidEnd };
}

async function openDirect(gateway: BenchGateway): Promise<PageTerminal> {
  const page = await openPageTerminal(await gateway.mintTicket(BUILD_ID, 'ssh'), gateway.origin);
  await page.waitFor('ready', () => page.at.ready);
  return page;
}

/** A FIFO per session in a directory the VM user can reach; opening one for writing and closing it starts that session's flood. */
function makeFifos(count: number): { paths: string[]; release(path: string): Promise<void>; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-bench-resume-'));
  chmodSync(dir, 0o755);
  const paths = Array.from({ length: count }, (_, i) => join(dir, `go-${i}`));
  for (const path of paths) execFileSync('mkfifo', ['-m', '0666', path]);
  return {
    paths,
    // The open completes once the shell has the FIFO open for reading; closing it is the shell's EOF.
    release: async (path) => await (await open(path, 'w')).close(),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function measureHeld(sshd: SshdHandle, scenario: HeldScenario, bufferBytes: number, sessions: number, log: (m: string) => void): Promise<HeldMemory> {
  // The default cap of 10 connections per user would refuse the held sessions (a held session keeps its slot).
  const gateway = await startBenchGateway({ env: { PORTHOLE_RESUME_BUFFER_BYTES: String(bufferBytes), PORTHOLE_MAX_CONNECTIONS_PER_USER: String(sessions + 2) } });
  const pages: PageTerminal[] = [];
  const fifos = makeFifos(sessions);
  try {
    await gateway.registerBuild(BUILD_ID, { ssh: keyEndpoint(sshd) });
    // Warm-up: one session through the cycle (opened, held, resumed, ended), so the code's first use
    // is not counted against the sessions measured. No flood: memory it freed would stay resident
    // and be reused by the sessions measured, hiding part of their cost.
    const warm = await openDirect(gateway);
    const warmReady = warm.controls.find((c) => c.type === 'ready');
    if (warmReady?.type !== 'ready') throw new Error('no ready');
    warm.ws.terminate();
    await warm.closed;
    await untilHeld(gateway, 1);
    const back = await openPageTerminal(await mintTicketVia(gateway, { host: '127.0.0.1', port: Number(new URL(gateway.origin).port) }, BUILD_ID, { kind: 'ssh', sessionId: warmReady.sessionId }), gateway.origin, { resumeFrom: warm.received(), keep: false });
    await back.waitFor('resumed', () => back.at.resumed);
    await back.close();
    await untilHeld(gateway, 0);

    const base = await settledMemory(gateway);
    while (pages.length < sessions) pages.push(...(await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, sessions - pages.length) }, () => openDirect(gateway)))));
    const idle = await settledMemory(gateway);
    const floods: Flood[] = [];
    for (const [i, page] of pages.entries()) floods.push(await (scenario === 'after' ? floodThenLeave(page, 0, fifos.paths[i]) : floodThenLeave(page, bufferBytes)));
    const left = performance.now();
    await untilHeld(gateway, sessions);
    if (scenario === 'after') for (const path of fifos.paths) await withDeadline('flood start', STOP_DEADLINE_MS, () => fifos.release(path));
    await untilStopped(floods.map((f) => f.pid));
    const stopSeconds = (performance.now() - left - QUIET_MS) / 1000;
    const held = await settledMemory(gateway);
    const undelivered = floods.map((f) => (wireBytes(bytesWritten(f.pid)) - f.watched) / KiB);
    const per = (f: (m: GatewayMemory) => number): number => (f(held) - f(base)) / sessions / KiB;
    const result: HeldMemory = {
      scenario,
      bufferBytes,
      sessions,
      watchedBytes: p50(floods.map((f) => f.watched)),
      baseRssMiB: base.rss / 2 ** 20,
      rssPerSessionKiB: per((m) => m.rss),
      idleRssPerSessionKiB: (idle.rss - base.rss) / sessions / KiB,
      idleArrayBuffersPerSessionKiB: (idle.arrayBuffers - base.arrayBuffers) / sessions / KiB,
      heapPerSessionKiB: per((m) => m.heapUsed),
      arrayBuffersPerSessionKiB: per((m) => m.arrayBuffers),
      undeliveredPerSessionKiB: spread(undelivered),
      stopSeconds,
      targetKiB: (bufferBytes + SESSION_ALLOWANCE_BYTES) / KiB,
    };
    log(
      `  buffer ${bufferBytes / KiB} KiB, flood ${scenario === 'after' ? 'after the page left' : 'watched by the page'}, ${sessions} held sessions: RSS ${result.rssPerSessionKiB.toFixed(0)} KiB per session (idle attached ${result.idleRssPerSessionKiB.toFixed(0)}), Buffers ${result.arrayBuffersPerSessionKiB.toFixed(0)} KiB, undelivered ${result.undeliveredPerSessionKiB.median.toFixed(0)} KiB; target ≤ ${result.targetKiB} KiB`,
    );
    return result;
  } finally {
    for (const page of pages) page.ws.terminate();
    await gateway.stop();
    fifos.remove();
  }
}

/** The same flood read by ssh2 directly, its channel paused once the reader watched `watch` bytes, as the gateway's is. */
async function ssh2PausedChannel(endpoint: SshEndpoint, watch: number): Promise<{ buffered: number; undelivered: number }> {
  const client = new ssh2.Client();
  try {
    const channel = await withDeadline('ssh2 shell', 30_000, () =>
      new Promise<ssh2.ClientChannel>((done, fail) => {
        client.on('ready', () => client.shell({ term: 'xterm-256color', cols: 120, rows: 40 }, (error, ch) => (error ? fail(error) : done(ch))));
        client.on('error', fail);
        client.connect({ host: endpoint.host, port: endpoint.port, username: endpoint.username, privateKey: endpoint.privateKey });
      }),
    );
    let text = '';
    let pid = 0;
    let watched = 0;
    await withDeadline('ssh2 flood', 30_000, () =>
      new Promise<void>((done) => {
        const onData = (chunk: Buffer): void => {
          if (pid === 0) {
            text += chunk.toString('latin1');
            const match = FLOOD_PID.exec(text);
            if (!match) return;
            pid = Number(match[1]);
            watched = text.length - (match.index + match[0].length);
          } else watched += chunk.length;
          if (watched >= watch) {
            channel.pause();
            channel.off('data', onData);
            done();
          }
        };
        channel.on('data', onData);
        channel.write(FLOOD_COMMAND);
      }),
    );
    await untilStopped([pid]);
    return { buffered: channel.readableLength, undelivered: wireBytes(bytesWritten(pid)) - watched };
  } finally {
    client.end();
  }
}

export const resumeCase: BenchCase = {
  name: 'resume',
  title: 'Resuming a terminal session after a network cut',
  async run(options: CaseOptions): Promise<ResumeResult> {
    const sshd = await startBenchSshd();
    try {
      const latency = await measureResume(options, sshd);
      const sessions = options.quick ? QUICK_HELD_SESSIONS : FULL_HELD_SESSIONS;
      const held: HeldMemory[] = [];
      for (const [scenario, bufferBytes] of HELD_LEGS) held.push(await measureHeld(sshd, scenario, bufferBytes, sessions, options.log));
      const paused = await Promise.all(Array.from({ length: SSH2_CHANNELS }, () => ssh2PausedChannel(keyEndpoint(sshd), DEFAULT_BUFFER_BYTES)));
      const ssh2Paused = { channels: paused.length, bufferedKiB: spread(paused.map((p) => p.buffered / KiB)), undeliveredKiB: spread(paused.map((p) => p.undelivered / KiB)) };
      options.log(`  ssh2 direct, paused channel under the same flood: ${ssh2Paused.bufferedKiB.median.toFixed(0)} KiB in its buffer, ${ssh2Paused.undeliveredKiB.median.toFixed(0)} KiB undelivered in all`);
      const leg = (bufferBytes: number): HeldMemory | undefined => held.find((h) => h.scenario === 'after' && h.bufferBytes === bufferBytes);
      const [mid, large] = [leg(MID_BUFFER_BYTES), leg(LARGE_BUFFER_BYTES)];
      const slope = (f: (h: HeldMemory) => number): number => (mid && large ? ((f(large) - f(mid)) * KiB) / (large.bufferBytes - mid.bufferBytes) : NaN);
      return {
        case: 'resume',
        date: new Date().toISOString(),
        runs: options.runs,
        outageMs: OUTAGE_MS,
        ...latency,
        held,
        perBufferByte: {
          fromBytes: MID_BUFFER_BYTES,
          toBytes: LARGE_BUFFER_BYTES,
          held: slope((h) => h.undeliveredPerSessionKiB.median),
          arrayBuffers: slope((h) => h.arrayBuffersPerSessionKiB),
          rss: slope((h) => h.rssPerSessionKiB),
        },
        ssh2Paused,
      };
    } finally {
      await sshd.stop();
    }
  },
};
