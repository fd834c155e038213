/**
 * examples/kubernetes/deployment.yaml, read as the kubelet would use it: the `app` container's
 * command, args, env, ports and probes, and the pod's termination grace period. The lab runs what
 * this file says, so the manifest that docs/kubernetes.md shows is the one under test.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { exampleDir } from '../multi-host/hosts';

export const EXAMPLE_DIR = exampleDir('kubernetes');
export const MANIFEST_FILE = path.join(EXAMPLE_DIR, 'deployment.yaml');

/** One entry of a container's `env`: a literal `value`, or a `valueFrom` source. */
export interface EnvEntry {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: {
    readonly secretKeyRef?: { readonly name: string; readonly key: string };
    readonly fieldRef?: { readonly fieldPath: string };
    readonly resourceFieldRef?: {
      readonly containerName: string;
      readonly resource: string;
      readonly divisor?: string;
    };
  };
}

export interface HttpProbe {
  readonly httpGet: { readonly path: string; readonly port: string | number };
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly failureThreshold: number;
}

export interface Container {
  readonly name: string;
  readonly command?: readonly string[];
  readonly args: readonly string[];
  readonly env: readonly EnvEntry[];
  readonly ports: readonly { readonly name: string; readonly containerPort: number }[];
  readonly resources: { readonly limits: { readonly cpu: string; readonly memory: string } };
  readonly readinessProbe: HttpProbe;
  readonly livenessProbe: HttpProbe;
}

export interface Manifest {
  readonly terminationGracePeriodSeconds: number;
  readonly container: Container;
  /** The Service's `targetPort`, by the container port's name. */
  readonly serviceTargetPort: string;
}

interface KubernetesObject {
  readonly kind: string;
  readonly spec: Record<string, unknown>;
}

/** Reads the manifest; throws when the Deployment, its `app` container or the Service is missing. */
export function readManifest(file = MANIFEST_FILE): Manifest {
  const objects = parseAllDocuments(fs.readFileSync(file, 'utf8')).map(
    (document) => document.toJS() as KubernetesObject,
  );
  const deployment = objects.find((object) => object.kind === 'Deployment');
  const service = objects.find((object) => object.kind === 'Service');
  if (deployment === undefined || service === undefined) {
    throw new Error(`${file}: a Deployment and a Service expected`);
  }
  const podSpec = (deployment.spec['template'] as { spec: Record<string, unknown> }).spec;
  const container = (podSpec['containers'] as Container[]).find((entry) => entry.name === 'app');
  if (container === undefined) throw new Error(`${file}: no container named app`);
  const [servicePort] = service.spec['ports'] as { targetPort: string }[];
  if (servicePort === undefined) throw new Error(`${file}: the Service has no port`);
  return {
    terminationGracePeriodSeconds: podSpec['terminationGracePeriodSeconds'] as number,
    container,
    serviceTargetPort: servicePort.targetPort,
  };
}

/** The container port named `name`. */
export function containerPort(container: Container, name: string): number {
  const port = container.ports.find((entry) => entry.name === name);
  if (port === undefined) throw new Error(`the app container has no port named ${name}`);
  return port.containerPort;
}

/**
 * The value of a `resourceFieldRef` of `limits.cpu` as the kubelet gives it: the limit divided
 * by the divisor, rounded up (`'1500m'` with divisor `'1'` gives `'2'`).
 */
export function cpuLimitValue(limit: string, divisor = '1'): string {
  const millis = (quantity: string): number =>
    quantity.endsWith('m') ? Number(quantity.slice(0, -1)) : Number(quantity) * 1000;
  return String(Math.ceil(millis(limit) / millis(divisor)));
}
