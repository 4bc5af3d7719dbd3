{{/*
Names. Helpers are prefixed with the chart name so that a parent chart's
helpers never collide with them.
*/}}
{{- define "backend.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "backend.fullname" -}}
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

{{/* Name of a derived object, e.g. "<fullname>-migrate", kept within 63 characters. */}}
{{- define "backend.childName" -}}
{{- printf "%s-%s" (include "backend.fullname" .root | trunc (int (sub 62 (len .suffix))) | trimSuffix "-") .suffix }}
{{- end }}

{{- define "backend.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object. The selector labels include the component, so that the
migration Job and the test pod (other components of the same release) are never
picked up by the Service, the PodDisruptionBudget or the NetworkPolicy of the
server pods.
*/}}
{{- define "backend.labels" -}}
helm.sh/chart: {{ include "backend.chart" . }}
app.kubernetes.io/name: {{ include "backend.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kubestead
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of the server pods; never change them: Deployment selectors are immutable. */}}
{{- define "backend.selectorLabels" -}}
app.kubernetes.io/name: {{ include "backend.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end }}

{{/* Labels of the pods of another component (migrations, test): "root" and "component". */}}
{{- define "backend.componentLabels" -}}
{{ include "backend.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "backend.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "backend.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* An image reference from {repository, tag, digest}; the digest wins. Args: image, default tag. */}}
{{- define "backend.imageRef" -}}
{{- $img := index . 0 }}
{{- $defaultTag := index . 1 }}
{{- if $img.digest }}
{{- printf "%s@%s" $img.repository $img.digest }}
{{- else }}
{{- printf "%s:%s" $img.repository (default $defaultTag ($img.tag | toString)) }}
{{- end }}
{{- end }}

{{- define "backend.image" -}}
{{- include "backend.imageRef" (list .Values.image .Chart.AppVersion) }}
{{- end }}

{{/* True (non-empty) when a database is configured; empty means demo mode (SQLite). */}}
{{- define "backend.databaseConfigured" -}}
{{- if or .Values.database.url .Values.database.existingSecret.name }}true{{ end }}
{{- end }}

{{/* True (non-empty) when the chart makes the Secret with the database URL. */}}
{{- define "backend.createSecret" -}}
{{- if and .Values.database.url (not .Values.database.existingSecret.name) }}true{{ end }}
{{- end }}

{{/* Name of the Secret the app's database URL comes from. */}}
{{- define "backend.secretName" -}}
{{- default (include "backend.fullname" .) .Values.database.existingSecret.name }}
{{- end }}

{{/* Where the Secret is mounted; the app reads one file per key from it (BACKEND_SECRETS_DIR). */}}
{{- define "backend.secretsDir" -}}
/etc/backend/secrets
{{- end }}

{{/* The grace period: the value (backend.validate checks it), or derived from the app's drain delay and shutdown timeout. */}}
{{- define "backend.terminationGracePeriodSeconds" -}}
{{- $drain := int .Values.config.drainDelaySeconds }}
{{- $shutdown := int .Values.config.shutdownTimeoutSeconds }}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds }}
{{- add $drain $shutdown 10 }}
{{- else }}
{{- int .Values.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/*
Non-secret settings as a map of environment variables. The ConfigMap holds them
for the app; the migration Job, which runs before the ConfigMap exists, gets the
same map inline.
*/}}
{{- define "backend.configEnv" -}}
BACKEND_HOST: "0.0.0.0"
BACKEND_PORT: {{ .Values.containerPort | quote }}
BACKEND_LOG_LEVEL: {{ .Values.config.logLevel | quote }}
BACKEND_ACCESS_LOG_PROBES: {{ .Values.config.accessLogProbes | quote }}
BACKEND_DRAIN_DELAY_SECONDS: {{ .Values.config.drainDelaySeconds | quote }}
BACKEND_SHUTDOWN_TIMEOUT_SECONDS: {{ .Values.config.shutdownTimeoutSeconds | quote }}
BACKEND_MAX_BODY_BYTES: {{ .Values.config.maxBodyBytes | int64 | quote }}
BACKEND_DATA_DIR: {{ .Values.config.dataDir | quote }}
BACKEND_DB_POOL_SIZE: {{ .Values.database.poolSize | quote }}
BACKEND_DB_MAX_OVERFLOW: {{ .Values.database.maxOverflow | quote }}
BACKEND_DB_CONNECT_TIMEOUT_SECONDS: {{ .Values.database.connectTimeoutSeconds | quote }}
{{- with .Values.database.sslMode }}
BACKEND_DB_SSL_MODE: {{ . | quote }}
{{- end }}
{{- if include "backend.databaseConfigured" . }}
BACKEND_SECRETS_DIR: {{ include "backend.secretsDir" . | quote }}
{{- end }}
{{- range $name, $value := .Values.config.extra }}
BACKEND_{{ $name | upper }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/* Downward-API environment: the app labels its logs and metrics with these. */}}
{{- define "backend.downwardEnv" -}}
- name: BACKEND_POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: BACKEND_POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- end }}

{{/*
The Secret volume. A chart-made Secret has exactly the key database_url; of an
existing Secret only the configured key is mounted, renamed to database_url, so
that other keys in it never reach the pod. Arg: root context and the Secret name.
*/}}
{{- define "backend.secretVolume" -}}
- name: secrets
  secret:
    secretName: {{ .secretName }}
    defaultMode: 0440
    items:
      - key: {{ if .root.Values.database.existingSecret.name }}{{ .root.Values.database.existingSecret.key }}{{ else }}database_url{{ end }}
        path: database_url
{{- end }}

{{/* Egress rules shared by the app's and the migration Job's NetworkPolicy. */}}
{{- define "backend.egressRules" -}}
{{- $np := .Values.networkPolicy }}
{{- if $np.egress.dns.enabled }}
- to:
    {{- toYaml $np.egress.dns.to | nindent 4 }}
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}
{{- if $np.egress.database.enabled }}
- ports:
    - port: {{ $np.egress.database.port }}
      protocol: TCP
  {{- with $np.egress.database.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- with $np.egress.extra }}
{{ toYaml . }}
{{- end }}
{{- end }}
