{{/* Names: <release>-caelus unless the release name already contains the chart name. */}}
{{- define "caelus.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "caelus.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "caelus.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "caelus.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component (api, worker, migrations). */}}
{{- define "caelus.selectorLabels" -}}
app.kubernetes.io/name: {{ include "caelus.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "caelus.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "caelus.secretName" -}}
{{- default (include "caelus.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "caelus.workerServiceAccountName" -}}
{{- if .Values.serviceAccount.worker.create -}}
{{- default (printf "%s-worker" (include "caelus.fullname" .)) .Values.serviceAccount.worker.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.worker.name -}}
{{- end -}}
{{- end -}}

{{/* The ClusterRole every tenant namespace's ServiceAccount is bound to. */}}
{{- define "caelus.tenantClusterRoleName" -}}
{{- default (printf "%s-tenant" (include "caelus.fullname" .)) .Values.rbac.tenant.clusterRoleName -}}
{{- end -}}

{{- define "caelus.apiServiceAccountName" -}}
{{- if .Values.serviceAccount.api.create -}}
{{- default (printf "%s-api" (include "caelus.fullname" .)) .Values.serviceAccount.api.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.api.name -}}
{{- end -}}
{{- end -}}

{{/* Restarts the pods when the chart-created Secret changes (env from a Secret is read at start). */}}
{{- define "caelus.secretChecksum" -}}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end -}}

{{/* Environment shared by the API, the worker and the migration Job. */}}
{{- define "caelus.env" -}}
- name: NODE_ENV
  value: production
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "caelus.secretName" . }}
      key: DATABASE_URL
- name: CAELUS_ENCRYPTION_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "caelus.secretName" . }}
      key: CAELUS_ENCRYPTION_KEY
- name: CAELUS_PREVIOUS_ENCRYPTION_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ include "caelus.secretName" . }}
      key: CAELUS_PREVIOUS_ENCRYPTION_KEYS
      optional: true
- name: LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Environment of the API and the worker (the migration Job needs only the database). */}}
{{- define "caelus.appEnv" -}}
{{ include "caelus.env" . }}
- name: CAELUS_ADMIN_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "caelus.secretName" . }}
      key: CAELUS_ADMIN_TOKEN
      optional: true
- name: TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "caelus.secretName" . }}
      key: TEMPORAL_API_KEY
      optional: true
{{- with .Values.config.temporal }}
- name: TEMPORAL_ADDRESS
  value: {{ .address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ .namespace | quote }}
- name: CAELUS_TASK_QUEUE
  value: {{ .taskQueue | quote }}
{{- if .uiUrl }}
- name: TEMPORAL_UI_URL
  value: {{ .uiUrl | quote }}
{{- end }}
{{- if .tls.enabled }}
- name: TEMPORAL_TLS
  value: "true"
{{- if .tls.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ .tls.serverName | quote }}
{{- end }}
{{- if and .tls.existingSecret .tls.clientCertificate }}
- name: TEMPORAL_TLS_CERT
  value: /etc/caelus/temporal-tls/tls.crt
- name: TEMPORAL_TLS_KEY
  value: /etc/caelus/temporal-tls/tls.key
{{- end }}
{{- if and .tls.existingSecret .tls.ca }}
- name: TEMPORAL_TLS_CA
  value: /etc/caelus/temporal-tls/ca.crt
{{- end }}
{{- end }}
{{- end }}
- name: CAELUS_DRIFT_INTERVAL
  value: {{ .Values.config.driftIntervalSeconds | quote }}
- name: CAELUS_DRIFT_WATCH
  value: {{ .Values.config.driftWatchCache | quote }}
- name: CAELUS_HEALTH_GRACE
  value: {{ .Values.config.healthGraceSeconds | quote }}
- name: CAELUS_TENANT_CLUSTER_ROLE
  value: {{ include "caelus.tenantClusterRoleName" . | quote }}
- name: CAELUS_HELM_TIMEOUT
  value: {{ .Values.config.helmTimeoutSeconds | quote }}
- name: CAELUS_SUPERVISOR_INTERVAL
  value: {{ .Values.config.supervisorIntervalSeconds | quote }}
{{- with .Values.config.stuckAfterSeconds }}
- name: CAELUS_STUCK_AFTER
  value: {{ . | quote }}
{{- end }}
- name: CAELUS_FAILED_RECHECK_INTERVAL
  value: {{ .Values.config.failedRecheckSeconds | quote }}
- name: CAELUS_BODY_LIMIT_BYTES
  value: {{ .Values.config.bodyLimitBytes | quote }}
- name: CAELUS_RATE_LIMIT
  value: {{ .Values.config.rateLimit.limit | quote }}
- name: CAELUS_RATE_LIMIT_TTL
  value: {{ .Values.config.rateLimit.ttlSeconds | quote }}
{{- with .Values.config.chartRoots }}
- name: CAELUS_CHART_ROOTS
  value: {{ . | quote }}
{{- end }}
{{- with .Values.config.plainHttpRegistries }}
- name: CAELUS_PLAIN_HTTP_REGISTRIES
  value: {{ . | quote }}
{{- end }}
{{- with .Values.config.tenantEgress.denyCidrs }}
- name: CAELUS_TENANT_EGRESS_DENY_CIDRS
  value: {{ . | quote }}
{{- end }}
{{- with .Values.config.tenantEgress.allowCidrs }}
- name: CAELUS_TENANT_EGRESS_ALLOW_CIDRS
  value: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* Volume and mount of the Temporal TLS Secret, when configured. */}}
{{- define "caelus.temporalTlsVolume" -}}
{{- if and .Values.config.temporal.tls.enabled .Values.config.temporal.tls.existingSecret }}
- name: temporal-tls
  secret:
    secretName: {{ .Values.config.temporal.tls.existingSecret }}
{{- end }}
{{- end -}}

{{- define "caelus.temporalTlsMount" -}}
{{- if and .Values.config.temporal.tls.enabled .Values.config.temporal.tls.existingSecret }}
- name: temporal-tls
  mountPath: /etc/caelus/temporal-tls
  readOnly: true
{{- end }}
{{- end -}}
