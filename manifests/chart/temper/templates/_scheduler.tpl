{{/* temper-scheduler's names and its KubeSchedulerConfiguration (templates/scheduler.yaml). */}}
{{- define "temper.scheduler.name" -}}{{ include "temper.fullname" . }}-scheduler{{- end -}}

{{- define "temper.scheduler.selectorLabels" -}}
app.kubernetes.io/name: temper-scheduler
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The stock kube-scheduler of the cluster's own version unless a tag is given. */}}
{{- define "temper.scheduler.kubeSchedulerImage" -}}
{{- $i := .Values.scheduler.kubeScheduler.image -}}
{{- printf "%s:%s" $i.repository (default (printf "v%s.%s.%s" .Capabilities.KubeVersion.Major (.Capabilities.KubeVersion.Minor | trimSuffix "+") (regexReplaceAll "^v?[0-9]+\\.[0-9]+\\.([0-9]+).*$" .Capabilities.KubeVersion.Version "${1}")) $i.tag) -}}
{{- end -}}

{{- define "temper.scheduler.config" -}}
{{- $s := .Values.scheduler -}}
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: true
  resourceName: {{ $s.name }}
  resourceNamespace: {{ .Release.Namespace }}
profiles:
  - schedulerName: {{ $s.name }}
extenders:
  - urlPrefix: http://127.0.0.1:{{ int $s.extender.port }}/temper/v1
    filterVerb: filter
    prioritizeVerb: prioritize
    weight: {{ int $s.extender.weight }}
    nodeCacheCapable: true
    ignorable: true
    httpTimeout: {{ $s.extender.httpTimeout }}
{{- end -}}
