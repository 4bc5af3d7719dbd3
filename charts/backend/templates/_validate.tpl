{{/*
Checks of values that values.schema.json cannot express: rules across fields, values
that `null` removed before the schema saw them, and the Pod Security rules that
podSecurityOptOut turns off. Single-field rules live in the schema, whose errors name
the path.

Each check prints its problems, one a line, as "<value path>: <what> ; <fix>"; the
Deployment includes backend.validate, which fails once with every problem, so a values
file is fixed in one round. Messages name values and list indexes, never a value that
could be a secret.
*/}}
{{- define "backend.validate" -}}
{{- $problems := list }}
{{- range $check := list "backend.validate.database" "backend.validate.podSecurity" "backend.validate.volumes" "backend.validate.resources" "backend.validate.probes" "backend.validate.autoscaling" "backend.validate.monitoring" "backend.validate.secretsInEnv" }}
{{- range include $check $ | splitList "\n" | compact }}
{{- $problems = append $problems (printf "values: %s" .) }}
{{- end }}
{{- end }}
{{- with $problems }}
{{- fail (join "\n" .) }}
{{- end }}
{{- end }}

{{/* Demo mode, the database Secret, the image and the grace period. */}}
{{- define "backend.validate.database" -}}
{{- $db := include "backend.databaseConfigured" . }}
{{- if and (not $db) .Values.autoscaling.enabled }}
autoscaling.enabled: each pod would get its own SQLite file in demo mode; set database.url or database.existingSecret.name first
{{ end }}
{{- if and (not $db) (not .Values.autoscaling.enabled) (gt (int .Values.replicaCount) 1) }}
{{ printf "replicaCount: %d pods would each get their own SQLite file in demo mode; set database.url or database.existingSecret.name, or use replicaCount: 1" (int .Values.replicaCount) }}
{{ end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{ printf "autoscaling.minReplicas (%d) is above autoscaling.maxReplicas (%d); lower the one or raise the other" (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas) }}
{{ end }}
{{- if and .Values.database.existingSecret.name (not .Values.database.existingSecret.key) }}
database.existingSecret.key: empty; name the key of the Secret that holds the database URL
{{ end }}
{{- if and .Values.database.existingSecret.name .Values.database.url }}
database.url and database.existingSecret.name are both set; keep one (the URL would otherwise be stored in a Secret nobody reads)
{{ end }}
{{- if and .Values.image.digest (not (hasPrefix "sha256:" .Values.image.digest)) }}
{{ printf "image.digest: %q is not a digest; use the form sha256:<64 hex digits>" .Values.image.digest }}
{{ end }}
{{- if not (kindIs "invalid" .Values.terminationGracePeriodSeconds) }}
{{- $drain := int .Values.config.drainDelaySeconds }}
{{- $shutdown := int .Values.config.shutdownTimeoutSeconds }}
{{- $grace := int .Values.terminationGracePeriodSeconds }}
{{- $needed := add $drain $shutdown 5 }}
{{- if lt $grace $needed }}
{{ printf "terminationGracePeriodSeconds: %d s is too short for config.drainDelaySeconds (%d) + config.shutdownTimeoutSeconds (%d) + 5 s margin; set it to at least %d or leave it empty to derive it" $grace $drain $shutdown $needed }}
{{ end }}
{{- end }}
{{- end }}

{{/*
Pod Security `restricted` (Kubernetes 1.30), as the admission library checks it, on
the two contexts every pod and container of the chart share. Stricter in one point:
the pod-level context must keep runAsNonRoot and a seccomp profile itself, because
containers the chart does not make (injected sidecars, `kubectl debug`) inherit only it.
*/}}
{{- define "backend.validate.podSecurity" -}}
{{- if not .Values.podSecurityOptOut }}
{{- $fix := "or set podSecurityOptOut: true if the image cannot run otherwise (the namespace then cannot enforce Pod Security restricted)" }}
{{- $contexts := list (dict "path" "podSecurityContext" "ctx" .Values.podSecurityContext "what" "the pods") (dict "path" "securityContext" "ctx" .Values.securityContext "what" "every container") }}
{{- range $contexts }}
{{- $path := .path }}
{{- $ctx := .ctx }}
{{- if not $ctx }}
{{ printf "%s: null drops the hardening of %s (non-root user, seccomp%s); remove the null to keep the chart's defaults, %s" $path .what (ternary "" ", no privilege escalation, all capabilities dropped" (eq $path "podSecurityContext")) $fix }}
{{ else }}
{{- if and (hasKey $ctx "runAsUser") (eq (int $ctx.runAsUser) 0) }}
{{ printf "%s.runAsUser: 0 runs as root; use a non-zero UID (the image's user is 10001), %s" $path $fix }}
{{ end }}
{{- if eq (toString $ctx.runAsNonRoot) "false" }}
{{ printf "%s.runAsNonRoot: false lets the image run as root; set it to true, %s" $path $fix }}
{{ else if and (eq $path "podSecurityContext") (not $ctx.runAsNonRoot) }}
{{ printf "%s.runAsNonRoot: not set; set it to true, %s" $path $fix }}
{{ end }}
{{- $seccomp := (($ctx.seccompProfile | default dict).type) | default "" }}
{{- if eq $seccomp "Unconfined" }}
{{ printf "%s.seccompProfile.type: Unconfined lets the process make any system call; use RuntimeDefault (or Localhost with a profile), %s" $path $fix }}
{{ else if and (eq $path "podSecurityContext") (not $seccomp) }}
{{ printf "%s.seccompProfile.type: not set; use RuntimeDefault (or Localhost with a profile), %s" $path $fix }}
{{ end }}
{{- if eq ((($ctx.appArmorProfile | default dict).type) | default "") "Unconfined" }}
{{ printf "%s.appArmorProfile.type: Unconfined turns AppArmor off; use RuntimeDefault or remove it, %s" $path $fix }}
{{ end }}
{{- with $ctx.seLinuxOptions }}
{{- if and .type (not (has .type (list "container_t" "container_init_t" "container_kvm_t"))) }}
{{ printf "%s.seLinuxOptions.type: %q is not a container type; use container_t, container_init_t or container_kvm_t, or remove it, %s" $path .type $fix }}
{{ end }}
{{- if or .user .role }}
{{ printf "%s.seLinuxOptions: user and role may not be set; remove them, %s" $path $fix }}
{{ end }}
{{- end }}
{{- if ($ctx.windowsOptions | default dict).hostProcess }}
{{ printf "%s.windowsOptions.hostProcess: true runs on the node as a host process; remove it, %s" $path $fix }}
{{ end }}
{{- end }}
{{- end }}
{{- with .Values.podSecurityContext }}
{{- $safe := list "kernel.shm_rmid_forced" "net.ipv4.ip_local_port_range" "net.ipv4.ip_local_reserved_ports" "net.ipv4.ip_unprivileged_port_start" "net.ipv4.tcp_syncookies" "net.ipv4.ping_group_range" "net.ipv4.tcp_keepalive_time" "net.ipv4.tcp_fin_timeout" "net.ipv4.tcp_keepalive_intvl" "net.ipv4.tcp_keepalive_probes" }}
{{- range $i, $sysctl := .sysctls }}
{{- if not (has $sysctl.name $safe) }}
{{ printf "podSecurityContext.sysctls[%d]: %q is not a namespaced, safe sysctl; use one of %s, %s" $i $sysctl.name (join ", " $safe) $fix }}
{{ end }}
{{- end }}
{{- end }}
{{- with .Values.securityContext }}
{{- if .privileged }}
{{ printf "securityContext.privileged: true gives the containers every capability and the node's devices; remove it, %s" $fix }}
{{ end }}
{{- if ne (toString .allowPrivilegeEscalation) "false" }}
{{ printf "securityContext.allowPrivilegeEscalation: %s; it must be false, so that setuid binaries cannot gain privileges; set it to false, %s" (ternary "not set" "true" (kindIs "invalid" .allowPrivilegeEscalation)) $fix }}
{{ end }}
{{- $caps := .capabilities | default dict }}
{{- if not (has "ALL" ($caps.drop | default list)) }}
{{ printf "securityContext.capabilities.drop: must contain ALL, or the containers keep the runtime's default capabilities; set drop: [ALL], %s" $fix }}
{{ end }}
{{- range $caps.add }}
{{- if ne . "NET_BIND_SERVICE" }}
{{ printf "securityContext.capabilities.add: %q is not allowed (only NET_BIND_SERVICE is); remove it, %s" . $fix }}
{{ end }}
{{- end }}
{{- if and .procMount (ne .procMount "Default") }}
{{ printf "securityContext.procMount: %s unmasks the node's /proc; remove it or use Default, %s" .procMount $fix }}
{{ end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Extra volumes: `restricted` admits only these types; hostPath in particular gives the
pod the node's files.
*/}}
{{- define "backend.validate.volumes" -}}
{{- if not .Values.podSecurityOptOut }}
{{- $allowed := list "configMap" "csi" "downwardAPI" "emptyDir" "ephemeral" "persistentVolumeClaim" "projected" "secret" }}
{{- range $i, $volume := .Values.extraVolumes }}
{{- range $type := omit $volume "name" | keys | sortAlpha }}
{{- if not (has $type $allowed) }}
{{ printf "extraVolumes[%d] (%s): %s volumes are refused by Pod Security restricted; use one of %s, or set podSecurityOptOut: true (the namespace then cannot enforce Pod Security restricted)" $i $volume.name $type (join ", " $allowed) }}
{{ end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
A quantity (validated by the schema) as a plain number, to compare two of them:
"128Mi" -> 134217728, "100m" -> 0.1, "1e3" -> 1000.
*/}}
{{- define "backend.quantity" -}}
{{- $q := toString . }}
{{- $factors := dict "n" 1e-9 "u" 1e-6 "m" 1e-3 "k" 1e3 "M" 1e6 "G" 1e9 "T" 1e12 "P" 1e15 "E" 1e18 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "Pi" 1125899906842624.0 "Ei" 1152921504606846976.0 }}
{{- $suffix := regexFind "([KMGTPE]i|[numkMGTPE])$" $q }}
{{- if $suffix }}
{{- mulf (float64 (trimSuffix $suffix $q)) (index $factors $suffix) }}
{{- else }}
{{- float64 $q }}
{{- end }}
{{- end }}

{{/* The API server refuses a limit below its request, on any container. */}}
{{- define "backend.validate.resources" -}}
{{- $sets := list (dict "path" "resources" "r" .Values.resources) (dict "path" "migrations.resources" "r" .Values.migrations.resources) (dict "path" "tests.resources" "r" .Values.tests.resources) }}
{{- range $sets }}
{{- $path := .path }}
{{- $r := .r | default dict }}
{{- $requests := $r.requests | default dict }}
{{- range $name, $limit := $r.limits | default dict }}
{{- $request := index $requests $name }}
{{- if and (not (kindIs "invalid" $limit)) (not (kindIs "invalid" $request)) }}
{{- if lt (float64 (include "backend.quantity" $limit)) (float64 (include "backend.quantity" $request)) }}
{{ printf "%s.limits.%s: %v is below %s.requests.%s (%v), which the API server refuses; raise the limit or lower the request" $path $name $limit $path $name $request }}
{{ end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Probes. Liveness and readiness stay: without them a hung process is never restarted
and a pod gets traffic before it can answer. Each probe has exactly one handler; values
merge with the defaults, so replacing httpGet takes `httpGet: null`.
*/}}
{{- define "backend.validate.probes" -}}
{{- $handlers := list "exec" "grpc" "httpGet" "tcpSocket" }}
{{- $defaults := dict "livenessProbe" "/healthz: a hung process is never restarted" "readinessProbe" "/readyz: pods get traffic before they can reach the database and while they shut down" }}
{{- range $name := list "livenessProbe" "readinessProbe" "startupProbe" }}
{{- $probe := index $.Values $name }}
{{- if not $probe }}
{{- if hasKey $defaults $name }}
{{ printf "%s: null removes the probe of %s; restore it (remove the null) or override its fields" $name (index $defaults $name) }}
{{ end }}
{{- else }}
{{- $set := list }}
{{- range $handlers }}
{{- if not (kindIs "invalid" (index $probe .)) }}
{{- $set = append $set . }}
{{- end }}
{{- end }}
{{- if eq (len $set) 0 }}
{{ printf "%s: no handler; give exactly one of %s (or set %s: null to turn a startup probe off)" $name (join ", " $handlers) $name }}
{{ else if gt (len $set) 1 }}
{{ printf "%s: %d handlers (%s), the API server takes exactly one of %s; values merge with the chart's defaults, so set the one you replace to null (e.g. httpGet: null)" $name (len $set) (join ", " $set) (join ", " $handlers) }}
{{ end }}
{{- end }}
{{- end }}
{{- end }}

{{/* The HPA scales on utilisation, a share of the request: no request, no scaling. */}}
{{- define "backend.validate.autoscaling" -}}
{{- if .Values.autoscaling.enabled }}
{{- $r := .Values.resources | default dict }}
{{- $requests := $r.requests | default dict }}
{{- $limits := $r.limits | default dict }}
{{- $targets := list (dict "resource" "cpu" "value" "autoscaling.enabled" "example" "100m") }}
{{- if not (kindIs "invalid" .Values.autoscaling.targetMemoryUtilizationPercentage) }}
{{- $targets = append $targets (dict "resource" "memory" "value" "autoscaling.targetMemoryUtilizationPercentage" "example" "128Mi") }}
{{- end }}
{{- range $targets }}
{{- /* Without a request, Kubernetes takes the limit as the request. */}}
{{- $request := index $requests .resource | default (index $limits .resource) }}
{{- if or (kindIs "invalid" $request) (eq (float64 (include "backend.quantity" $request)) 0.0) }}
{{ printf "%s: the HPA scales on %s use as a share of resources.requests.%s, which is %s; set resources.requests.%s (e.g. %s), or turn autoscaling off" .value .resource .resource (ternary "not set" "zero" (kindIs "invalid" $request)) .resource .example }}
{{ end }}
{{- end }}
{{- end }}
{{- end }}

{{/* A duration of the Prometheus kind (1h30m, 15s, 500ms) in milliseconds. */}}
{{- define "backend.durationMs" -}}
{{- $ms := dict "y" 31536000000 "w" 604800000 "d" 86400000 "h" 3600000 "m" 60000 "s" 1000 "ms" 1 }}
{{- $total := 0 }}
{{- range regexFindAll "[0-9]+(ms|[ywdhms])" (toString .) -1 }}
{{- $unit := regexFind "(ms|[ywdhms])$" . }}
{{- $total = add $total (mul (trimSuffix $unit . | int64) (index $ms $unit)) }}
{{- end }}
{{- $total }}
{{- end }}

{{/* Prometheus refuses a scrape timeout longer than the interval. */}}
{{- define "backend.validate.monitoring" -}}
{{- $sm := .Values.serviceMonitor }}
{{- if $sm.enabled }}
{{- if gt (int64 (include "backend.durationMs" $sm.scrapeTimeout)) (int64 (include "backend.durationMs" $sm.interval)) }}
{{ printf "serviceMonitor.scrapeTimeout: %s is longer than serviceMonitor.interval (%s), and Prometheus refuses the scrape; use a timeout of at most the interval" $sm.scrapeTimeout $sm.interval }}
{{ end }}
{{- end }}
{{- end }}

{{/*
The database URL reaches the pods only as a mounted file. As an environment variable it
would show in `kubectl describe` and in the Deployment, and override that file
(environment wins over the secrets directory in the app's settings).
*/}}
{{- define "backend.validate.secretsInEnv" -}}
{{- $dbName := "(?i)(^|_)(DATABASE|DB)_?(URL|URI|DSN)$" }}
{{- $secretValue := "(?i)^\\s*postgres(ql)?(\\+[a-z0-9]+)?://|^\\s*[a-z][a-z0-9+.-]*://[^/@\\s]*:[^/@\\s]+@" }}
{{- $db := "use database.url or database.existingSecret.name (the chart mounts it as a file)" }}
{{- range $i, $env := .Values.extraEnv }}
{{- $name := toString $env.name }}
{{- if regexMatch $dbName $name }}
{{ printf "extraEnv[%d] (%s): a database URL in an environment variable overrides the chart's database settings and reaches every process of the container; %s" $i $name $db }}
{{ else if regexMatch $secretValue (toString ($env.value | default "")) }}
{{ printf "extraEnv[%d] (%s): the value is a database URL or carries credentials, in plain text in the Deployment; for the database %s, for other credentials valueFrom.secretKeyRef" $i $name $db }}
{{ end }}
{{- end }}
{{- range $name, $value := .Values.config.extra }}
{{- if or (regexMatch $dbName $name) (regexMatch $secretValue (toString $value)) }}
{{ printf "config.extra.%s: a database URL or credentials would be stored in the ConfigMap in plain text; %s, and mount other secrets with extraVolumes" $name $db }}
{{ end }}
{{- end }}
{{- end }}
