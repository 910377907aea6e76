/**
 * The uploads of the Files panel: one at a time (the gateway caps each user's concurrent
 * transfers), each with its progress bar, Cancel while it waits or runs, Replace when the file
 * exists, and its result until dismissed.
 */
import { displayName } from './display-name.js';
import { el, smallButton } from './dom.js';
import { describeRefusal, type FilesProblem } from './errors.js';
import type { FilesApi, UploadOutcome, UploadTransfer } from './files-api.js';
import { formatBytes, formatProgress, percentOf } from './format.js';
import { joinPath } from './paths.js';

export type UploadState = 'waiting' | 'sending' | 'uploaded' | 'exists' | 'failed' | 'cancelled';

export interface UploadEvents {
  /** A file arrived in `dir`: the listing of that folder is stale. */
  readonly uploaded: (dir: string) => void;
  /** The gateway refused an upload for a reason that holds for every other one too. */
  readonly refused: (problem: FilesProblem, code: string) => void;
}

class UploadItem {
  readonly view = el('li', 'files-upload');
  readonly #text = el('span', 'files-upload-text');
  readonly #progress = el('progress', 'files-upload-progress');
  readonly #actions = el('span', 'files-upload-actions');
  #transfer: UploadTransfer | null = null;
  state: UploadState = 'waiting';

  constructor(
    readonly dir: string,
    readonly file: File,
    private readonly retry: (item: UploadItem) => void,
    private readonly dismiss: (item: UploadItem) => void,
  ) {
    const shown = displayName(file.name);
    const name = el('span', 'files-upload-name mono', shown);
    name.title = `${shown} → ${displayName(dir)}`;
    this.#progress.max = 1;
    this.#progress.value = 0;
    this.#progress.setAttribute('aria-label', `Upload of ${shown}`);
    this.view.append(name, this.#progress, this.#text, this.#actions);
    this.set('waiting');
  }

  get path(): string {
    return joinPath(this.dir, this.file.name);
  }

  set(state: UploadState, detail?: string): void {
    this.state = state;
    this.view.dataset['state'] = state;
    this.#progress.hidden = state !== 'sending';
    const total = formatBytes(this.file.size);
    const text: Record<UploadState, string> = {
      waiting: `Waiting · ${total}`,
      sending: formatProgress(0, this.file.size),
      uploaded: `Uploaded · ${total}`,
      exists: 'A file of that name is already in this folder.',
      failed: detail ?? 'The upload failed.',
      cancelled: 'Cancelled.',
    };
    this.#text.textContent = text[state];
    this.#actions.replaceChildren();
    const shown = displayName(this.file.name);
    if (state === 'waiting' || state === 'sending') {
      const cancel = smallButton('Cancel', `Cancel the upload of ${shown}`);
      cancel.addEventListener('click', () => this.cancel());
      this.#actions.append(cancel);
    } else {
      if (state === 'exists') {
        const replace = smallButton('Replace', `Replace ${shown} on the VM`);
        replace.addEventListener('click', () => this.retry(this));
        this.#actions.append(replace);
      }
      const dismiss = smallButton('✕', `Dismiss ${shown}`);
      dismiss.addEventListener('click', () => this.dismiss(this));
      this.#actions.append(dismiss);
    }
  }

  progress(loaded: number, total: number): void {
    this.#progress.max = Math.max(total, 1);
    this.#progress.value = total === 0 ? 1 : loaded;
    this.#progress.setAttribute('aria-valuetext', `${percentOf(loaded, total)}%`);
    this.#text.textContent = formatProgress(loaded, total);
  }

  start(transfer: UploadTransfer): void {
    this.#transfer = transfer;
    this.set('sending');
  }

  cancel(): void {
    if (this.state === 'waiting') this.set('cancelled');
    else if (this.state === 'sending') this.#transfer?.cancel();
  }
}

export class UploadQueue {
  readonly view = el('ul', 'files-uploads');
  #turn: Promise<void> = Promise.resolve();

  constructor(
    private readonly api: FilesApi,
    private readonly events: UploadEvents,
  ) {
    this.view.setAttribute('aria-label', 'Uploads');
    this.view.hidden = true;
  }

  /** Queues `file` for `dir` on the VM. */
  add(dir: string, file: File): void {
    const item = new UploadItem(
      dir,
      file,
      (again) => this.#enqueue(again, true),
      (gone) => this.#remove(gone),
    );
    this.view.append(item.view);
    this.view.hidden = false;
    this.#enqueue(item, false);
  }

  /** A line that is only a result (a dropped folder, a name the VM cannot have). */
  note(name: string, message: string): void {
    const line = el('li', 'files-upload');
    line.dataset['state'] = 'failed';
    const dismiss = smallButton('✕', `Dismiss ${displayName(name)}`);
    dismiss.addEventListener('click', () => {
      line.remove();
      this.view.hidden = this.view.childElementCount === 0;
    });
    line.append(el('span', 'files-upload-name mono', displayName(name)), el('span', 'files-upload-text', message), dismiss);
    this.view.append(line);
    this.view.hidden = false;
  }

  #enqueue(item: UploadItem, overwrite: boolean): void {
    item.set('waiting');
    this.#turn = this.#turn.then(() => this.#send(item, overwrite));
  }

  async #send(item: UploadItem, overwrite: boolean): Promise<void> {
    if (item.state !== 'waiting') return;
    let transfer: UploadTransfer;
    try {
      transfer = this.api.upload(item.path, item.file, { overwrite, progress: (loaded, total) => item.progress(loaded, total) });
    } catch {
      item.set('failed', 'The browser could not start the upload.');
      return;
    }
    item.start(transfer);
    const outcome: UploadOutcome = await transfer.done;
    switch (outcome.kind) {
      case 'uploaded':
        item.set('uploaded');
        this.events.uploaded(item.dir);
        return;
      case 'cancelled':
        item.set('cancelled');
        return;
      case 'refused': {
        if (outcome.code === 'file_exists' || (outcome.status === 409 && !overwrite)) {
          item.set('exists');
          return;
        }
        const problem = describeRefusal(outcome.status, outcome.code, outcome.message);
        // On an upload, this code means uploads only: downloads may still be allowed (`download` mode).
        item.set('failed', outcome.code === 'file_transfer_disabled' ? 'This gateway does not allow uploads.' : problem.message);
        if (problem.stopsUploads) this.events.refused(problem, outcome.code);
        return;
      }
    }
  }

  #remove(item: UploadItem): void {
    item.view.remove();
    this.view.hidden = this.view.childElementCount === 0;
  }
}
