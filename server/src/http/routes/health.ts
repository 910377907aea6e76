/**
 * Probes for orchestrators and load balancers. `/healthz`: the process serves HTTP (restart it if
 * not). `/readyz`: send it traffic — the store answers and the gateway is not draining.
 */
import { Router } from 'express';
import type { Store } from '../../store/store.js';

/** A store that takes longer than this to answer `SELECT 1` is as good as unreachable. */
const STORE_PING_TIMEOUT_MS = 2_000;

export interface HealthDeps {
  readonly store: Store;
  readonly draining: () => boolean;
}

export function healthRouter(deps: HealthDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    if (deps.draining()) return void res.status(503).json({ status: 'draining' });
    if (!(await answers(deps.store))) return void res.status(503).json({ status: 'store_unreachable' });
    res.json({ status: 'ready' });
  });
  return router;
}

async function answers(store: Store): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), STORE_PING_TIMEOUT_MS);
  });
  try {
    return await Promise.race([store.ping().then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
