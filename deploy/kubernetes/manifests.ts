/**
 * The Kubernetes manifests in this folder, as typed objects (kubernetes-models, which validates
 * them against the Kubernetes schemas). `node --import tsx deploy/kubernetes/generate.ts` writes
 * the YAML files beside this one; test/unit/kubernetes-manifests.test.ts fails when they differ
 * from what this file builds, or when an object does not validate. Edit here, never the YAML.
 *
 * Two or more replicas on one PostgreSQL (docs/operations.md, "Several nodes behind a load
 * balancer"), each pod its own node: its name is PORTHOLE_NODE_ID and its IP PORTHOLE_NODE_URL.
 */
import type { Model } from '@kubernetes-models/base';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';

const NAME = 'porthole';
const LABELS = { 'app.kubernetes.io/name': NAME, 'app.kubernetes.io/component': 'gateway' } as const;
/** Replace with your registry's copy of the image the root Dockerfile builds. */
const IMAGE = 'registry.example.com/porthole:0.1.0';
const PUBLIC_HOST = 'porthole.example.com';
const HTTP_PORT = 8080;
/** The official node images' `node` user, which the Dockerfile runs as. */
const NODE_UID = 1000;
/** Two: one pod can be drained or rescheduled while the other serves. */
const REPLICAS = 2;
/** The gateway's own drain bound (PORTHOLE_DRAIN_SECONDS, its default). */
const DRAIN_SECONDS = 10;
/**
 * preStop keeps the pod serving while the endpoint removal reaches the Service and the Ingress
 * controller; SIGTERM (and the drain) come after it, so no new connection lands on a stopped node.
 */
const PRE_STOP_SECONDS = 5;
/** After the drain's own bound: the process exits by then, SIGKILL is only for a wedged one. */
const STOP_MARGIN_SECONDS = 5;
/** /readyz waits up to 2 s for the database; a slower answer is a failed probe. */
const PROBE_TIMEOUT_SECONDS = 3;
/** Readiness: out of the load balancer within seconds of draining or losing the database. */
const READINESS_PERIOD_SECONDS = 5;
/** Liveness: three missed /healthz in 30 s is a hung process, not a busy one. */
const LIVENESS_PERIOD_SECONDS = 10;
const LIVENESS_FAILURES = 3;
/**
 * An idle gateway holds ~100 MB; each live terminal adds its buffers (PORTHOLE_RESUME_BUFFER_BYTES,
 * 256 KiB by default) and each transfer a stream buffer.
 */
const MEMORY_REQUEST = '256Mi';
/** Bounds a leak; a thousand held terminals at the default buffer fit well inside it. */
const MEMORY_LIMIT = '1Gi';
/** Terminals are byte shuffling: a quarter of a core carries hundreds of them. */
const CPU_REQUEST = '250m';
/** Recordings are written as sessions run; size for your sessions (docs/operations.md). */
const RECORDINGS_SIZE = '20Gi';
/** The gateway pings every 15 s; an hour without a frame is a dead peer, not a quiet terminal. */
const WEBSOCKET_TIMEOUT_SECONDS = 3600;
const RECORDINGS_DIR = '/var/lib/porthole/recordings';

const metadata = (name: string = NAME): { name: string; labels: Record<string, string> } => ({ name, labels: { ...LABELS } });

/** Settings that are not secret (docs/operations.md, "Configuration"). */
function configMap(): ConfigMap {
  return new ConfigMap({
    metadata: metadata(),
    data: {
      PORTHOLE_PUBLIC_URL: `https://${PUBLIC_HOST}`,
      // The Ingress controller is the one proxy in front: trust its X-Forwarded-* headers.
      PORTHOLE_TRUST_PROXY: 'true',
      PORTHOLE_DRAIN_SECONDS: String(DRAIN_SECONDS),
      PORTHOLE_RECORDINGS_DIR: RECORDINGS_DIR,
      PORTHOLE_SHOW_NATIVE_CREDENTIALS: 'false',
      PORTHOLE_LOG_LEVEL: 'info',
    },
  });
}

/** An example only: create the real one from your secret store, never from a committed file. */
function secret(): Secret {
  return new Secret({
    metadata: metadata(),
    type: 'Opaque',
    stringData: {
      PORTHOLE_DATABASE: 'postgres://porthole:CHANGE-ME@postgres.example.internal:5432/porthole?sslmode=require',
      PORTHOLE_SESSION_SECRET: 'CHANGE-ME: openssl rand -hex 32',
      PORTHOLE_SECRET_KEY: 'CHANGE-ME: openssl rand -hex 32 (64 hex characters)',
      PORTHOLE_CONTROL_TOKEN: 'CHANGE-ME: openssl rand -hex 32',
    },
  });
}

/** Shared by every replica: a recording made on one pod is replayed through any. */
function recordingsClaim(): PersistentVolumeClaim {
  return new PersistentVolumeClaim({
    metadata: metadata(`${NAME}-recordings`),
    spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: RECORDINGS_SIZE } } },
  });
}

function deployment(): Deployment {
  const probe = (path: string, periodSeconds: number, failureThreshold: number): object => ({
    httpGet: { path, port: 'http' },
    periodSeconds,
    timeoutSeconds: PROBE_TIMEOUT_SECONDS,
    failureThreshold,
  });
  return new Deployment({
    metadata: metadata(),
    spec: {
      replicas: REPLICAS,
      selector: { matchLabels: { ...LABELS } },
      // A new pod is ready before an old one drains: capacity never drops during a rollout.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { ...LABELS } },
        spec: {
          terminationGracePeriodSeconds: PRE_STOP_SECONDS + DRAIN_SECONDS + STOP_MARGIN_SECONDS,
          securityContext: { runAsNonRoot: true, runAsUser: NODE_UID, runAsGroup: NODE_UID, fsGroup: NODE_UID, seccompProfile: { type: 'RuntimeDefault' } },
          // Replicas on different nodes, so one node's drain or loss leaves the other serving.
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { ...LABELS } } },
          ],
          containers: [
            {
              name: 'gateway',
              image: IMAGE,
              ports: [{ name: 'http', containerPort: HTTP_PORT }],
              envFrom: [{ configMapRef: { name: NAME } }, { secretRef: { name: NAME } }],
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                { name: 'PORTHOLE_NODE_ID', value: '$(POD_NAME)' },
                // Where the other replicas relay a page resuming a session this pod holds.
                { name: 'PORTHOLE_NODE_URL', value: `http://$(POD_IP):${HTTP_PORT}` },
              ],
              readinessProbe: probe('/readyz', READINESS_PERIOD_SECONDS, 1),
              livenessProbe: probe('/healthz', LIVENESS_PERIOD_SECONDS, LIVENESS_FAILURES),
              lifecycle: { preStop: { exec: { command: ['sleep', String(PRE_STOP_SECONDS)] } } },
              resources: { requests: { cpu: CPU_REQUEST, memory: MEMORY_REQUEST }, limits: { memory: MEMORY_LIMIT } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              volumeMounts: [
                { name: 'recordings', mountPath: RECORDINGS_DIR },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            { name: 'recordings', persistentVolumeClaim: { claimName: `${NAME}-recordings` } },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  });
}

function service(): Service {
  return new Service({
    metadata: metadata(),
    spec: { selector: { ...LABELS }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  });
}

/** Voluntary disruptions (node drains, cluster upgrades) take one replica at a time. */
function podDisruptionBudget(): PodDisruptionBudget {
  return new PodDisruptionBudget({
    metadata: metadata(),
    spec: { minAvailable: 1, selector: { matchLabels: { ...LABELS } } },
  });
}

/** ingress-nginx; other controllers need their own WebSocket timeout settings. */
function ingress(): Ingress {
  return new Ingress({
    metadata: {
      ...metadata(),
      annotations: {
        'nginx.ingress.kubernetes.io/proxy-read-timeout': String(WEBSOCKET_TIMEOUT_SECONDS),
        'nginx.ingress.kubernetes.io/proxy-send-timeout': String(WEBSOCKET_TIMEOUT_SECONDS),
        // Uploads are limited by the gateway (PORTHOLE_MAX_UPLOAD_BYTES) and streamed, not spooled.
        'nginx.ingress.kubernetes.io/proxy-body-size': '0',
        'nginx.ingress.kubernetes.io/proxy-request-buffering': 'off',
        'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
      },
    },
    spec: {
      ingressClassName: 'nginx',
      tls: [{ hosts: [PUBLIC_HOST], secretName: `${NAME}-tls` }],
      rules: [
        {
          host: PUBLIC_HOST,
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: NAME, port: { name: 'http' } } } }] },
        },
      ],
    },
  });
}

export interface ManifestFile {
  /** File name in deploy/kubernetes/. */
  readonly file: string;
  readonly object: Model<unknown>;
}

export function manifests(): readonly ManifestFile[] {
  return [
    { file: 'configmap.yaml', object: configMap() },
    { file: 'secret.example.yaml', object: secret() },
    { file: 'recordings-pvc.yaml', object: recordingsClaim() },
    { file: 'deployment.yaml', object: deployment() },
    { file: 'service.yaml', object: service() },
    { file: 'pdb.yaml', object: podDisruptionBudget() },
    { file: 'ingress.example.yaml', object: ingress() },
  ];
}
