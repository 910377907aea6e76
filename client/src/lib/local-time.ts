/** Replaces server-rendered UTC times with the reader's local time. */
const FORMAT = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function localiseTimes(root: ParentNode = document): void {
  for (const el of root.querySelectorAll<HTMLTimeElement>('time[data-local-time]')) {
    const when = new Date(el.dateTime);
    if (!Number.isNaN(when.getTime())) {
      el.textContent = FORMAT.format(when);
      el.title = when.toISOString();
    }
  }
}
