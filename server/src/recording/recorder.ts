/**
 * Session recording: decides which terminals are recorded and gives each one an asciicast file
 * under the recordings directory plus a `recordings` row. The file is named by a random id chosen
 * here, never by anything a browser, VM or orchestrator supplied.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AppId, BuildId, RecordingId, UserId } from '../../../shared/src/ids.js';
import type { Logger } from '../log.js';
import type { Person } from '../protocols/protocol.js';
import type { AppRecord, Store } from '../store/store.js';
import { AsciicastWriter } from './asciicast-writer.js';

/** 96 random bits: unguessable, and safe in a file name as hex. */
const RECORDING_ID_BYTES = 12;
const RECORDING_ID_PATTERN = /^[0-9a-f]{24}$/;
/** Recordings hold terminal content: the directory is the gateway user's alone. */
const DIR_MODE = 0o700;
/** Marks who types from that point on (issue #16); the keys themselves are never recorded. */
export const TYPIST_NOTE_PREFIX = 'typing: ';
/** Used if output somehow comes before the shell's size is known. */
const FALLBACK_SIZE = { cols: 80, rows: 24 } as const;

export function parseRecordingId(value: unknown): RecordingId | null {
  return typeof value === 'string' && RECORDING_ID_PATTERN.test(value) ? (value as RecordingId) : null;
}

export function recordingFileName(id: RecordingId): string {
  return `${id}.cast`;
}

export interface RecorderDeps {
  readonly store: Store;
  readonly dir: string;
  readonly recordAll: boolean;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Output dropped from a recording (disk too slow or full). */
  readonly onDropped?: (bytes: number) => void;
}

export interface RecordingTarget {
  readonly buildId: BuildId;
  /** The build's app now: the recording stays readable by this app's members only. */
  readonly appId: AppId;
  readonly userId: UserId;
  readonly connectionId: string;
}

/** One session's recording; opened lazily when the terminal's size is first known. */
export interface SessionRecording {
  output(chunk: Buffer): void;
  resize(cols: number, rows: number): void;
  /** Input from now on comes from this person (a watcher handed control, or the owner again). */
  typist(person: Person): void;
  /** The session ended: close the file and complete its row. */
  finish(): Promise<void>;
}

export class Recorder {
  readonly #deps: RecorderDeps;
  readonly #open = new Set<Promise<void>>();

  constructor(deps: RecorderDeps) {
    this.#deps = deps;
    mkdirSync(deps.dir, { recursive: true, mode: DIR_MODE });
  }

  get dir(): string {
    return this.#deps.dir;
  }

  /** The deployment-wide switch wins; otherwise the app's own. */
  shouldRecord(app: AppRecord | null): boolean {
    return this.#deps.recordAll || app?.recordSessions === true;
  }

  /** `logger`: the connection's own, so the recording's lines carry its ids. */
  begin(target: RecordingTarget, logger: Logger = this.#deps.logger): SessionRecording {
    const deps = this.#deps;
    const log = logger;
    let writer: AsciicastWriter | null = null;
    let id: RecordingId | null = null;
    let rowWritten: Promise<void> = Promise.resolve();
    let finished: Promise<void> | null = null;
    let done: () => void = () => undefined;

    const open = (cols: number, rows: number): AsciicastWriter => {
      id = randomBytes(RECORDING_ID_BYTES).toString('hex') as RecordingId;
      const recordingId = id;
      const startedAt = deps.now();
      const path = join(deps.dir, recordingFileName(recordingId));
      const created = new AsciicastWriter(path, { cols, rows, startedAt, title: `Build ${target.buildId}` }, () => performance.now(), (error) => {
        log.error({ event: 'recording_failed', recordingId, err: error }, 'recording stopped: the file cannot be written');
      });
      rowWritten = deps.store.addRecording({ id: recordingId, ...target, startedAt }).catch((error: unknown) => {
        log.error({ event: 'recording_failed', recordingId, err: error }, 'recording row cannot be written');
      });
      const tracked = new Promise<void>((resolve) => {
        done = resolve;
      });
      this.#open.add(tracked);
      void tracked.then(() => this.#open.delete(tracked));
      log.info({ event: 'recording_started', recordingId, connectionId: target.connectionId }, 'recording started');
      return created;
    };

    return {
      output(chunk) {
        (writer ??= open(FALLBACK_SIZE.cols, FALLBACK_SIZE.rows)).output(chunk);
      },
      resize(cols, rows) {
        if (writer) writer.resize(cols, rows);
        else writer = open(cols, rows);
      },
      typist(person) {
        // Names are text the members chose; the player shows markers as text.
        writer?.note(`${TYPIST_NOTE_PREFIX}${person.name} (${person.userId})`);
      },
      finish() {
        finished ??= (async () => {
          if (!writer || id === null) return;
          const recordingId = id;
          try {
            const totals = await writer.close();
            await rowWritten;
            if (totals.droppedBytes > 0) deps.onDropped?.(totals.droppedBytes);
            await deps.store.finishRecording(recordingId, deps.now(), totals.sizeBytes, totals.droppedBytes);
            log.info({ event: 'recording_finished', recordingId, ...totals }, 'recording finished');
          } catch (error) {
            log.error({ event: 'recording_failed', recordingId, err: error }, 'recording row cannot be completed');
          } finally {
            done();
          }
        })();
        return finished;
      },
    };
  }

  /** Resolves once every recording begun so far is closed and its row complete. */
  async flush(): Promise<void> {
    while (this.#open.size > 0) await Promise.all(this.#open);
  }
}
