/** `GET /metrics`: Prometheus text format, behind PORTHOLE_METRICS_TOKEN (default: the control token). */
import { Router } from 'express';
import { GatewayError } from '../../errors.js';
import type { GatewayMetrics } from '../../metrics/metrics.js';
import { requireBearerToken } from '../middleware/bearer-token.js';

export function metricsRouter(deps: { readonly metrics: GatewayMetrics; readonly token: string | null }): Router {
  const router = Router();
  const disabled = new GatewayError('metrics_disabled', 'Metrics are disabled: set PORTHOLE_METRICS_TOKEN or PORTHOLE_CONTROL_TOKEN.');
  router.get('/metrics', requireBearerToken(deps.token, disabled, 'metrics token'), async (_req, res) => {
    const text = await deps.metrics.render();
    res.set('Cache-Control', 'no-store').type(deps.metrics.contentType).send(text);
  });
  return router;
}
