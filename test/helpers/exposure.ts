/**
 * Collects everything a browser was sent (HTTP bodies and headers, WebSocket frames) so a test can
 * prove that no VM password, private key or ticket ever left the gateway outside the audited
 * Reveal response.
 */
import assert from 'node:assert/strict';

export class BrowserExposure {
  readonly #seen: string[] = [];
  #bytes = 0;

  record(what: string | Buffer | undefined): void {
    if (what === undefined) return;
    const text = typeof what === 'string' ? what : what.toString('latin1');
    this.#seen.push(text);
    this.#bytes += text.length;
  }

  recordResponse(res: { readonly text?: string; readonly headers?: Record<string, unknown> }): void {
    this.record(res.text);
    if (res.headers) this.record(JSON.stringify(res.headers));
  }

  get recordedBytes(): number {
    return this.#bytes;
  }

  /** Fails naming which secret leaked (by label, never by value) and where. */
  assertNoneOf(secrets: Readonly<Record<string, string>>, logs: string): void {
    for (const [label, secret] of Object.entries(secrets)) {
      if (secret.length < 8) throw new Error(`secret ${label} is too short to search for reliably`);
      assert.ok(!logs.includes(secret), `${label} appears in the gateway's logs`);
      const index = this.#seen.findIndex((text) => text.includes(secret));
      assert.equal(index, -1, `${label} was sent to a browser (recorded item ${index})`);
    }
  }
}
