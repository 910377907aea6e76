/**
 * File transfer (issue #17): one file downloaded and uploaded through the gateway's file API
 * (`GET`/`PUT /api/v1/builds/{id}/files/content`, a signed-in cookie as the page sends it) and by
 * OpenSSH's `sftp` client, from and to the same sshd as the same user, legs alternated within each
 * run. Then the gateway's RSS while a client reads a 1 GiB download slowly (the response is
 * backpressure-bound throughout), against the target of ≤ 32 MiB of growth.
 *
 * Both legs log in afresh each time (the gateway opens one SSH connection per transfer, `sftp` one
 * per run), so the times include a login on either side. The bench runs as root on the machine
 * the sshd runs on: fixtures are written straight into the VM user's home and given to that user.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BenchCase, CaseOptions } from '../lib/case.js';
import { keyEndpoint, startBenchGateway, startBenchSshd, type BenchGateway, type SshEndpoint } from '../lib/gateway-process.js';
import { writeKeyFile } from '../lib/shell-legs.js';
import { withDeadline } from '../lib/deadline.js';
import { alternate, spread, type Spread } from '../lib/stats.js';

const BUILD_ID = 'bench-transfer';
const MiB = 1024 * 1024;
/** Large enough that the login both sides pay is a few per cent of a leg (~2–5 s here). */
const FULL_FILE_MIB = 256;
const QUICK_FILE_MIB = 16;
/** The slow download: a 1 GiB file, of which the slow reader takes what its span allows. */
const FULL_SLOW_FILE_MIB = 1024;
const QUICK_SLOW_FILE_MIB = 64;
/** How long the slow reader reads: long enough for any buffering on the way to have filled. */
const FULL_SLOW_SPAN_MS = 30_000;
const QUICK_SLOW_SPAN_MS = 5_000;
/**
 * The slow reader's pace, 128 KiB per 10 ms tick (12.5 MiB/s): a fast home link, yet far below
 * what the gateway serves flat out, so the response waits on the reader the whole time.
 */
const SLOW_READ_BYTES = 128 * 1024;
const SLOW_READ_TICK_MS = 10;
/** Unmeasured transfer first, so the gateway's first use of the file code is not counted. */
const WARM_FILE_MIB = 8;
const RSS_SAMPLE_MS = 250;
/** The targets. */
const THROUGHPUT_TARGET = 0.9;
const RSS_GROWTH_TARGET_MIB = 32;
/** Random fixture data is made and written this much at a time: the bench's own memory stays small. */
const FIXTURE_WRITE_BYTES = 8 * MiB;
/** 256 MiB at a pessimistic 2 MB/s; a slower leg is broken and is killed. */
const LEG_TIMEOUT_MS = 180_000;
/** The slow span plus a login and the response headers on a loaded machine. */
const SLOW_LEG_EXTRA_MS = 30_000;
/**
 * What the gateway's ssh2 negotiates with this sshd (the terminal case records it); `sftp` is
 * pinned to it so that sshd does the same crypto work for both legs and only the clients differ.
 */
const SFTP_CIPHER = 'aes128-gcm@openssh.com';

type Direction = 'download' | 'upload';
type LegName = 'sftp' | 'gateway';

interface LegRun {
  readonly run: number;
  readonly order: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly mbPerS: number;
  /** CPU of the process that terminates SSH on the client side: the gateway, or `sftp` with its `ssh`. */
  readonly cpuSeconds: number;
  readonly cpuSecondsPerGB: number;
}

interface LegSummary {
  readonly mbPerS: Spread;
  readonly cpuSecondsPerGB: Spread;
  readonly runs: LegRun[];
}

export interface TransferDirectionResult {
  readonly legs: Record<LegName, LegSummary>;
  /** Per run, gateway ÷ sftp throughput. */
  readonly ratio: Spread;
  readonly gatewayRssPeakMiB: number;
}

export interface SlowDownloadResult {
  readonly fileMiB: number;
  readonly spanSeconds: number;
  readonly paceMiBPerSecond: number;
  readonly readKiBPerTick: number;
  readonly tickMs: number;
  readonly receivedMiB: number;
  readonly readMiBPerSecond: number;
  /** Ticks on which the reader found less than its share waiting: the gateway was not ahead of it. */
  readonly starvedTicks: number;
  readonly ticks: number;
  readonly rssBeforeMiB: number;
  readonly rssPeakMiB: number;
  readonly rssEndMiB: number;
  /** Peak sampled RSS during the download over RSS just before it. */
  readonly rssGrowthMiB: number;
  /** Peak of the span's second half over the peak of its first: ~0 when memory is bounded, not merely slow to grow. */
  readonly rssSecondHalfGrowthMiB: number;
  /** [seconds since the request, RSS MiB], every sample. */
  readonly rssTrace: readonly (readonly [number, number])[];
  readonly targetMiB: number;
}

export interface TransferResult {
  readonly case: 'transfer';
  readonly date: string;
  readonly runs: number;
  readonly quick: boolean;
  readonly fileMiB: number;
  readonly sftpCipher: string;
  readonly target: number;
  readonly download: TransferDirectionResult;
  readonly upload: TransferDirectionResult;
  readonly slowDownload: SlowDownloadResult;
}

interface Fixture {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

interface VmHome {
  readonly user: string;
  readonly dir: string;
}

function homeOf(user: string): string {
  const home = execFileSync('getent', ['passwd', user], { encoding: 'utf8' }).trim().split(':')[5];
  if (!home) throw new Error(`no home folder for ${user}`);
  return home;
}

/** A folder of the VM user's own, as if made in the terminal. */
function makeVmHome(user: string): VmHome {
  const dir = mkdtempSync(join(homeOf(user), 'porthole-bench-transfer-'));
  execFileSync('chown', [`${user}:`, dir]);
  return { user, dir };
}

/** Random bytes (nothing on the way compresses), written in slices, owned by the VM user. */
function writeFixture(home: VmHome, name: string, mib: number): Fixture {
  const path = join(home.dir, name);
  const hash = createHash('sha256');
  const fd = openSync(path, 'w', 0o644);
  try {
    for (let left = mib * MiB; left > 0; left -= FIXTURE_WRITE_BYTES) {
      const slice = randomBytes(Math.min(FIXTURE_WRITE_BYTES, left));
      hash.update(slice);
      writeSync(fd, slice);
    }
  } finally {
    closeSync(fd);
  }
  execFileSync('chown', [`${home.user}:`, path]);
  return { path, bytes: mib * MiB, sha256: hash.digest('hex') };
}

function contentUrl(gateway: BenchGateway, path: string, query: Record<string, string> = {}): string {
  return `${gateway.origin}/api/v1/builds/${BUILD_ID}/files/content?${new URLSearchParams({ path, ...query }).toString()}`;
}

/** How the page asks: its cookie, and the browser's own same-origin marker. */
function downloadHeaders(gateway: BenchGateway): http.OutgoingHttpHeaders {
  return { Cookie: gateway.cookie, 'Sec-Fetch-Site': 'same-origin' };
}

interface Timed {
  readonly bytes: number;
  readonly seconds: number;
}

/**
 * The whole file through the gateway, read by curl to /dev/null: a client in C, as the browser's
 * network stack and `sftp` are, not the bench's own JavaScript competing for the 2 cores (the
 * cookie goes in curl's config on stdin, not on its command line).
 */
async function gatewayDownload(gateway: BenchGateway, file: Fixture): Promise<Timed> {
  const headers = Object.entries(downloadHeaders(gateway)).map(([name, value]) => `header = "${name}: ${String(value).replace(/["\\]/g, '\\$&')}"`);
  const child = spawn('curl', ['--silent', '--show-error', '--fail', '--config', '-', '--output', '/dev/null', '--write-out', '%{size_download}', contentUrl(gateway, file.path)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const run = await runChild(child, 'gateway download', `${headers.join('\n')}\n`, () => child.kill('SIGKILL'));
  const bytes = Number(run.out.trim());
  if (run.code !== 0 || bytes !== file.bytes) throw new Error(`gateway download: curl exited ${run.code}, ${bytes} of ${file.bytes} bytes: ${run.err.trim()}`);
  return { bytes, seconds: run.seconds };
}

interface ChildRun {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
  /** From spawning to exit. */
  readonly seconds: number;
}

/** Feeds `input` to a spawned leg, collects its output, and times it to its exit; `kill` ends it past the deadline. */
function runChild(child: ChildProcessWithoutNullStreams, what: string, input: string, kill: () => void): Promise<ChildRun> {
  const started = performance.now();
  return withDeadline(
    what,
    LEG_TIMEOUT_MS,
    () =>
      new Promise<ChildRun>((done, fail) => {
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
        child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
        child.once('error', fail);
        child.stdin.on('error', () => undefined);
        child.once('exit', (code) => done({ code, out, err, seconds: (performance.now() - started) / 1000 }));
        child.stdin.end(input);
      }),
    kill,
  );
}

/** The same with Node's HTTP client: warms the gateway up without a process to start. */
function nodeDownload(gateway: BenchGateway, file: Fixture): Promise<Timed> {
  let request: http.ClientRequest | undefined;
  return withDeadline(
    'gateway download',
    LEG_TIMEOUT_MS,
    () =>
      new Promise<Timed>((done, fail) => {
        const started = performance.now();
        request = http.get(contentUrl(gateway, file.path), { headers: downloadHeaders(gateway), agent: false }, (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            fail(new Error(`gateway download: ${res.statusCode}`));
            return;
          }
          let bytes = 0;
          res.on('data', (chunk: Buffer) => (bytes += chunk.length));
          res.once('error', fail);
          res.once('end', () => (bytes === file.bytes ? done({ bytes, seconds: (performance.now() - started) / 1000 }) : fail(new Error(`gateway download: ${bytes} of ${file.bytes} bytes`))));
        });
        request.once('error', fail);
      }),
    () => request?.destroy(),
  );
}

/** The file as the request body, streamed from disk (never whole in memory), as a browser sends a File. */
function gatewayUpload(gateway: BenchGateway, file: Fixture, target: string): Promise<Timed> {
  let request: http.ClientRequest | undefined;
  return withDeadline(
    'gateway upload',
    LEG_TIMEOUT_MS,
    async () => {
      const started = performance.now();
      const req = http.request(contentUrl(gateway, target), {
        method: 'PUT',
        agent: false,
        headers: { Cookie: gateway.cookie, Origin: gateway.origin, 'Content-Type': 'application/octet-stream', 'Content-Length': String(file.bytes) },
      });
      request = req;
      const answered = new Promise<http.IncomingMessage>((done, fail) => {
        req.once('response', done);
        req.once('error', fail);
      });
      await pipeline(createReadStream(file.path), req);
      const res = await answered;
      let body = '';
      res.setEncoding('utf8');
      for await (const chunk of res) body += chunk as string;
      const seconds = (performance.now() - started) / 1000;
      if (res.statusCode !== 201) throw new Error(`gateway upload: ${res.statusCode} ${body}`);
      const view = JSON.parse(body) as { size: number; sha256: string };
      if (view.size !== file.bytes || view.sha256 !== file.sha256) throw new Error(`gateway upload: stored ${view.size} bytes, sha256 ${view.sha256}`);
      return { bytes: file.bytes, seconds };
    },
    () => request?.destroy(),
  );
}

interface SftpRun {
  readonly seconds: number;
  readonly cpuSeconds: number;
}

/**
 * One `sftp -b -` session running `command`. CPU comes from bash's `times` (its children's user
 * and system time: `sftp` and the `ssh` it runs), since both have exited, and left /proc, by the
 * time the bench could read them.
 */
async function sftpRun(endpoint: SshEndpoint, keyFile: string, command: string): Promise<SftpRun> {
  const args = [
    '-q', '-b', '-', '-i', keyFile, '-P', String(endpoint.port),
    '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
    '-o', `Ciphers=${SFTP_CIPHER}`,
    `${endpoint.username}@${endpoint.host}`,
  ];
  const child = spawn('bash', ['-c', 'sftp "$@" >/dev/null || exit $?; times', 'sftp-leg', ...args], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const run = await runChild(child, 'sftp', `${command}\n`, () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  });
  // `times`: the shell's own user and system time, then its children's, as "0m1.234s 0m0.567s".
  const children = run.out.trim().split('\n')[1]?.match(/(\d+)m([\d.]+)s/g) ?? [];
  const cpuSeconds = children.map((t) => /(\d+)m([\d.]+)s/.exec(t)).reduce((sum, m) => sum + Number(m?.[1] ?? NaN) * 60 + Number(m?.[2] ?? NaN), 0);
  if (run.code !== 0 || children.length !== 2) throw new Error(`sftp exited ${run.code}: ${run.err.trim()}`);
  return { seconds: run.seconds, cpuSeconds };
}

/** sftp's batch syntax: arguments in double quotes with quotes and backslashes escaped. */
function sftpQuote(path: string): string {
  return `"${path.replace(/["\\]/g, '\\$&')}"`;
}

interface Legs {
  readonly gateway: BenchGateway;
  readonly endpoint: SshEndpoint;
  readonly keyFile: string;
  readonly home: VmHome;
  readonly file: Fixture;
}

async function runLeg(legs: Legs, direction: Direction, leg: LegName, tag: string): Promise<{ bytes: number; seconds: number; cpuSeconds: number }> {
  const { gateway, endpoint, keyFile, home, file } = legs;
  const target = join(home.dir, `uploaded-${leg}-${tag}.bin`);
  try {
    if (leg === 'sftp') {
      const command = direction === 'download' ? `get ${sftpQuote(file.path)} /dev/null` : `put ${sftpQuote(file.path)} ${sftpQuote(target)}`;
      const run = await sftpRun(endpoint, keyFile, command);
      if (direction === 'upload' && statSync(target).size !== file.bytes) throw new Error(`sftp upload: stored ${statSync(target).size} bytes`);
      return { bytes: file.bytes, ...run };
    }
    const cpuBefore = gateway.cpuSeconds();
    const timed = direction === 'download' ? await gatewayDownload(gateway, file) : await gatewayUpload(gateway, file, target);
    return { ...timed, cpuSeconds: gateway.cpuSeconds() - cpuBefore };
  } finally {
    // Every upload starts with the same empty folder and no page cache of its own to reuse.
    if (direction === 'upload') rmSync(target, { force: true });
  }
}

async function measureDirection(legs: Legs, direction: Direction, options: CaseOptions): Promise<TransferDirectionResult> {
  const runs: Record<LegName, LegRun[]> = { sftp: [], gateway: [] };
  let rssPeak = 0;
  for (let run = 0; run < options.runs; run++) {
    for (const [order, leg] of alternate<LegName>(['sftp', 'gateway'], run).entries()) {
      const sampler = leg === 'gateway' ? setInterval(() => (rssPeak = Math.max(rssPeak, legs.gateway.rssBytes())), RSS_SAMPLE_MS) : null;
      let result;
      try {
        result = await runLeg(legs, direction, leg, `${run}`);
      } finally {
        if (sampler) clearInterval(sampler);
      }
      const entry: LegRun = {
        run,
        order,
        bytes: result.bytes,
        seconds: result.seconds,
        mbPerS: result.bytes / result.seconds / 1e6,
        cpuSeconds: result.cpuSeconds,
        cpuSecondsPerGB: result.cpuSeconds / (result.bytes / 1e9),
      };
      runs[leg].push(entry);
      options.log(`  ${direction} run ${run + 1} ${leg.padEnd(8)} ${entry.mbPerS.toFixed(1)} MB/s, ${entry.cpuSecondsPerGB.toFixed(1)} CPU-s/GB`);
    }
  }
  const summary = (name: LegName): LegSummary => ({ mbPerS: spread(runs[name].map((r) => r.mbPerS)), cpuSecondsPerGB: spread(runs[name].map((r) => r.cpuSecondsPerGB)), runs: runs[name] });
  return {
    legs: { sftp: summary('sftp'), gateway: summary('gateway') },
    ratio: spread(runs.gateway.map((g, i) => g.mbPerS / (runs.sftp[i]?.mbPerS ?? NaN))),
    gatewayRssPeakMiB: rssPeak / MiB,
  };
}

/**
 * A client that takes at most SLOW_READ_BYTES per tick from the response and leaves the rest in
 * the socket, for `spanMs`; the gateway's RSS is sampled from the request on.
 */
async function slowDownload(gateway: BenchGateway, file: Fixture, spanMs: number): Promise<SlowDownloadResult> {
  const rssBefore = gateway.rssBytes();
  const requested = performance.now();
  const trace: [number, number][] = [];
  const sampler = setInterval(() => trace.push([(performance.now() - requested) / 1000, gateway.rssBytes()]), RSS_SAMPLE_MS);
  let request: http.ClientRequest | undefined;
  let ticker: NodeJS.Timeout | undefined;
  try {
    const read = await withDeadline(
      'slow download',
      spanMs + SLOW_LEG_EXTRA_MS,
      () =>
        new Promise<{ received: number; seconds: number; ticks: number; starved: number }>((done, fail) => {
          request = http.get(contentUrl(gateway, file.path), { headers: downloadHeaders(gateway), agent: false }, (res) => {
            if (res.statusCode !== 200) {
              res.resume();
              fail(new Error(`slow download: ${res.statusCode}`));
              return;
            }
            // Paused mode: nothing is read but what a tick takes, so the socket fills and TCP pushes back.
            res.pause();
            res.once('error', fail);
            const started = performance.now();
            let received = 0;
            let ticks = 0;
            let starved = 0;
            ticker = setInterval(() => {
              ticks += 1;
              // read(n) returns n bytes or null; the first call also lifts the stream's buffer to n.
              const chunk = res.read(SLOW_READ_BYTES) as Buffer | null;
              if (chunk) received += chunk.length;
              else starved += 1;
              const elapsed = performance.now() - started;
              if (elapsed >= spanMs || received >= file.bytes) done({ received, seconds: elapsed / 1000, ticks, starved });
            }, SLOW_READ_TICK_MS);
          });
          request.once('error', fail);
        }),
      () => request?.destroy(),
    );
    const rssEnd = gateway.rssBytes();
    trace.push([(performance.now() - requested) / 1000, rssEnd]);
    const peak = (from: number, to: number): number => Math.max(rssBefore, ...trace.filter(([t]) => t >= from && t < to).map(([, rss]) => rss));
    const half = (trace.at(-1)?.[0] ?? 0) / 2;
    const rssPeak = peak(0, Infinity);
    return {
      fileMiB: file.bytes / MiB,
      spanSeconds: read.seconds,
      paceMiBPerSecond: SLOW_READ_BYTES / MiB / (SLOW_READ_TICK_MS / 1000),
      readKiBPerTick: SLOW_READ_BYTES / 1024,
      tickMs: SLOW_READ_TICK_MS,
      receivedMiB: read.received / MiB,
      readMiBPerSecond: read.received / MiB / read.seconds,
      starvedTicks: read.starved,
      ticks: read.ticks,
      rssBeforeMiB: rssBefore / MiB,
      rssPeakMiB: rssPeak / MiB,
      rssEndMiB: rssEnd / MiB,
      rssGrowthMiB: (rssPeak - rssBefore) / MiB,
      rssSecondHalfGrowthMiB: (peak(half, Infinity) - peak(0, half)) / MiB,
      rssTrace: trace.map(([t, rss]) => [Math.round(t * 100) / 100, Math.round((rss / MiB) * 10) / 10] as const),
      targetMiB: RSS_GROWTH_TARGET_MIB,
    };
  } finally {
    clearInterval(ticker);
    clearInterval(sampler);
    request?.destroy();
  }
}

export const transferCase: BenchCase = {
  name: 'transfer',
  title: 'File download and upload: gateway vs sftp, and memory during a slow download',
  async run(options: CaseOptions): Promise<TransferResult> {
    const fileMib = options.quick ? QUICK_FILE_MIB : FULL_FILE_MIB;
    const sshd = await startBenchSshd();
    const endpoint = keyEndpoint(sshd);
    const key = writeKeyFile(endpoint);
    const home = makeVmHome(endpoint.username);
    const gateways: BenchGateway[] = [];
    try {
      const file = writeFixture(home, 'transfer.bin', fileMib);
      const warm = writeFixture(home, 'warm.bin', WARM_FILE_MIB);
      const gateway = await startBenchGateway();
      gateways.push(gateway);
      await gateway.registerBuild(BUILD_ID, { ssh: endpoint });
      const legs: Legs = { gateway, endpoint, keyFile: key.file, home, file };
      // Unmeasured: both clients' first transfer, each way (code compiled, file in the page cache).
      for (const direction of ['download', 'upload'] as const) {
        for (const leg of ['sftp', 'gateway'] as const) await runLeg({ ...legs, file: warm }, direction, leg, 'warm');
      }
      options.log(`transfer: ${fileMib} MiB, download`);
      const download = await measureDirection(legs, 'download', options);
      options.log(`transfer: ${fileMib} MiB, upload`);
      const upload = await measureDirection(legs, 'upload', options);
      await gateway.stop();

      // A fresh gateway, warmed by one download, so the growth is the slow download's alone.
      const slowMib = options.quick ? QUICK_SLOW_FILE_MIB : FULL_SLOW_FILE_MIB;
      const big = writeFixture(home, 'slow.bin', slowMib);
      const quiet = await startBenchGateway();
      gateways.push(quiet);
      await quiet.registerBuild(BUILD_ID, { ssh: endpoint });
      await nodeDownload(quiet, warm);
      const spanMs = options.quick ? QUICK_SLOW_SPAN_MS : FULL_SLOW_SPAN_MS;
      options.log(`transfer: ${slowMib} MiB read slowly for ${spanMs / 1000} s`);
      const slow = await slowDownload(quiet, big, spanMs);
      options.log(
        `  read ${slow.receivedMiB.toFixed(0)} MiB at ${slow.readMiBPerSecond.toFixed(1)} MiB/s (${slow.starvedTicks} of ${slow.ticks} ticks found less than their share); ` +
          `gateway RSS ${slow.rssBeforeMiB.toFixed(1)} → peak ${slow.rssPeakMiB.toFixed(1)} MiB (+${slow.rssGrowthMiB.toFixed(1)}, +${slow.rssSecondHalfGrowthMiB.toFixed(1)} in the second half; target ≤ ${RSS_GROWTH_TARGET_MIB})`,
      );
      return {
        case: 'transfer',
        date: new Date().toISOString(),
        runs: options.runs,
        quick: options.quick,
        fileMiB: fileMib,
        sftpCipher: SFTP_CIPHER,
        target: THROUGHPUT_TARGET,
        download,
        upload,
        slowDownload: slow,
      };
    } finally {
      for (const gateway of gateways) await gateway.stop();
      key.remove();
      rmSync(home.dir, { recursive: true, force: true });
      await sshd.stop();
    }
  },
};
