/** Every bench leg ends: either it finishes, or its deadline kills what it started and says so. */

export class LegTimeout extends Error {
  override readonly name = 'LegTimeout';
}

/**
 * Runs `work` with a deadline. On timeout `onTimeout` runs (kill the leg's processes, close its
 * sockets) and the promise rejects with LegTimeout; a late result is ignored.
 */
export async function withDeadline<T>(label: string, ms: number, work: () => Promise<T>, onTimeout: () => void = () => undefined): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      try {
        onTimeout();
      } finally {
        reject(new LegTimeout(`${label} did not finish within ${ms} ms; its processes were killed`));
      }
    }, ms);
  });
  try {
    return await Promise.race([work(), expired]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
