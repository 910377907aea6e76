/**
 * "First settler wins": wraps a completion callback so that of several racing outcomes (ready,
 * error, timeout, abort) only the first is acted on and the rest are ignored.
 */
export function settleOnce<T>(settle: (value: T) => void): (value: T) => void {
  let settled = false;
  return (value: T) => {
    if (settled) return;
    settled = true;
    settle(value);
  };
}
