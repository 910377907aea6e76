/**
 * The demo's gateway log: every line to a file, so the banner with the logins is not scrolled away
 * by the access log, and warnings and errors to the console as well, so a problem is still seen.
 * Production keeps the gateway's default (JSON lines on stdout, server/src/log.ts).
 */
import { pino } from 'pino';
import { createLogger, type Logger } from '../../server/src/log.js';

const STDERR_FD = 2;

export interface DemoLog {
  readonly logger: Logger;
  /**
   * From now on warnings and errors reach the console too. Called after the start-up warnings,
   * which are about settings the demo chose on purpose (VM passwords can be revealed, plain http on
   * loopback): in the file, not in the way of the banner.
   */
  readonly showProblemsOnConsole: () => void;
}

export function createDemoLog(level: pino.LevelWithSilent, logFile: string): DemoLog {
  const streams = pino.multistream<pino.LevelWithSilent>([{ level, stream: pino.destination({ dest: logFile, mkdir: true }) }]);
  return {
    logger: createLogger(level, streams),
    showProblemsOnConsole: () => void streams.add({ level: 'warn', stream: pino.destination(STDERR_FD) }),
  };
}
