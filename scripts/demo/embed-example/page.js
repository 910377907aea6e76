/* global document */
// The dashboard page: asks its own backend (POST /launch) for a launch URL whenever it shows a
// terminal or a screen, because a launch URL works once and only for 60 s; the control token
// never reaches this page.

const ELEMENT_FOR_KIND = { ssh: 'porthole-terminal', vnc: 'porthole-screen' };
const EVENT_TYPES = ['porthole:ready', 'porthole:connected', 'porthole:window', 'porthole:closed'];

const container = document.getElementById('embed');
const events = document.getElementById('events');

function note(text, isError = false) {
  const item = document.createElement('li');
  item.textContent = text;
  if (isError) item.className = 'error';
  events.append(item);
}

async function show(kind) {
  const res = await fetch('/launch', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ kind }) });
  const body = await res.json();
  if (!res.ok) {
    note(`launch refused (${res.status}): ${body.error?.message ?? 'unknown error'}`, true);
    return;
  }
  const element = document.createElement(ELEMENT_FOR_KIND[kind]);
  element.setAttribute('src', body.url);
  // Removing the old element ends its session; the new one starts its own.
  container.replaceChildren(element);
  element.focus();
}

for (const type of EVENT_TYPES) {
  container.addEventListener(type, (event) => note(`${type} ${JSON.stringify(event.detail)}`));
}
for (const button of document.querySelectorAll('button[data-kind]')) {
  button.addEventListener('click', () => void show(button.dataset.kind));
}
document.getElementById('disconnect').addEventListener('click', () => container.firstElementChild?.disconnect());

void show('ssh');
