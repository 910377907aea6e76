/** A strict reader of asciicast v2 files, so tests check the format rather than trust the writer. */
import assert from 'node:assert/strict';

export interface Asciicast {
  readonly header: { readonly version: 2; readonly width: number; readonly height: number; readonly timestamp: number; readonly [key: string]: unknown };
  readonly events: readonly (readonly [number, 'o' | 'r' | 'm', string])[];
  /** All output events joined. */
  readonly output: string;
}

export function parseAsciicast(text: string): Asciicast {
  assert.ok(text.endsWith('\n'), 'every line, the last included, ends with a newline');
  const lines = text.slice(0, -1).split('\n');
  const header = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
  assert.equal(header['version'], 2);
  for (const field of ['width', 'height'] as const) assert.ok(Number.isInteger(header[field]) && Number(header[field]) > 0, field);
  assert.ok(Number.isInteger(header['timestamp']), 'timestamp in Unix seconds');
  const events: [number, 'o' | 'r' | 'm', string][] = [];
  let last = 0;
  for (const line of lines.slice(1)) {
    const event: unknown = JSON.parse(line);
    assert.ok(Array.isArray(event) && event.length === 3, `event is [time, code, data]: ${line.slice(0, 80)}`);
    const [time, code, data] = event as unknown[];
    assert.ok(typeof time === 'number' && time >= last, `times never go back (${String(time)} after ${last})`);
    assert.ok(code === 'o' || code === 'r' || code === 'm', `known event code ${String(code)}`);
    assert.equal(typeof data, 'string');
    if (code === 'r') assert.match(data as string, /^\d+x\d+$/);
    last = time;
    events.push([time, code, data as string]);
  }
  return {
    header: header as Asciicast['header'],
    events,
    output: events
      .filter(([, code]) => code === 'o')
      .map(([, , data]) => data)
      .join(''),
  };
}
