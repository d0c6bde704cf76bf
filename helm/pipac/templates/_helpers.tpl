{{/* Names ─────────────────────────────────────────────────────────────────────────────── */}}

{{- define "pipac.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's prefix: the release name, with the chart's name unless it contains it. */}}
{{- define "pipac.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* A resource name: (list $ "step-agent" "nitration") → <fullname>-step-agent-nitration. */}}
{{- define "pipac.resourceName" -}}
{{- $root := first . }}
{{- printf "%s-%s" (include "pipac.fullname" $root) (rest . | join "-") | lower | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels ────────────────────────────────────────────────────────────────────────────── */}}

{{- define "pipac.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pipac.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "pipac.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "pipac.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: pipac
{{- end }}

{{/* (dict "root" $ "component" "step-agent" "step" "nitration" "device" "at-101"): the
     labels selecting one component's pods (step and device where given). */}}
{{- define "pipac.componentSelectorLabels" -}}
{{ include "pipac.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- with .step }}
pipac/step: {{ . }}
{{- end }}
{{- with .device }}
pipac/device: {{ . }}
{{- end }}
{{- end }}

{{- define "pipac.componentLabels" -}}
{{ include "pipac.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- with .step }}
pipac/step: {{ . }}
{{- end }}
{{- with .device }}
pipac/device: {{ . }}
{{- end }}
{{- end }}

{{/* Images ────────────────────────────────────────────────────────────────────────────── */}}

{{/* (list $ "step-agent" $componentValues.image) → [registry/]repository/component:tag[@digest] */}}
{{- define "pipac.image" -}}
{{- $root := index . 0 }}
{{- $component := index . 1 }}
{{- $own := index . 2 | default dict }}
{{- $repository := $own.repository | default (printf "%s/%s" $root.Values.image.repository $component) }}
{{- with $root.Values.image.registry }}
{{- $repository = printf "%s/%s" . $repository }}
{{- end }}
{{- $tag := $own.tag | default $root.Values.image.tag | default $root.Chart.AppVersion }}
{{- if $own.digest }}
{{- printf "%s:%s@%s" $repository $tag $own.digest }}
{{- else }}
{{- printf "%s:%s" $repository $tag }}
{{- end }}
{{- end }}

{{/* Values of a step or a device: the component's defaults, each key the item sets replacing
     the default (false and 0 included, which a deep merge would drop). Mutates the first
     dict: (list $defaultsCopy $item). */}}
{{- define "pipac.overlay" -}}
{{- $base := index . 0 }}
{{- range $key, $value := index . 1 }}
{{- $_ := set $base $key $value }}
{{- end }}
{{- end }}

{{/* Paths and configuration ───────────────────────────────────────────────────────────── */}}

{{- define "pipac.recipePath" -}}
{{- if .Values.recipe.content }}/etc/pipac/recipe/recipe.yaml{{ else }}{{ .Values.recipe.path }}{{ end }}
{{- end }}

{{- define "pipac.modelsPath" -}}
{{- if .Values.models.persistence.enabled }}/var/lib/pipac/models{{ else }}{{ .Values.models.path }}{{ end }}
{{- end }}

{{- define "pipac.modelsClaim" -}}
{{- .Values.models.persistence.existingClaim | default (include "pipac.resourceName" (list . "models")) }}
{{- end }}

{{/* The `telemetry` block of a service's configuration (CONFIG_SCHEMA.telemetry in
     libs/config): (list $ serviceName), the name as the service itself would default it, or
     "" to leave it to the service. */}}
{{- define "pipac.telemetryConfig" -}}
{{- $root := index . 0 }}
{{- $t := $root.Values.telemetry }}
{{- $config := dict "sampleRatio" $t.sampleRatio }}
{{- with index . 1 }}
{{- $_ := set $config "serviceName" . }}
{{- end }}
{{- if $t.prometheus.enabled }}
{{- $_ := set $config "prometheus" (dict "host" "0.0.0.0" "port" ($t.prometheus.port | int)) }}
{{- else }}
{{- /* Absent, the service would open its default port. */}}
{{- $_ := set $config "prometheus" false }}
{{- end }}
{{- if $t.otlp.endpoint }}
{{- $_ := set $config "otlp" (dict "endpoint" $t.otlp.endpoint "traces" $t.otlp.traces "metrics" $t.otlp.metrics) }}
{{- end }}
{{- toYaml (dict "telemetry" $config) }}
{{- end }}

{{/* Secrets ───────────────────────────────────────────────────────────────────────────── */}}

{{- define "pipac.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "pipac.fullname" .) }}
{{- end }}

{{/* Whether the Secret holds the database URL (always assumed for an existing Secret). */}}
{{- define "pipac.hasDatabaseUrl" -}}
{{- if or .Values.secrets.existingSecret .Values.secrets.databaseUrl }}true{{ end }}
{{- end }}

{{- define "pipac.databaseEnv" -}}
{{- if not (include "pipac.hasDatabaseUrl" .) }}
{{- fail "the coordinator and the gateway need the cell database: set secrets.databaseUrl or secrets.existingSecret" }}
{{- end -}}
- name: PIPAC_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "pipac.secretName" . }}
      key: {{ .Values.secrets.keys.databaseUrl }}
{{- end }}

{{/* Environment every service gets: the brokers, and the component's extraEnv. (list $ $componentValues) */}}
{{- define "pipac.commonEnv" -}}
{{- $root := index . 0 }}
{{- $values := index . 1 -}}
- name: PIPAC_KAFKA_BROKERS
  value: {{ join "," $root.Values.kafka.brokers | quote }}
{{- with $values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Pods ──────────────────────────────────────────────────────────────────────────────── */}}

{{- define "pipac.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- .Values.serviceAccount.name | default (include "pipac.fullname" .) }}
{{- else }}
{{- .Values.serviceAccount.name | default "default" }}
{{- end }}
{{- end }}

{{/* Pod-level settings shared by every workload: (list $ $componentValues). */}}
{{- define "pipac.podSpec" -}}
{{- $root := index . 0 }}
{{- $values := index . 1 -}}
serviceAccountName: {{ include "pipac.serviceAccountName" $root }}
# No service talks to the Kubernetes API.
automountServiceAccountToken: false
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Pod annotations: the configuration's checksum (a change rolls the pods) and the scrape
     annotations. (list $ $componentValues $configText) */}}
{{- define "pipac.podAnnotations" -}}
{{- $root := index . 0 }}
{{- $values := index . 1 }}
{{- $config := index . 2 }}
{{- $annotations := dict }}
{{- if $config }}
{{- $_ := set $annotations "checksum/config" ($config | sha256sum) }}
{{- end }}
{{- if and $root.Values.telemetry.prometheus.enabled $root.Values.monitoring.scrapeAnnotations }}
{{- $_ := set $annotations "prometheus.io/scrape" "true" }}
{{- $_ := set $annotations "prometheus.io/port" ($root.Values.telemetry.prometheus.port | toString) }}
{{- $_ := set $annotations "prometheus.io/path" $root.Values.telemetry.prometheus.path }}
{{- end }}
{{- $annotations = merge (deepCopy ($values.podAnnotations | default dict)) $annotations }}
{{- with $annotations }}
{{- toYaml . }}
{{- end }}
{{- end }}

{{/* The components that serve metrics, as JSON (fromJsonArray): those the PodMonitors or the
     ServiceMonitors scrape. The simulator and the trainer export none. */}}
{{- define "pipac.metricsComponents" -}}
{{- $components := list }}
{{- if .Values.steps }}{{ $components = append $components "step-agent" }}{{ end }}
{{- if .Values.coordinator.enabled }}{{ $components = append $components "coordinator" }}{{ end }}
{{- if .Values.erpGateway.enabled }}{{ $components = append $components "erp-gateway" }}{{ end }}
{{- if .Values.devices }}{{ $components = append $components "device-adapter" }}{{ end }}
{{- toJson $components }}
{{- end }}

{{/* PodMonitors and ServiceMonitors are alternatives: with both, Prometheus would scrape
     every pod twice (two jobs, every series doubled, every sum in the alerts twice as big). */}}
{{- define "pipac.monitorsExclusive" -}}
{{- if and .Values.monitoring.podMonitors.enabled .Values.monitoring.serviceMonitors.enabled }}
{{- fail "monitoring.podMonitors.enabled and monitoring.serviceMonitors.enabled are both true: Prometheus would scrape every pod twice; enable one of them" }}
{{- end }}
{{- end }}

{{/* The metrics port of a container, when metrics are on. */}}
{{- define "pipac.metricsPort" -}}
{{- if .Values.telemetry.prometheus.enabled }}
- name: metrics
  containerPort: {{ .Values.telemetry.prometheus.port }}
  protocol: TCP
{{- end }}
{{- end }}

{{/* The probes of a component's container: (list $componentValues). */}}
{{- define "pipac.probes" -}}
{{- $values := index . 0 }}
{{- with $values.startupProbe }}
startupProbe:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.livenessProbe }}
livenessProbe:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.readinessProbe }}
readinessProbe:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* /tmp, the only writable place besides the volumes (read-only root filesystem). */}}
{{- define "pipac.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}

{{- define "pipac.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}

{{/* The recipe from the values, where one is given there. */}}
{{- define "pipac.recipeVolume" -}}
{{- if .Values.recipe.content }}
- name: recipe
  configMap:
    name: {{ include "pipac.resourceName" (list . "recipe") }}
{{- end }}
{{- end }}

{{- define "pipac.recipeMount" -}}
{{- if .Values.recipe.content }}
- name: recipe
  mountPath: /etc/pipac/recipe
  readOnly: true
{{- end }}
{{- end }}

{{/* The shared models volume, where persistence is on. */}}
{{- define "pipac.modelsVolume" -}}
{{- if .Values.models.persistence.enabled }}
- name: models
  persistentVolumeClaim:
    claimName: {{ include "pipac.modelsClaim" . }}
{{- end }}
{{- end }}

{{/* (list $ readOnly) */}}
{{- define "pipac.modelsMount" -}}
{{- $root := index . 0 }}
{{- if $root.Values.models.persistence.enabled }}
- name: models
  mountPath: /var/lib/pipac/models
  readOnly: {{ index . 1 }}
{{- end }}
{{- end }}

{{/* A PodDisruptionBudget: (dict "root" $ "name" … "values" … "component" … "step" … "device" …). */}}
{{- define "pipac.pdb" -}}
{{- $pdb := .values.pdb | default dict }}
{{- if $pdb.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  labels:
    {{- include "pipac.componentLabels" . | nindent 4 }}
spec:
  {{- if hasKey $pdb "minAvailable" }}
  minAvailable: {{ $pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ $pdb.maxUnavailable | default 1 }}
  {{- end }}
  # A pod that is not ready (waiting for Kafka, a device) may always be evicted: a drain never
  # waits on a budget a broken pod cannot meet.
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels:
      {{- include "pipac.componentSelectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}

{{/* The port of an opc.tcp:// URL (4840, OPC UA's registered port, when it names none). */}}
{{- define "pipac.urlPort" -}}
{{- $match := regexFind ":[0-9]+(/|$)" (trimPrefix "opc.tcp://" .) }}
{{- if $match }}{{ $match | trimPrefix ":" | trimSuffix "/" }}{{ else }}4840{{ end }}
{{- end }}

{{/* A device's OPC UA endpoint: its endpointUrl, else the simulator's (when on), else its
     inline node map's; empty for a node map from a ConfigMap. (list $ $device) */}}
{{- define "pipac.deviceEndpointUrl" -}}
{{- $root := index . 0 }}
{{- $device := index . 1 }}
{{- if $device.endpointUrl }}
{{- $device.endpointUrl }}
{{- else if $root.Values.simulator.enabled }}
{{- printf "opc.tcp://%s:%d" (include "pipac.resourceName" (list $root "plant-simulator")) ($root.Values.simulator.port | int) }}
{{- else if $device.nodeMap }}
{{- $device.nodeMap.endpointUrl | default "" }}
{{- end }}
{{- end }}

{{/* The port of an http(s) URL: the one it names, else 443 or 80. */}}
{{- define "pipac.httpUrlPort" -}}
{{- $rest := regexReplaceAll "^[a-z]+://" . "" }}
{{- $match := regexFind ":[0-9]+(/|$)" $rest }}
{{- if $match }}{{ $match | trimPrefix ":" | trimSuffix "/" }}{{ else if hasPrefix "https:" . }}443{{ else }}80{{ end }}
{{- end }}

{{/* Audit trail signing (docs/audit-trail.md) ───────────────────────────────────────────── */}}

{{/* Where the signing key and the keyring are mounted (the `audit.keys` folder). */}}
{{- define "pipac.auditKeysPath" -}}/etc/pipac/audit{{- end }}

{{/* The folder of the coordinator's exported head (its own volume) and the file in it. */}}
{{- define "pipac.auditHeadDir" -}}/var/lib/pipac/audit{{- end }}
{{- define "pipac.auditHeadPath" -}}{{ include "pipac.auditHeadDir" . }}/head.json{{- end }}

{{- define "pipac.auditHeadClaim" -}}
{{- .Values.audit.head.existingClaim | default (include "pipac.resourceName" (list . "audit-head")) }}
{{- end }}

{{/* Whether the coordinator exports the head to a volume: only where it signs. */}}
{{- define "pipac.auditHead" -}}
{{- if and .Values.audit.existingSecret .Values.audit.head.enabled }}true{{ end }}
{{- end }}

{{/* The key files' mode. A Secret volume's files belong to root; with the pod's fsGroup the
     kubelet gives them that group (and adds group read), so 0440 lets the services' user read
     them and nobody else. Without an fsGroup a non-root user could read them only as "other":
     the chart refuses rather than make the key world-readable unasked. */}}
{{- define "pipac.auditKeysMode" -}}
{{- $mode := .Values.audit.defaultMode }}
{{- if kindIs "invalid" $mode }}
{{- if not .Values.podSecurityContext.fsGroup }}
{{- fail "audit.existingSecret: without podSecurityContext.fsGroup the key files (owned by root) cannot be read at mode 0440 by the non-root services; set podSecurityContext.fsGroup, or audit.defaultMode (e.g. 0440 where the platform sets the group, as OpenShift does; 0444 where nothing else runs in the pods)" }}
{{- end }}
{{- $mode = 288 }}
{{- end }}
{{- $mode | int }}
{{- end }}

{{/* The `audit` block of a configuration (CONFIG_SCHEMA.audit in libs/config): (list $ withHead),
     nothing when no Secret is named (the service then says at start that it does not sign). */}}
{{- define "pipac.auditConfig" -}}
{{- $root := index . 0 }}
{{- if $root.Values.audit.existingSecret }}
{{- $audit := dict "keys" (include "pipac.auditKeysPath" $root) }}
{{- if and (index . 1) (include "pipac.auditHead" $root) }}
{{- $_ := set $audit "head" (include "pipac.auditHeadPath" $root) }}
{{- end }}
{{- toYaml (dict "audit" $audit) }}
{{- end }}
{{- end }}

{{/* The Secret's two keys as the two files the services read: (list $ withHead). */}}
{{- define "pipac.auditVolumes" -}}
{{- $root := index . 0 }}
{{- $a := $root.Values.audit }}
{{- if $a.existingSecret }}
{{- $mode := include "pipac.auditKeysMode" $root | int }}
- name: audit-keys
  secret:
    secretName: {{ $a.existingSecret }}
    defaultMode: {{ $mode }} # {{ printf "%04o" $mode }}
    # A key missing from the Secret keeps the pod from starting (the event names it).
    items:
      - key: {{ $a.keys.signingKey }}
        path: signing-key.pem
      - key: {{ $a.keys.keyring }}
        path: keyring.json
{{- if and (index . 1) (include "pipac.auditHead" $root) }}
- name: audit-head
  persistentVolumeClaim:
    claimName: {{ include "pipac.auditHeadClaim" $root }}
{{- end }}
{{- end }}
{{- end }}

{{- define "pipac.auditMounts" -}}
{{- $root := index . 0 }}
{{- if $root.Values.audit.existingSecret }}
- name: audit-keys
  mountPath: {{ include "pipac.auditKeysPath" $root }}
  readOnly: true
{{- if and (index . 1) (include "pipac.auditHead" $root) }}
- name: audit-head
  mountPath: {{ include "pipac.auditHeadDir" $root }}
{{- end }}
{{- end }}
{{- end }}

{{/* Single sign-on (services/erp-gateway/src/app/auth/oidc.options.ts) ────────────────────── */}}

{{/* The gateway's `oidc` block (OIDC_CONFIG_SCHEMA): the keys given; an empty jwksUri,
     algorithms or roleMapping is left to the gateway's default. */}}
{{- define "pipac.oidcConfig" -}}
{{- $o := .Values.erpGateway.oidc }}
{{- if $o.enabled }}
{{- $oidc := dict "issuer" $o.issuer "audience" $o.audience }}
{{- range $key := list "jwksUri" "algorithms" "rolesClaim" "roleMapping" "actorClaim" }}
{{- with index $o $key }}
{{- $_ := set $oidc $key . }}
{{- end }}
{{- end }}
{{- range $key := list "clockSkewSeconds" "jwksCooldownSeconds" "jwksMaxAgeSeconds" "timeoutMs" }}
{{- if hasKey $o $key }}
{{- $value := index $o $key }}
{{- /* Integers as integers (a float64 from the values would print 6e+05). */}}
{{- if eq ($value | float64) (floor $value) }}{{ $value = $value | int64 }}{{ end }}
{{- $_ := set $oidc $key $value }}
{{- end }}
{{- end }}
{{- toYaml (dict "oidc" $oidc) }}
{{- end }}
{{- end }}

{{/* The TCP ports of the OpenID provider the gateway calls: its issuer's (discovery) and its
     jwksUri's, when that is elsewhere. As a JSON list. */}}
{{- define "pipac.oidcPorts" -}}
{{- $o := .Values.erpGateway.oidc }}
{{- $ports := list (include "pipac.httpUrlPort" $o.issuer | int) }}
{{- with $o.jwksUri }}
{{- $ports = append $ports (include "pipac.httpUrlPort" . | int) }}
{{- end }}
{{- toJson ($ports | uniq) }}
{{- end }}
