/**
 * A VM desktop that keeps changing, for the screen-over-WAN case (issue #19), on an Xvnc display
 * with no window manager: an xterm scrolling random text, a window that xdotool moves across the
 * screen, and a marker whose colour the bench flips at moments it records.
 *
 * The marker is a small xterm reading a FIFO: the bench writes OSC 11 (set the background colour)
 * into it, and the stamp is taken just before that write. What follows (xterm repaints, Xvnc sees
 * the damage) is the VM's own work and counts in change-to-pixel, as it would for any change.
 */
import { mkdtempSync, rmSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, spawnManaged, type ManagedProcess } from '../../test/helpers/daemon.js';

const XTERM_PATH = '/usr/bin/xterm';
const XDOTOOL_PATH = '/usr/bin/xdotool';
const PERL_PATH = '/usr/bin/perl';
const MKFIFO_PATH = '/usr/bin/mkfifo';
/** X clients exit at once on SIGTERM. */
const STOP_GRACE_MS = 3_000;
/** An xterm maps within a second; generous for a loaded 2-core machine. */
const MAP_TIMEOUT_MS = 20_000;
/** The "fixed" font's cell, and xterm's default inner border. */
const CELL = { width: 6, height: 13 } as const;
const XTERM_BORDER_PX = 2;
/** Marker: 6×3 cells at the top-left corner, sampled at its middle (away from the hidden cursor's cell). */
const MARKER_CELLS = { columns: 6, rows: 3 } as const;
/** ~25 lines a second of 80 random characters: a build log scrolling by. */
const SCROLL_LINE_PAUSE_S = 0.04;
/** 10 moves a second, 24 px each, bouncing in a box right of the scrolling terminal. */
const MOVE_PAUSE_S = 0.1;
const MOVE_STEP_PX = 24;
const MOVER_BOX = { left: 700, top: 80, right: 1060, bottom: 620 } as const;

const MARKER_LIGHT = '#ffffff';
const MARKER_DARK = '#000000';

export interface ChangingDesktop {
  /** The marker's sampling point, in VM pixels. */
  readonly marker: { readonly x: number; readonly y: number };
  /** Sets the marker light or dark; returns the moment (epoch ms, sub-ms) the change was handed to the VM. */
  flip(light: boolean): number;
  stop(): Promise<void>;
}

const SCROLLER = `$|=1; my $i=0; while (1) { printf "%08d %s\\n", $i++, join("", map { chr(33+int(rand(94))) } 1..80); select(undef,undef,undef,${SCROLL_LINE_PAUSE_S}); }`;

const MOVER = `
my ($id) = @ARGV; my ($x, $y, $dx, $dy) = (${MOVER_BOX.left}, ${MOVER_BOX.top}, ${MOVE_STEP_PX}, ${MOVE_STEP_PX});
while (1) {
  system("${XDOTOOL_PATH}", "windowmove", $id, $x, $y);
  $x += $dx; $y += $dy;
  $dx = -$dx if $x < ${MOVER_BOX.left} || $x > ${MOVER_BOX.right};
  $dy = -$dy if $y < ${MOVER_BOX.top} || $y > ${MOVER_BOX.bottom};
  select(undef,undef,undef,${MOVE_PAUSE_S});
}`;

function nowEpochMs(): number {
  return performance.timeOrigin + performance.now();
}

export async function startChangingDesktop(display: number): Promise<ChangingDesktop> {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-bench-desktop-'));
  const env = { PATH: process.env['PATH'] ?? '', DISPLAY: `:${display}`, HOME: dir, TERM: 'xterm' };
  const processes: ManagedProcess[] = [];
  let marker: FileHandle | null = null;
  const xterm = (title: string, geometry: string, colours: readonly string[], command: readonly string[]): ManagedProcess => {
    const proc = spawnManaged(XTERM_PATH, ['-geometry', geometry, '-bw', '0', '-fn', 'fixed', ...colours, '-title', title, '-xrm', 'XTerm*allowTitleOps: false', '-e', ...command], { env, cwd: dir });
    processes.push(proc);
    return proc;
  };
  const windowId = async (title: string): Promise<string> => {
    const { stdout } = await runCommand(XDOTOOL_PATH, ['search', '--sync', '--onlyvisible', '--name', title], { env, timeoutMs: MAP_TIMEOUT_MS });
    return stdout.toString('utf8').trim().split('\n')[0] ?? '';
  };
  try {
    const fifo = join(dir, 'marker');
    await runCommand(MKFIFO_PATH, [fifo]);
    xterm('porthole-bench-marker', `${MARKER_CELLS.columns}x${MARKER_CELLS.rows}+0+0`, ['-bg', MARKER_DARK, '-fg', MARKER_DARK], ['sh', '-c', `exec cat < ${fifo}`]);
    // Opening a FIFO for writing waits for its reader: the marker's cat.
    marker = await open(fifo, 'w');
    // Hides the cursor, so only the background colour is on the marker.
    writeSync(marker.fd, '\x1b[?25l');
    xterm('porthole-bench-scroller', '100x40+60+60', ['-bg', '#ffffff', '-fg', '#000000'], [PERL_PATH, '-e', SCROLLER]);
    xterm('porthole-bench-mover', `30x10+${MOVER_BOX.left}+${MOVER_BOX.top}`, ['-bg', '#c04000', '-fg', '#ffffff'], ['sh', '-c', 'ls -l /usr/bin | head -n 10; exec cat']);
    await windowId('porthole-bench-marker');
    await windowId('porthole-bench-scroller');
    const mover = await windowId('porthole-bench-mover');
    const moverProc = spawnManaged(PERL_PATH, ['-e', MOVER, mover], { env, cwd: dir });
    processes.push(moverProc);
  } catch (error) {
    await marker?.close();
    for (const proc of processes) await proc.stop(STOP_GRACE_MS);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const markerFile = marker;
  return {
    marker: { x: XTERM_BORDER_PX + (MARKER_CELLS.columns * CELL.width) / 2, y: XTERM_BORDER_PX + (MARKER_CELLS.rows * CELL.height) / 2 },
    flip(light) {
      const at = nowEpochMs();
      writeSync(markerFile.fd, `\x1b]11;${light ? MARKER_LIGHT : MARKER_DARK}\x07`);
      return at;
    },
    async stop() {
      await markerFile.close();
      for (const proc of processes) await proc.stop(STOP_GRACE_MS);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
