/**
 * Checks of the rendered Helm chart that need pipac's own code or the operators' schemas
 * (the built-in kinds are validate-k8s.py's):
 *
 * - every service configuration the chart renders (a ConfigMap's config.yaml) is accepted by
 *   that service's own loader, with its schema (unknown keys refused) and defaults, so the
 *   chart and the services cannot drift apart;
 * - where a configuration signs the audit trail, its pod mounts `audit.keys` read-only from a
 *   Secret whose items are the files libs/persistence reads (a stand-in for the Secret the
 *   check cannot see, made with rotateAuditKey, is laid out as the kubelet would and loaded
 *   with loadAuditKeys), with no write bit in the mode; `audit.head` is on a writable
 *   PersistentVolumeClaim; a pod mounting the keys has an `audit` block;
 * - where the gateway takes single sign-on, its egress NetworkPolicies (if any select it)
 *   allow TCP to the OpenID provider's issuer and jwksUri ports;
 * - the Strimzi KafkaTopics are exactly the topics the cell uses, by libs/contracts (every
 *   stream of every step of the configurations, and the dead-letter topic), compacted where
 *   the stream is last-value; each validates against the KafkaTopic schema in ./schemas;
 * - PodMonitors, ServiceMonitors and PrometheusRules validate against prometheus-operator's
 *   CRD schemas (the compiled validators of the @kubernetes-models/prometheus-operator
 *   package, installed by check.sh); every PodMonitor selects pods that have its port, every
 *   ServiceMonitor Services that have its port and select pods with a `metrics` port.
 *
 * Run: npx tsx --tsconfig tsconfig.base.json scripts/helm/check-rendered.ts \
 *        --operator-models <dir holding node_modules/@kubernetes-models> rendered.yaml…
 * Prints one line per problem and a count per kind; exits 1 on any problem.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Ajv from 'ajv';
import { parseAllDocuments } from 'yaml';
import { deadLetterTopic, parseTopic, stepTopics } from '@pipac/contracts';
import { routeNodeOpcuaWarnings } from '@pipac/opcua';
import { auditKeyFiles, loadAuditKeys, rotateAuditKey } from '@pipac/persistence';
import { loadCoordinatorConfig } from '../../services/coordinator/src/app/coordinator.config';
import { loadAdapterConfig } from '../../services/device-adapter/src/app/adapter.config';
import { loadGatewayConfig } from '../../services/erp-gateway/src/app/gateway.config';
import { loadAgentConfig } from '../../services/step-agent/src/app/agent.config';

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

type Validator = ((data: unknown) => boolean) & {
  errors?: { instancePath: string; message?: string; keyword: string; params: unknown }[] | null;
};

/** The loaders the services run at start, by the chart's component label. */
const LOADERS: Record<string, (path: string, env: NodeJS.ProcessEnv) => unknown> = {
  'step-agent': loadAgentConfig,
  'device-adapter': loadAdapterConfig,
  coordinator: loadCoordinatorConfig,
  'erp-gateway': loadGatewayConfig,
};

/** What the pods get from the Secret and the values, as far as the loaders look. */
const ENV: NodeJS.ProcessEnv = {
  PIPAC_KAFKA_BROKERS: 'kafka:9092',
  PIPAC_DATABASE_URL: 'postgres://pipac@db:5432/pipac',
  PIPAC_OPCUA_PASSWORD: 'check',
};

/** Stands in for a node map the chart mounts from the operator's ConfigMap. */
const STUB_NODE_MAP = {
  device: 'stub',
  endpointUrl: 'opc.tcp://stub:4840',
  namespaceUri: 'urn:stub',
  readings: {},
  setpoints: {},
};

const OPERATOR_KINDS = ['PodMonitor', 'PrometheusRule', 'ServiceMonitor'];

async function main(argv: string[]): Promise<number> {
  routeNodeOpcuaWarnings(); // the device adapter's loader brings node-opcua in
  const at = argv.indexOf('--operator-models');
  const modelsDir = at >= 0 ? argv[at + 1] : undefined;
  const files = argv.filter((_, i) => i !== at && i !== at + 1);
  if (!modelsDir || files.length === 0) {
    process.stderr.write('usage: check-rendered.ts --operator-models <dir> rendered.yaml…\n');
    return 2;
  }
  const operatorValidators = await loadOperatorValidators(modelsDir);
  const ajv = new Ajv({ allErrors: true, strict: false });
  const kafkaTopicSchema = JSON.parse(
    readFileSync(join(__dirname, 'schemas', 'kafkatopic-kafka.strimzi.io-v1beta2.json'), 'utf8'),
  ) as object;
  const validateKafkaTopic = ajv.compile(kafkaTopicSchema) as Validator;

  const work = mkdtempSync(join(tmpdir(), 'pipac-helm-check-'));
  const problems: string[] = [];
  const counts = new Map<string, number>();
  const count = (what: string) => counts.set(what, (counts.get(what) ?? 0) + 1);
  try {
    for (const file of files) {
      const objects = readObjects(file);
      const report = (what: string) => problems.push(`${file}: ${what}`);
      const cells = checkConfigs(objects, work, report, count);
      for (const object of objects) {
        const validator = operatorValidators.get(object.kind);
        if (object.apiVersion.startsWith('monitoring.coreos.com/')) {
          if (!validator) report(`${object.kind}/${object.metadata.name}: no schema for this kind`);
          else if (validate(validator, object, report)) count(object.kind);
        } else if (object.kind === 'KafkaTopic') {
          if (validate(validateKafkaTopic, object, report)) count('KafkaTopic');
        }
      }
      checkTopics(objects, cells, report);
      checkMonitors(objects, report);
      checkAuditMounts(objects, work, report, count);
      checkOidcEgress(objects, report, count);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  for (const problem of problems) process.stdout.write(`${problem}\n`);
  const summary = [...counts].map(([what, n]) => `${what} ${n}`).join(', ');
  process.stdout.write(`  pipac and operator schemas: ${summary || 'nothing to check'}\n`);
  return problems.length > 0 ? 1 : 0;
}

function readObjects(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null && typeof o === 'object');
}

/**
 * Loads every rendered service configuration with its service's loader; returns the topic
 * path of each (site, cell and, for agents and adapters, step).
 */
function checkConfigs(
  objects: K8sObject[],
  work: string,
  report: (what: string) => void,
  count: (what: string) => void,
): { site: string; cell: string; step?: string }[] {
  const cells: { site: string; cell: string; step?: string }[] = [];
  for (const object of objects) {
    const component = object.metadata.labels?.['app.kubernetes.io/component'];
    const loader = component ? LOADERS[component] : undefined;
    const text = (object['data'] as Record<string, string> | undefined)?.['config.yaml'];
    if (object.kind !== 'ConfigMap' || !loader || text === undefined) continue;
    const config = parseAllDocuments(text)[0]?.toJS() as Record<string, unknown>;
    if (component === 'device-adapter' && typeof config['nodeMap'] === 'string') {
      const stub = join(work, `${object.metadata.name}.node-map.json`);
      writeFileSync(stub, JSON.stringify(STUB_NODE_MAP));
      config['nodeMap'] = stub;
    }
    const path = join(work, `${object.metadata.name}.yaml`);
    writeFileSync(path, JSON.stringify(config));
    try {
      loader(path, ENV);
      count(`${component} configuration`);
    } catch (error) {
      report(
        `ConfigMap/${object.metadata.name}: ${component} refuses it: ${(error as Error).message}`,
      );
    }
    cells.push({
      site: String(config['site']),
      cell: String(config['cell']),
      ...(typeof config['step'] === 'string' ? { step: config['step'] } : {}),
    });
  }
  return cells;
}

/**
 * KafkaTopics, where there are any: every stream of every step the configurations name (or,
 * for plain topic manifests, the topic names name) and the cell's dead-letter topic, nothing
 * else, compacted as the streams are.
 */
function checkTopics(
  objects: K8sObject[],
  cells: { site: string; cell: string; step?: string }[],
  report: (what: string) => void,
): void {
  const rendered = new Map<string, string | undefined>();
  for (const object of objects.filter((o) => o.kind === 'KafkaTopic')) {
    const spec = object['spec'] as { topicName?: string; config?: Record<string, unknown> };
    const name = spec.topicName ?? object.metadata.name;
    rendered.set(name, spec.config?.['cleanup.policy'] as string | undefined);
  }
  if (rendered.size === 0) return;
  const paths = [...cells];
  for (const name of rendered.keys()) {
    try {
      paths.push(parseTopic(name));
    } catch {
      // The dead-letter topic, or a stranger that the comparison below names.
    }
  }
  const expected = new Map<string, string>();
  for (const { site, cell, step } of paths) {
    expected.set(deadLetterTopic(site, cell), 'delete');
    if (step === undefined) continue;
    for (const topic of stepTopics(site, cell, step)) {
      expected.set(topic.name, topic.compacted ? 'compact' : 'delete');
    }
  }
  for (const [name, policy] of expected) {
    if (!rendered.has(name)) report(`KafkaTopic ${name} is missing`);
    else if (rendered.get(name) !== policy)
      report(
        `KafkaTopic ${name}: cleanup.policy ${rendered.get(name)}, the stream needs ${policy}`,
      );
  }
  for (const name of rendered.keys()) {
    if (!expected.has(name)) report(`KafkaTopic ${name} is not a topic of the cell`);
  }
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

interface PodTemplate {
  owner: string;
  labels: Record<string, string>;
  ports: { name?: string; containerPort: number }[];
}

/** Whether a label selector (a Kubernetes LabelSelector) picks the given labels. */
function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return (
    byLabel &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      switch (operator) {
        case 'In':
          return key in labels && values.includes(labels[key] as string);
        case 'NotIn':
          return !(key in labels) || !values.includes(labels[key] as string);
        case 'Exists':
          return key in labels;
        default: // DoesNotExist
          return !(key in labels);
      }
    })
  );
}

/** The pod templates of the workloads (Deployments, Jobs…): their labels and container ports. */
function podTemplates(objects: K8sObject[]): PodTemplate[] {
  return objects.flatMap((o) => {
    const template = (
      o['spec'] as
        | {
            template?: {
              metadata?: { labels?: Record<string, string> };
              spec?: { containers?: { ports?: { name?: string; containerPort: number }[] }[] };
            };
          }
        | undefined
    )?.template;
    if (!template?.spec?.containers) return [];
    return [
      {
        owner: `${o.kind}/${o.metadata.name}`,
        labels: template.metadata?.labels ?? {},
        ports: template.spec.containers.flatMap((c) => c.ports ?? []),
      },
    ];
  });
}

/**
 * The monitors find what they scrape:
 * - every PodMonitor selects at least one pod template, and each has the port it scrapes;
 * - every ServiceMonitor selects at least one Service, and only Services that have the port
 *   it scrapes; each such Service publishes the addresses of pods that are not ready (as a
 *   PodMonitor scrapes them) and selects at least one pod template, each of which has a
 *   container port named `metrics` that the Service's port targets.
 */
function checkMonitors(objects: K8sObject[], report: (what: string) => void): void {
  const templates = podTemplates(objects);
  for (const monitor of objects.filter((o) => o.kind === 'PodMonitor')) {
    const spec = monitor['spec'] as {
      selector: LabelSelector;
      podMetricsEndpoints: { port?: string }[];
    };
    const selected = templates.filter((t) => selects(spec.selector, t.labels));
    if (selected.length === 0) report(`PodMonitor/${monitor.metadata.name} selects no pods`);
    for (const endpoint of spec.podMetricsEndpoints) {
      for (const t of selected.filter((t) => !t.ports.some((p) => p.name === endpoint.port))) {
        report(
          `PodMonitor/${monitor.metadata.name}: the pods of ${t.owner} have no port "${endpoint.port}"`,
        );
      }
    }
  }

  const services = objects.filter((o) => o.kind === 'Service');
  for (const monitor of objects.filter((o) => o.kind === 'ServiceMonitor')) {
    const name = `ServiceMonitor/${monitor.metadata.name}`;
    const spec = monitor['spec'] as { selector: LabelSelector; endpoints: { port?: string }[] };
    const selected = services.filter((s) => selects(spec.selector, s.metadata.labels ?? {}));
    if (selected.length === 0) report(`${name} selects no Service`);
    for (const service of selected) {
      const serviceSpec = service['spec'] as {
        selector?: Record<string, string>;
        publishNotReadyAddresses?: boolean;
        ports?: { name?: string; port: number; targetPort?: number | string }[];
      };
      const where = `${name}: Service/${service.metadata.name}`;
      // A Service without the port (the gateway's API Service, say) should not be selected at
      // all; the rest would only repeat that.
      const missing = spec.endpoints.filter(
        (e) => e.port === undefined || !serviceSpec.ports?.some((p) => p.name === e.port),
      );
      if (missing.length > 0) {
        for (const { port } of missing) {
          report(
            port === undefined
              ? `${name}: an endpoint names no port`
              : `${where} has no port "${port}"`,
          );
        }
        continue;
      }
      if (serviceSpec.publishNotReadyAddresses !== true) {
        report(`${where} leaves out pods that are not ready (publishNotReadyAddresses)`);
      }
      const pods = serviceSpec.selector
        ? templates.filter((t) => selects({ matchLabels: serviceSpec.selector }, t.labels))
        : [];
      if (pods.length === 0) report(`${where} selects no pods`);
      for (const pod of pods.filter((t) => !t.ports.some((p) => p.name === 'metrics'))) {
        report(`${where}: the pods of ${pod.owner} have no container port "metrics"`);
      }
      for (const endpoint of spec.endpoints) {
        const port = serviceSpec.ports?.find((p) => p.name === endpoint.port);
        // Kubernetes: targetPort is a container port's name or number, by default the port.
        const target = port?.targetPort ?? port?.port;
        for (const pod of pods) {
          const found = pod.ports.some((p) =>
            typeof target === 'string' ? p.name === target : p.containerPort === target,
          );
          if (!found) {
            report(
              `${where}: port "${endpoint.port}" targets ${target}, which the pods of ${pod.owner} lack`,
            );
          }
        }
      }
    }
  }
}

interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string; defaultMode?: number; items?: { key: string; path: string }[] };
  persistentVolumeClaim?: { claimName: string };
}

interface Workload {
  owner: string;
  labels: Record<string, string>;
  volumes: Volume[];
  mounts: { name: string; mountPath: string; readOnly?: boolean }[];
}

/** The pods of the workloads, with their volumes and their containers' mounts. */
function workloads(objects: K8sObject[]): Workload[] {
  return objects.flatMap((o) => {
    const template = (
      o['spec'] as
        | {
            template?: {
              metadata?: { labels?: Record<string, string> };
              spec?: { volumes?: Volume[]; containers?: { volumeMounts?: Workload['mounts'] }[] };
            };
          }
        | undefined
    )?.template;
    if (!template?.spec?.containers) return [];
    return [
      {
        owner: `${o.kind}/${o.metadata.name}`,
        labels: template.metadata?.labels ?? {},
        volumes: template.spec.volumes ?? [],
        mounts: template.spec.containers.flatMap((c) => c.volumeMounts ?? []),
      },
    ];
  });
}

/** The service configuration a workload mounts (its `config` ConfigMap's config.yaml). */
function configOf(objects: K8sObject[], pod: Workload): Record<string, unknown> | undefined {
  for (const volume of pod.volumes) {
    const map = objects.find(
      (o) => o.kind === 'ConfigMap' && o.metadata.name === volume.configMap?.name,
    );
    const text = (map?.['data'] as Record<string, string> | undefined)?.['config.yaml'];
    if (text !== undefined) return parseAllDocuments(text)[0]?.toJS() as Record<string, unknown>;
  }
  return undefined;
}

/**
 * The audit block and the volumes agree: the keys folder is a read-only Secret mount whose
 * items are the two files the service reads (proved by loading a stand-in key through that
 * layout), the head's folder a writable claim; no pod mounts keys it is not told about.
 */
function checkAuditMounts(
  objects: K8sObject[],
  work: string,
  report: (what: string) => void,
  count: (what: string) => void,
): void {
  // The stand-in for the Secret: what `pipac audit rotate-key --keys <dir>` makes.
  const made = join(work, 'audit-secret');
  rotateAuditKey(made, new Date('2026-01-01T00:00:00Z'));
  const madeFiles = auditKeyFiles(made);
  for (const pod of workloads(objects)) {
    const config = configOf(objects, pod);
    const audit = config?.['audit'] as { keys: string; head?: string } | undefined;
    const mountAt = (path: string) => pod.mounts.find((m) => m.mountPath === path);
    const volumeOf = (name: string | undefined) => pod.volumes.find((v) => v.name === name);
    if (!audit) {
      for (const m of pod.mounts.filter((m) => m.name.startsWith('audit'))) {
        report(
          `${pod.owner} mounts ${m.name} at ${m.mountPath}, but its configuration has no audit block`,
        );
      }
      continue;
    }
    const where = `${pod.owner}: audit.keys ${audit.keys}`;
    const mount = mountAt(audit.keys);
    const secret = volumeOf(mount?.name)?.secret;
    if (!mount || !secret) {
      report(`${where} is not a Secret mounted there`);
      continue;
    }
    if (mount.readOnly !== true) report(`${where} is mounted writable`);
    const mode = secret.defaultMode ?? 0o644;
    if ((mode & 0o333) !== 0) {
      report(`${where}: mode ${mode.toString(8)} lets the key be written or run`);
    }
    // As the kubelet lays the Secret out: each item's key as its path (all keys without items).
    const wanted = auditKeyFiles(audit.keys);
    const items = secret.items ?? [];
    const paths = items.map((i) => i.path);
    for (const file of [wanted.signingKey, wanted.keyring]) {
      if (!paths.includes(basename(file))) {
        report(`${where}: Secret ${secret.secretName} puts no item at ${basename(file)}`);
      }
    }
    const mounted = join(work, `${pod.owner.replace('/', '-')}-audit`);
    mkdirSync(mounted, { recursive: true });
    for (const { path } of items) {
      const from = [madeFiles.signingKey, madeFiles.keyring].find((f) => basename(f) === path);
      if (from) copyFileSync(from, join(mounted, path));
    }
    try {
      loadAuditKeys(mounted, { create: false });
      count('audit key mount');
    } catch (error) {
      report(`${where}: the service could not load its key: ${(error as Error).message}`);
    }
    if (audit.head !== undefined) {
      const headMount = mountAt(dirname(audit.head));
      const claim = volumeOf(headMount?.name)?.persistentVolumeClaim;
      if (!headMount || !claim) {
        report(`${pod.owner}: audit.head ${audit.head} is not on a PersistentVolumeClaim`);
      } else if (headMount.readOnly === true) {
        report(`${pod.owner}: audit.head ${audit.head} is mounted read-only`);
      } else {
        count('audit head volume');
      }
    }
  }
}

interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes?: string[];
  egress?: { ports?: { port?: number | string; protocol?: string }[] }[];
}

/** The port of an http(s) URL: the one it names, else 443 or 80. */
function urlPort(url: string): number {
  const parsed = new URL(url);
  return parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
}

/**
 * The gateway can reach its OpenID provider: where egress NetworkPolicies select its pods,
 * one of their rules allows TCP to the issuer's port and to the jwksUri's.
 */
function checkOidcEgress(
  objects: K8sObject[],
  report: (what: string) => void,
  count: (what: string) => void,
): void {
  const policies = objects
    .filter((o) => o.kind === 'NetworkPolicy')
    .map((o) => o['spec'] as NetworkPolicySpec)
    .filter((p) => p.policyTypes?.includes('Egress'));
  for (const pod of workloads(objects)) {
    const oidc = configOf(objects, pod)?.['oidc'] as
      { issuer: string; jwksUri?: string } | undefined;
    if (!oidc) continue;
    const applying = policies.filter((p) => selects(p.podSelector, pod.labels));
    if (applying.length === 0) continue; // egress not restricted
    const urls = [oidc.issuer, ...(oidc.jwksUri ? [oidc.jwksUri] : [])];
    for (const url of urls) {
      const port = urlPort(url);
      const open = applying.some((p) =>
        (p.egress ?? []).some(
          (rule) =>
            !rule.ports ||
            rule.ports.some(
              (r) => (r.port === undefined || r.port === port) && (r.protocol ?? 'TCP') === 'TCP',
            ),
        ),
      );
      if (open) count('egress to the OpenID provider');
      else report(`${pod.owner}: no egress NetworkPolicy lets it reach ${url} (TCP ${port})`);
    }
  }
}

function validate(
  validator: Validator,
  object: K8sObject,
  report: (what: string) => void,
): boolean {
  if (validator(object)) return true;
  for (const error of validator.errors ?? []) {
    report(
      `${object.kind}/${object.metadata.name}: ${error.instancePath || '/'} ${error.message ?? `${error.keyword} ${JSON.stringify(error.params)}`}`,
    );
  }
  return false;
}

/** prometheus-operator's schemas, as compiled validators (ES modules) of the npm package. */
async function loadOperatorValidators(dir: string): Promise<Map<string, Validator>> {
  const schemas = resolve(dir, 'node_modules/@kubernetes-models/prometheus-operator/_schemas');
  const validators = new Map<string, Validator>();
  for (const kind of OPERATOR_KINDS) {
    const file = join(
      schemas,
      `ComGithubPrometheusOperatorPrometheusOperatorPkgApisMonitoringV1${kind}.js`,
    );
    const module = (await import(pathToFileURL(file).href)) as { validate: Validator };
    validators.set(kind, module.validate);
  }
  return validators;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`check-rendered: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
