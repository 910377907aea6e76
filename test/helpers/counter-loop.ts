/**
 * The issue #15 proof loop, shared by the single-node and the cross-node resume tests: a shell
 * prints a counter every 10 ms; the page is cut mid-stream and a later page resumes the session.
 * Every number must then appear exactly once, in order, across the two pages, and the shell's PID
 * must be the same before and after.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import type { TerminalClient } from './terminal-client.js';

/** Lines the resumed page must see past what was held, so the loop visibly went on. */
const LINES_AFTER_RESUME = 100;

export interface RunningCounter {
  /** The shell's PID before the cut. */
  readonly pid: string;
  /** Checks the resumed page: the loop goes on, nothing lost or repeated, the same shell. Stops the loop. */
  verifyResumed(received: Buffer, resumed: TerminalClient): Promise<{ readonly lines: number }>;
}

/** Starts the loop on a fresh page and waits until it is well under way. */
export async function startCounter(t: TerminalClient, sessionId: string): Promise<RunningCounter> {
  t.type('echo "pid=$$"\r');
  const pid = (await t.waitForOutput(/[\r\n]pid=(\d+)\r\n/))[1] ?? '';
  // Stopped by a file, not Ctrl-C: an interrupt races the loop's own fork and flushes typed-ahead input.
  const stop = `/tmp/porthole-stop-${sessionId}`;
  t.type(`i=0; while [ ! -e ${stop} ]; do echo "n$i"; i=$((i+1)); sleep 0.01; done; echo loop-done\r`);
  await t.waitForOutput(/[\r\n]n40\r\n/);
  return {
    pid,
    async verifyResumed(received, resumed) {
      try {
        // The loop goes on after the resume: the counter the page sees keeps growing past what was held.
        // Counted from both pages: the resumed one may not have had its held output replayed yet, and
        // a target below what was already shown would never arrive.
        const highest = (text: string): number => Math.max(0, ...[...text.matchAll(/n(\d+)\r\n/g)].map((m) => Number(m[1])));
        const target = Math.max(highest(received.toString('latin1')), highest(resumed.output())) + LINES_AFTER_RESUME;
        await resumed.waitForOutput(new RegExp(`[\\r\\n]n${target}\\r\\n`));
        writeFileSync(stop, '');
        await resumed.waitForOutput(/[\r\n]loop-done\r\n/);
        rmSync(stop, { force: true });
        resumed.type('echo "pid=$$"\r');
        const pidAfter = (await resumed.waitForOutput(/[\r\n]pid=(\d+)\r\n/))[1];
        assert.equal(pidAfter, pid, 'the same shell');
        const lines = [...Buffer.concat([received, resumed.outputBytes()]).toString('latin1').matchAll(/(?<=[\r\n])n(\d+)\r\n/g)].map((m) => Number(m[1]));
        assert.ok(lines.length > target, `${lines.length} lines`);
        const wrong = lines.findIndex((n, i) => n !== i);
        assert.equal(wrong, -1, `line ${wrong} reads n${lines[wrong]}: lost or repeated output around the cut`);
        return { lines: lines.length };
      } catch (error) {
        // Left in place: the loop must stop even if this page never saw it end.
        writeFileSync(stop, '');
        throw error;
      }
    },
  };
}
