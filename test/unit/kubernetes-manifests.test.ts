/**
 * deploy/kubernetes/: every object validates against the Kubernetes schemas, the committed YAML is
 * exactly what manifests.ts builds (so it cannot drift), and the Deployment keeps what the gateway
 * needs to drain and scale out (issue #23).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { manifests } from '../../deploy/kubernetes/manifests.js';
import { renderManifest } from '../../deploy/kubernetes/render.js';

const DIR = resolve(import.meta.dirname, '..', '..', 'deploy', 'kubernetes');

function deployment(): Deployment {
  const found = manifests().find((m) => m.object instanceof Deployment)?.object;
  assert.ok(found instanceof Deployment);
  return found;
}

describe('deploy/kubernetes', () => {
  test('every object validates against the Kubernetes schemas', () => {
    for (const { file, object } of manifests()) assert.doesNotThrow(() => object.validate(), file);
  });

  test('the committed YAML files are exactly what manifests.ts generates, and there are no others', () => {
    for (const manifest of manifests()) {
      assert.equal(readFileSync(join(DIR, manifest.file), 'utf8'), renderManifest(manifest), `${manifest.file} is stale: run node --import tsx deploy/kubernetes/generate.ts`);
    }
    const yamlFiles = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();
    assert.deepEqual(yamlFiles, manifests().map((m) => m.file).sort());
  });

  test('the YAML reads back as the same objects', () => {
    for (const manifest of manifests()) assert.deepEqual(parse(renderManifest(manifest)), manifest.object.toJSON(), manifest.file);
  });

  test('two replicas, ready on /readyz, alive on /healthz, and a stop grace longer than the drain after preStop', () => {
    const spec = deployment().spec;
    assert.ok((spec?.replicas ?? 0) >= 2);
    const pod = spec?.template.spec;
    const container = pod?.containers[0];
    assert.equal(container?.readinessProbe?.httpGet?.path, '/readyz');
    assert.equal(container?.livenessProbe?.httpGet?.path, '/healthz');
    const config = manifests().find((m) => m.file === 'configmap.yaml')?.object.toJSON() as { data: Record<string, string> };
    const drainSeconds = Number(config.data['PORTHOLE_DRAIN_SECONDS']);
    const preStop = container?.lifecycle?.preStop?.exec?.command ?? [];
    const preStopSeconds = Number(preStop[1]);
    assert.deepEqual(preStop[0], 'sleep');
    assert.ok((pod?.terminationGracePeriodSeconds ?? 0) > preStopSeconds + drainSeconds, 'SIGKILL never cuts a drain');
    assert.ok(container?.resources?.requests?.['memory'] && container.resources.requests['cpu'], 'resource requests are set');
    assert.equal(pod?.securityContext?.runAsNonRoot, true);
  });
});
