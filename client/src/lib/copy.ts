/** Copy buttons: `data-copy="<id>"` copies the text of the element with that id. */
const FEEDBACK_MS = 1500;

export function wireCopyButtons(root: ParentNode = document): void {
  for (const button of root.querySelectorAll<HTMLButtonElement>('button[data-copy]')) {
    button.addEventListener('click', () => {
      const target = document.getElementById(button.dataset['copy'] ?? '');
      const text = target?.textContent ?? '';
      void copyText(text).then((copied) => {
        const label = button.textContent;
        button.textContent = copied ? 'Copied' : 'Press Ctrl+C';
        if (!copied && target) selectContents(target);
        window.setTimeout(() => {
          button.textContent = label;
        }, FEEDBACK_MS);
      });
    });
  }
}

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

function selectContents(el: Element): void {
  const range = document.createRange();
  range.selectNodeContents(el);
  const selection = window.getSelection();
  selection?.removeAllRanges();
  selection?.addRange(range);
}
