/**
 * Files dropped on the page. A file dropped where nothing takes it would make the browser open it in
 * place of the terminal page, ending the session: on this page every file drop is taken, and only
 * the drop targets upload.
 */

export interface DroppedFiles {
  readonly files: File[];
  /** Names of dropped folders, which are not uploaded. */
  readonly folders: string[];
}

export function carriesFiles(dt: DataTransfer | null): boolean {
  return dt !== null && Array.from(dt.types).includes('Files');
}

export function filesOfDrop(dt: DataTransfer): DroppedFiles {
  const files: File[] = [];
  const folders: string[] = [];
  const items = Array.from(dt.items);
  if (items.length > 0) {
    for (const item of items) {
      if (item.kind !== 'file') continue;
      const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
      const file = item.getAsFile();
      if (entry?.isDirectory) folders.push(entry.name);
      else if (file) files.push(file);
    }
    return { files, folders };
  }
  return { files: Array.from(dt.files), folders };
}

export interface DropZone {
  /** Whether an event target is where a drop uploads. */
  readonly accepts: (target: EventTarget | null) => boolean;
  /** False while uploads are refused: the pointer shows that a drop would do nothing. */
  readonly enabled: () => boolean;
  readonly dropped: (files: DroppedFiles) => void;
  /** While files are dragged over a target (true) and after (false). */
  readonly hovering: (over: boolean) => void;
}

/** How long after the last dragover the highlight stays: dragleave fires on every child element. */
const HOVER_LINGER_MS = 150;

export function wireFileDrops(zone: DropZone): void {
  let timer: number | undefined;
  const over = (e: DragEvent): void => {
    if (!carriesFiles(e.dataTransfer)) return;
    e.preventDefault();
    const inside = zone.accepts(e.target) && zone.enabled();
    if (e.dataTransfer) e.dataTransfer.dropEffect = inside ? 'copy' : 'none';
    window.clearTimeout(timer);
    zone.hovering(inside);
    if (inside) timer = window.setTimeout(() => zone.hovering(false), HOVER_LINGER_MS);
  };
  // Capture on the window: before anything inside the page (xterm.js's textarea) can act on it.
  window.addEventListener('dragenter', over, true);
  window.addEventListener('dragover', over, true);
  window.addEventListener(
    'drop',
    (e) => {
      if (!carriesFiles(e.dataTransfer) || !e.dataTransfer) return;
      e.preventDefault();
      window.clearTimeout(timer);
      zone.hovering(false);
      // Refused uploads are still reported: the panel says why nothing happened.
      if (zone.accepts(e.target)) zone.dropped(filesOfDrop(e.dataTransfer));
    },
    true,
  );
}
