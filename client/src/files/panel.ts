/**
 * The Files panel of the terminal page (issue #17): a folder of the build's VM at a time, with its
 * breadcrumb and path box, sortable and filterable, folders first; downloads are links the browser
 * fetches itself (an embed's post a form, files-api.ts); uploads come from a picker or from files dropped on the terminal or the
 * panel. Every name, path and message from the VM is text (display-name.ts), never markup.
 */
import { displayName, hasHiddenCharacters } from './display-name.js';
import { downloadLink, el, pointDownload, smallButton } from './dom.js';
import { wireFileDrops, type DroppedFiles } from './drop.js';
import { describeError, type FilesProblem } from './errors.js';
import type { DownloadWhat, FilesApi } from './files-api.js';
import { formatBytes, formatModified } from './format.js';
import { DEFAULT_SORT, filterEntries, nextSort, sortEntries, type FileEntry, type SortKey, type SortOrder } from './listing.js';
import { breadcrumbs, checkUploadName, joinPath, parentPath, resolvePath } from './paths.js';
import { UploadQueue } from './uploads.js';

export interface FilesPanelOptions {
  readonly api: FilesApi;
  /** The empty element the panel fills (#files-panel). */
  readonly host: HTMLElement;
  /** The status bar's Files button. */
  readonly toggle: HTMLButtonElement;
  /** Where else a dropped file uploads (the terminal); the panel itself always does. */
  readonly dropTargets: readonly HTMLElement[];
  /** The panel closed: where the keyboard goes back to (the terminal). */
  readonly closed: () => void;
}

const COLUMNS: readonly { readonly key: SortKey; readonly label: string }[] = [
  { key: 'name', label: 'Name' },
  { key: 'size', label: 'Size' },
  { key: 'modified', label: 'Modified' },
];

const HIDDEN_CHARACTERS_HINT = 'This name has control or invisible characters, shown as escapes such as \\n.';

interface Shown {
  /** Absolute path of the folder shown. */
  readonly path: string;
  entries: FileEntry[];
  nextCursor: string | null;
}

export class FilesPanel {
  readonly #o: FilesPanelOptions;
  readonly #uploads: UploadQueue;
  #shown: Shown | null = null;
  #home: string | null = null;
  #shellDirectory: string | null = null;
  #sort: SortOrder = DEFAULT_SORT;
  #filter = '';
  /** Each navigation outdates the answers to earlier ones. */
  #generation = 0;
  #loading: Promise<boolean> | null = null;
  /** Counts what the panel has said, so a listing clears only what was said before it was asked for. */
  #said = 0;
  #filesOff = false;
  #uploadsOff = false;

  readonly #closeButton = smallButton('✕', 'Close files');
  readonly #body = el('div', 'files-body');
  readonly #message = el('p', 'files-message');
  readonly #pathInput = el('input', 'files-path-input mono');
  readonly #crumbs = el('ol', 'files-crumbs');
  readonly #filterInput = el('input', 'files-filter');
  readonly #shellButton = smallButton("Shell's folder", "Go to the shell's current folder");
  readonly #upButton = smallButton('↑ Up', 'Go to the parent folder');
  readonly #uploadButton = smallButton('Upload…', 'Upload files into this folder');
  readonly #fileInput = el('input');
  readonly #folderLink = downloadLink('Download folder', 'Download this folder as .tar.gz');
  readonly #table = el('table', 'files-table');
  readonly #head = el('tr');
  readonly #rows = el('tbody');
  readonly #status = el('p', 'files-status');
  readonly #moreButton = smallButton('Load more', 'Load more of this folder');

  constructor(options: FilesPanelOptions) {
    this.#o = options;
    this.#uploads = new UploadQueue(options.api, {
      uploaded: (dir) => {
        if (this.#shown?.path === dir) void this.#navigate(dir);
      },
      refused: (problem, code) => this.#stopUploads(problem, code),
    });
    this.#build();
    options.toggle.setAttribute('aria-controls', options.host.id);
    options.toggle.setAttribute('aria-expanded', 'false');
    options.toggle.addEventListener('click', () => (this.isOpen ? this.close() : void this.open()));
    wireFileDrops({
      accepts: (target) => target instanceof Node && (options.host.contains(target) || options.dropTargets.some((t) => t.contains(target))),
      enabled: () => !this.#filesOff && !this.#uploadsOff,
      dropped: (files) => void this.upload(files),
      hovering: (over) => document.body.classList.toggle('files-drop-active', over),
    });
  }

  get isOpen(): boolean {
    return !this.#o.host.hidden;
  }

  /** Opens the panel, at the home folder the first time. Resolves once a listing is shown (or refused). */
  async open(): Promise<void> {
    const host = this.#o.host;
    if (host.hidden) {
      host.hidden = false;
      this.#o.toggle.setAttribute('aria-expanded', 'true');
      this.#pathInput.focus();
    }
    await this.#ready();
  }

  close(): void {
    if (this.#o.host.hidden) return;
    this.#o.host.hidden = true;
    this.#o.toggle.setAttribute('aria-expanded', 'false');
    this.#o.closed();
  }

  /** The shell said where it is (OSC 7): offer to go there. */
  setShellDirectory(path: string): void {
    this.#shellDirectory = path;
    this.#shellButton.hidden = false;
    this.#shellButton.title = displayName(path);
  }

  /** Uploads into the folder shown, opening the panel at home first if it never was. */
  async upload(dropped: DroppedFiles): Promise<void> {
    if (dropped.files.length === 0 && dropped.folders.length === 0) return;
    await this.open();
    if (this.#filesOff || this.#uploadsOff) {
      this.#say(this.#uploadsOff && !this.#filesOff ? 'This gateway does not allow uploads.' : this.#message.textContent || 'Files cannot be moved.');
      return;
    }
    const dir = this.#shown?.path;
    if (dir === undefined) return;
    for (const folder of dropped.folders) this.#uploads.note(folder, 'Folders are not uploaded: drop the files in it, or an archive of it.');
    for (const file of dropped.files) {
      const name = checkUploadName(file.name);
      if (name.ok) this.#uploads.add(dir, file);
      else this.#uploads.note(file.name, name.message);
    }
  }

  /** Something is shown, or the reason why not; loads home once if nothing was ever asked for. */
  async #ready(): Promise<void> {
    if (this.#shown || this.#filesOff) return;
    await (this.#loading ?? this.#navigate(null));
  }

  #navigate(path: string | null): Promise<boolean> {
    const generation = ++this.#generation;
    const said = this.#said;
    this.#table.setAttribute('aria-busy', 'true');
    const loading = this.#o.api.listFiles(path, null).then(
      (listing) => {
        if (generation !== this.#generation) return false;
        if (path === null) this.#home = listing.path;
        this.#shown = { path: listing.path, entries: [...listing.entries], nextCursor: listing.nextCursor };
        // A refusal said meanwhile (a download clicked while an upload's re-listing was on its way) stays.
        if (this.#said === said) this.#say(null);
        this.#render();
        return true;
      },
      (error: unknown) => {
        if (generation !== this.#generation) return false;
        this.#refused(describeError(error));
        return false;
      },
    );
    this.#loading = loading;
    void loading.finally(() => {
      if (generation === this.#generation) {
        this.#table.removeAttribute('aria-busy');
        this.#loading = null;
      }
    });
    return loading;
  }

  async #loadMore(): Promise<void> {
    const shown = this.#shown;
    if (!shown || shown.nextCursor === null) return;
    const generation = this.#generation;
    this.#moreButton.disabled = true;
    try {
      const page = await this.#o.api.listFiles(shown.path, shown.nextCursor);
      if (generation !== this.#generation || this.#shown !== shown) return;
      shown.entries.push(...page.entries);
      shown.nextCursor = page.nextCursor;
      this.#render();
    } catch (error) {
      if (generation === this.#generation) this.#refused(describeError(error));
    } finally {
      this.#moreButton.disabled = false;
    }
  }

  #refused(problem: FilesProblem): void {
    this.#say(problem.message);
    if (problem.stopsFiles) {
      this.#filesOff = true;
      // The focused control is about to vanish: the keyboard stays in the panel (Escape still closes it).
      const hadFocus = this.#body.contains(document.activeElement);
      this.#body.hidden = true;
      if (hadFocus) this.#closeButton.focus();
    }
  }

  #stopUploads(problem: FilesProblem, code: string): void {
    this.#uploadsOff = true;
    this.#uploadButton.hidden = true;
    if (code !== 'file_transfer_disabled') this.#refused(problem);
  }

  #say(message: string | null): void {
    this.#said++;
    this.#message.textContent = message ?? '';
    this.#message.hidden = message === null;
  }

  #build(): void {
    const host = this.#o.host;
    const title = el('h2', 'files-title', 'Files');
    title.id = 'files-title';
    this.#closeButton.addEventListener('click', () => this.close());
    const head = el('div', 'files-head');
    head.append(title, this.#closeButton);

    this.#message.setAttribute('role', 'alert');
    this.#message.hidden = true;

    const form = el('form', 'files-path-form');
    this.#pathInput.type = 'text';
    this.#pathInput.spellcheck = false;
    this.#pathInput.autocomplete = 'off';
    this.#pathInput.setAttribute('aria-label', 'Folder path on the VM');
    this.#pathInput.placeholder = '~';
    const go = el('button', 'button button-small', 'Go');
    go.type = 'submit';
    form.append(this.#pathInput, go);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const resolved = resolvePath(this.#pathInput.value, this.#shown?.path ?? null, this.#home);
      if (resolved.ok) void this.#navigate(resolved.path);
      else this.#say(resolved.message);
    });

    const homeButton = smallButton('Home', 'Go to the home folder');
    homeButton.addEventListener('click', () => void this.#navigate(null));
    this.#upButton.addEventListener('click', () => {
      const up = this.#shown ? parentPath(this.#shown.path) : null;
      if (up !== null) void this.#navigate(up);
    });
    this.#shellButton.hidden = true;
    this.#shellButton.addEventListener('click', () => {
      if (this.#shellDirectory !== null) void this.#navigate(this.#shellDirectory);
    });
    const refresh = smallButton('Refresh', 'Refresh this folder');
    refresh.addEventListener('click', () => {
      if (this.#shown) void this.#navigate(this.#shown.path);
      else void this.#navigate(null);
    });
    this.#fileInput.type = 'file';
    this.#fileInput.multiple = true;
    this.#fileInput.hidden = true;
    this.#fileInput.id = 'files-upload-input';
    this.#fileInput.tabIndex = -1;
    this.#fileInput.addEventListener('change', () => {
      const files = Array.from(this.#fileInput.files ?? []);
      this.#fileInput.value = '';
      void this.upload({ files, folders: [] });
    });
    this.#uploadButton.addEventListener('click', () => this.#fileInput.click());
    this.#folderLink.id = 'files-download-folder';
    // Until a folder is shown it would download nothing useful.
    this.#folderLink.hidden = true;
    const tools = el('div', 'files-tools');
    tools.append(this.#upButton, homeButton, this.#shellButton, refresh, this.#uploadButton, this.#fileInput, this.#folderLink);

    const nav = el('nav', 'files-breadcrumb');
    nav.setAttribute('aria-label', 'Folder path');
    nav.append(this.#crumbs);

    this.#filterInput.type = 'search';
    this.#filterInput.placeholder = 'Filter by name';
    this.#filterInput.setAttribute('aria-label', 'Filter by name');
    this.#filterInput.addEventListener('input', () => {
      this.#filter = this.#filterInput.value;
      this.#renderRows();
    });

    const thead = el('thead');
    thead.append(this.#head);
    this.#table.append(thead, this.#rows);
    const tableWrap = el('div', 'files-table-wrap');
    tableWrap.append(this.#table);

    this.#moreButton.hidden = true;
    this.#moreButton.addEventListener('click', () => void this.#loadMore());
    this.#status.setAttribute('aria-live', 'polite');
    const foot = el('div', 'files-foot');
    foot.append(this.#status, this.#moreButton);

    const dropHint = el('p', 'files-drop-hint', 'Drop files to upload them into this folder');
    dropHint.setAttribute('aria-hidden', 'true');

    this.#body.append(form, tools, nav, this.#filterInput, this.#uploads.view, tableWrap, foot, dropHint);
    host.replaceChildren(head, this.#message, this.#body);
    host.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !e.defaultPrevented) {
        e.preventDefault();
        this.close();
      }
    });
    this.#renderHead();
  }

  #render(): void {
    const shown = this.#shown;
    if (!shown) return;
    this.#pathInput.value = shown.path;
    this.#upButton.disabled = parentPath(shown.path) === null;
    pointDownload(this.#folderLink, this.#o.api.download(shown.path, 'folder'), (problem) => this.#refused(problem));
    this.#folderLink.hidden = false;
    this.#crumbs.replaceChildren();
    const crumbs = breadcrumbs(shown.path);
    crumbs.forEach((crumb, i) => {
      const li = el('li');
      const label = displayName(crumb.label);
      if (i === crumbs.length - 1) {
        const here = el('span', 'files-crumb-here', label);
        here.setAttribute('aria-current', 'location');
        li.append(here);
      } else {
        const button = el('button', 'files-crumb', label);
        button.type = 'button';
        button.setAttribute('aria-label', crumb.path === '/' ? 'Go to the root folder' : `Go to ${displayName(crumb.path)}`);
        button.addEventListener('click', () => void this.#navigate(crumb.path));
        li.append(button);
      }
      this.#crumbs.append(li);
    });
    this.#renderRows();
  }

  #renderHead(): void {
    this.#head.replaceChildren();
    for (const column of COLUMNS) {
      const th = el('th', `files-col-${column.key}`);
      th.scope = 'col';
      const active = this.#sort.key === column.key;
      th.setAttribute('aria-sort', active ? (this.#sort.descending ? 'descending' : 'ascending') : 'none');
      const button = el('button', 'files-sort', column.label + (active ? (this.#sort.descending ? ' ▼' : ' ▲') : ''));
      button.type = 'button';
      button.setAttribute('aria-label', `Sort by ${column.label.toLowerCase()}`);
      button.addEventListener('click', () => {
        this.#sort = nextSort(this.#sort, column.key);
        this.#renderHead();
        this.#renderRows();
        this.#head.querySelector<HTMLButtonElement>(`.files-col-${column.key} button`)?.focus();
      });
      th.append(button);
      this.#head.append(th);
    }
    const actions = el('th', 'files-col-actions');
    actions.scope = 'col';
    actions.append(el('span', 'files-visually-hidden', 'Actions'));
    this.#head.append(actions);
  }

  #renderRows(): void {
    const shown = this.#shown;
    if (!shown) return;
    const visible = filterEntries(sortEntries(shown.entries, this.#sort), this.#filter);
    this.#rows.replaceChildren(...visible.map((entry) => this.#row(shown.path, entry)));
    if (visible.length === 0) {
      const td = el('td', 'files-empty', shown.entries.length === 0 ? 'This folder is empty.' : 'No names match the filter.');
      td.colSpan = COLUMNS.length + 1;
      const tr = el('tr');
      tr.append(td);
      this.#rows.append(tr);
    }
    const count = shown.entries.length;
    let status = `${count} ${count === 1 ? 'item' : 'items'}`;
    if (this.#filter.trim() !== '') status += ` · ${visible.length} match`;
    if (shown.nextCursor !== null) status += ' · more in this folder';
    this.#status.textContent = status;
    this.#moreButton.hidden = shown.nextCursor === null;
  }

  #row(dir: string, entry: FileEntry): HTMLTableRowElement {
    const tr = el('tr', 'files-row');
    tr.dataset['type'] = entry.type;
    const shown = displayName(entry.name);
    const path = joinPath(dir, entry.name);

    const nameCell = el('td', 'files-name');
    const suffix = entry.type === 'dir' ? '/' : entry.type === 'symlink' ? '@' : '';
    if (entry.type === 'dir' || entry.type === 'symlink') {
      const open = el('button', 'files-open', shown);
      open.type = 'button';
      open.setAttribute('aria-label', `Open ${shown}`);
      open.addEventListener('click', () => void this.#navigate(path));
      nameCell.append(open);
    } else {
      nameCell.append(el('span', 'files-file', shown));
    }
    if (suffix) nameCell.append(el('span', 'files-suffix', suffix));
    if (entry.type === 'other') nameCell.append(el('span', 'files-suffix', ' (special file)'));
    nameCell.title = hasHiddenCharacters(entry.name) ? `${shown}\n${HIDDEN_CHARACTERS_HINT}` : shown;
    if (hasHiddenCharacters(entry.name)) tr.classList.add('has-hidden-characters');

    const sizeCell = el('td', 'files-size', entry.type === 'dir' || entry.size === null ? '—' : formatBytes(entry.size));
    if (entry.size !== null && entry.type !== 'dir') sizeCell.title = `${entry.size.toLocaleString()} bytes`;
    const modifiedCell = el('td', 'files-modified', formatModified(entry.modifiedAt));
    if (entry.modifiedAt !== null) modifiedCell.title = new Date(entry.modifiedAt).toISOString();

    const actions = el('td', 'files-actions');
    const download = (what: DownloadWhat, label: string, ariaLabel: string): void => {
      const a = downloadLink(label, ariaLabel);
      pointDownload(a, this.#o.api.download(path, what), (problem) => this.#refused(problem));
      actions.append(a);
    };
    if (entry.type === 'file' || entry.type === 'symlink') download('file', 'Download', `Download ${shown}`);
    if (entry.type === 'dir') download('folder', '.tar.gz', `Download ${shown} as .tar.gz`);
    tr.append(nameCell, sizeCell, modifiedCell, actions);
    return tr;
  }
}
