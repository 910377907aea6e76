/**
 * The page's own question before it opens a link whose text reads as another address. A modal
 * <dialog>: keyboard-trapped, Escape cancels, Cancel has the focus, and both the text the VM showed
 * and the real target are set as text. The target opens only from the Open button's own click,
 * so the browser sees a user gesture and no popup blocker interferes.
 */

export interface LinkQuestion {
  /** The link's text as the terminal showed it. */
  readonly shown: string;
  /** The normalised http(s) address that would open. */
  readonly target: string;
  readonly open: () => void;
  /** Called however the dialog closes (opened or not), e.g. to give the terminal its focus back. */
  readonly closed: () => void;
}

export function askBeforeOpening(q: LinkQuestion, doc: Document = document): void {
  doc.getElementById('link-confirm')?.remove();
  const dialog = doc.createElement('dialog');
  dialog.id = 'link-confirm';
  dialog.className = 'link-confirm';
  dialog.setAttribute('aria-labelledby', 'link-confirm-title');
  dialog.setAttribute('aria-describedby', 'link-confirm-body');

  const title = doc.createElement('h2');
  title.id = 'link-confirm-title';
  title.textContent = 'Open a different address?';
  const body = doc.createElement('div');
  body.id = 'link-confirm-body';
  body.append(
    paragraph(doc, 'The link printed by the build VM reads'),
    address(doc, q.shown, 'link-confirm-shown'),
    paragraph(doc, 'but it opens'),
    address(doc, q.target, 'link-confirm-target'),
  );
  const cancel = button(doc, 'Cancel', 'link-confirm-cancel', 'button');
  const open = button(doc, 'Open link', 'link-confirm-open', 'button button-primary');
  cancel.autofocus = true;
  const actions = doc.createElement('div');
  actions.className = 'link-confirm-actions';
  actions.append(cancel, open);
  dialog.append(title, body, actions);

  cancel.addEventListener('click', () => dialog.close());
  open.addEventListener('click', () => {
    q.open();
    dialog.close();
  });
  dialog.addEventListener('close', () => {
    dialog.remove();
    q.closed();
  });
  doc.body.append(dialog);
  dialog.showModal();
}

function paragraph(doc: Document, text: string): HTMLParagraphElement {
  const p = doc.createElement('p');
  p.textContent = text;
  return p;
}

function address(doc: Document, text: string, id: string): HTMLElement {
  const code = doc.createElement('code');
  code.id = id;
  code.className = 'link-confirm-address mono';
  code.textContent = text;
  return code;
}

function button(doc: Document, label: string, id: string, className: string): HTMLButtonElement {
  const b = doc.createElement('button');
  b.type = 'button';
  b.id = id;
  b.className = className;
  b.textContent = label;
  return b;
}
