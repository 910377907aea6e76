import net from 'node:net';

/** First retry delay when a port is not accepting yet; daemons usually come up within tens of ms. */
const POLL_INITIAL_DELAY_MS = 10;
/** Backoff ceiling so a slow daemon is still noticed promptly once it is up. */
const POLL_MAX_DELAY_MS = 200;
/** A single connect attempt to loopback that takes longer than this is treated as a failed attempt. */
const CONNECT_ATTEMPT_TIMEOUT_MS = 1_000;
/** Banners are one short line; anything longer means the wrong protocol is on the port. */
const BANNER_MAX_BYTES = 256;

/**
 * Asks the kernel for an unused port. Another process can grab it before the
 * caller binds it, so callers that start daemons must retry on bind failure.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`freePort: unexpected listen address ${String(address)}`));
        return;
      }
      const { port } = address;
      server.close((err) => {
        if (err) reject(err);
        else resolve(port);
      });
    });
  });
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Connects once and resolves with the first line the server sends
 * (without the line terminator). Rejects on refusal, early close or timeout.
 */
export async function readBannerOnce(host: string, port: number, timeoutMs = CONNECT_ATTEMPT_TIMEOUT_MS): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const socket = net.connect({ host, port });
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (err: Error | null, line?: string): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (err) reject(err);
      else resolve(line ?? '');
    };
    socket.setTimeout(timeoutMs, () => {
      finish(new Error(`no banner from ${host}:${port} within ${timeoutMs} ms`));
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const newline = received.indexOf(0x0a);
      if (newline >= 0) {
        finish(null, received.subarray(0, newline).toString('latin1').replace(/\r$/, ''));
      } else if (received.length > BANNER_MAX_BYTES) {
        finish(new Error(`banner from ${host}:${port} exceeds ${BANNER_MAX_BYTES} bytes without a newline`));
      }
    });
    socket.on('error', (err) => {
      finish(err);
    });
    socket.on('close', () => {
      finish(new Error(`${host}:${port} closed the connection before sending a banner`));
    });
  });
}

/** Polls `attempt` with capped exponential backoff until it returns true; throws with the last error on timeout. */
export async function pollUntil(
  what: string,
  timeoutMs: number,
  attempt: () => Promise<boolean>,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pause = POLL_INITIAL_DELAY_MS;
  let lastError: unknown = null;
  for (;;) {
    if (signal?.aborted) {
      throw signal.reason instanceof Error ? signal.reason : new Error(`${what}: aborted`);
    }
    try {
      if (await attempt()) return;
    } catch (err) {
      lastError = err;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      const detail = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      throw new Error(`${what} not ready after ${timeoutMs} ms${detail}`);
    }
    await delay(Math.min(pause, remaining), signal);
    pause = Math.min(pause * 2, POLL_MAX_DELAY_MS);
  }
}

/** Polls until a TCP connect to host:port succeeds. */
export async function waitForPort(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  await pollUntil(
    `${host}:${port}`,
    timeoutMs,
    async () =>
      await new Promise<boolean>((resolve, reject) => {
        const socket = net.connect({ host, port });
        socket.setTimeout(CONNECT_ATTEMPT_TIMEOUT_MS, () => {
          socket.destroy();
          reject(new Error(`connect to ${host}:${port} timed out`));
        });
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', reject);
      }),
    signal,
  );
}

/**
 * Polls until host:port accepts a connection whose first line starts with
 * `prefix`, and returns that line. Used as the readiness condition for
 * daemons that greet first (SSH, RFB), which proves the right server is up
 * rather than merely that something holds the port.
 */
export async function waitForBanner(
  host: string,
  port: number,
  prefix: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<string> {
  let banner = '';
  await pollUntil(
    `banner "${prefix}" on ${host}:${port}`,
    timeoutMs,
    async () => {
      const line = await readBannerOnce(host, port);
      if (!line.startsWith(prefix)) {
        throw new Error(`unexpected banner ${JSON.stringify(line)}`);
      }
      banner = line;
      return true;
    },
    signal,
  );
  return banner;
}

/** Polls until nothing accepts connections on host:port any more. */
export async function waitForPortClosed(host: string, port: number, timeoutMs: number): Promise<void> {
  await pollUntil(
    `${host}:${port} closed`,
    timeoutMs,
    async () =>
      await new Promise<boolean>((resolve) => {
        const socket = net.connect({ host, port });
        socket.setTimeout(CONNECT_ATTEMPT_TIMEOUT_MS, () => {
          socket.destroy();
          resolve(false);
        });
        socket.once('connect', () => {
          socket.destroy();
          resolve(false);
        });
        socket.once('error', () => {
          resolve(true);
        });
      }),
  );
}
