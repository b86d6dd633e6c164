{{/* Names: "<release>" when it already contains "temper", else "<release>-temper". */}}
{{- define "temper.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "temper.agent.name" -}}{{ include "temper.fullname" . }}-agent{{- end -}}
{{- define "temper.webhook.name" -}}{{ include "temper.fullname" . }}-webhook{{- end -}}
{{- define "temper.webhook.tlsSecret" -}}{{ include "temper.fullname" . }}-webhook-tls{{- end -}}
{{/* Cluster-scoped, so per release (core/names.ts webhookConfigurationName). */}}
{{- define "temper.webhook.configurationName" -}}{{ include "temper.fullname" . }}-qos-defaulting{{- end -}}

{{/* "true" when this release installs the tier PriorityClasses (priorityClasses.create; true when unset, as after `helm upgrade --reuse-values` from a release that predates the key). */}}
{{- define "temper.priorityClasses.create" -}}
{{- $v := default dict .Values.priorityClasses -}}
{{- if or (not (hasKey $v "create")) (get $v "create") -}}true{{- end -}}
{{- end -}}

{{/* The Helm release an existing object belongs to, "namespace/name", from Helm's ownership annotations; "" when it has none (made outside Helm). */}}
{{- define "temper.helmOwner" -}}
{{- $name := dig "metadata" "annotations" "meta.helm.sh/release-name" "" . -}}
{{- if $name -}}
{{- printf "%s/%s" (dig "metadata" "annotations" "meta.helm.sh/release-namespace" "" .) $name -}}
{{- end -}}
{{- end -}}

{{/* "installed by Helm release ns/name" or "made outside Helm": who has an existing object, for messages. */}}
{{- define "temper.ownerText" -}}
{{- $owner := include "temper.helmOwner" . -}}
{{- if $owner -}}
{{- printf "installed by Helm release %s" $owner -}}
{{- else -}}
made outside Helm (kubectl temper migrate --apply, npm start, or by hand)
{{- end -}}
{{- end -}}

{{- define "temper.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: temper
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* kubectl temper finds the agent pod by app.kubernetes.io/name=temper-agent. */}}
{{- define "temper.agent.selectorLabels" -}}
app.kubernetes.io/name: temper-agent
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "temper.webhook.selectorLabels" -}}
app.kubernetes.io/name: temper-webhook
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* repository@digest when a digest is given (what runs is then pinned), else repository:tag. */}}
{{- define "temper.image" -}}
{{- if .image.digest -}}
{{- printf "%s@%s" .image.repository .image.digest -}}
{{- else -}}
{{- $tag := default .root.Chart.AppVersion .image.tag -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/*
The names in effect (core/names.ts), as JSON: `prefix` and `classes` are what Temper writes
(`naming.names`' own unless annotation_prefix / priority_classes override them); `readPrefixes`
every prefix readers honour (the written one, then infera.io and temper.codes); `writePrefixes`
those the agent writes (all of them in migration mode); `classSets` the class sets installed
(in migration mode each name set's too).
*/}}
{{- define "temper.naming" -}}
{{- $n := .Values.config.naming -}}
{{- $own := dict "infera" "infera.io" "temper" "temper.codes" -}}
{{- $prefix := default (index $own $n.names) $n.annotation_prefix -}}
{{- $given := default dict $n.priority_classes -}}
{{- $classes := dict -}}
{{- range $tier := list "critical" "high" "normal" "low" "background" -}}
{{- $_ := set $classes $tier (default (printf "%s-%s" $n.names $tier) (index $given $tier)) -}}
{{- end -}}
{{- $read := uniq (list $prefix "infera.io" "temper.codes") -}}
{{- $sets := list $classes -}}
{{- if $n.migration -}}
{{- range $set := list "infera" "temper" -}}
{{- $sets = append $sets (dict "critical" (printf "%s-critical" $set) "high" (printf "%s-high" $set) "normal" (printf "%s-normal" $set) "low" (printf "%s-low" $set) "background" (printf "%s-background" $set)) -}}
{{- end -}}
{{- end -}}
{{- dict "prefix" $prefix "classes" $classes "readPrefixes" $read "writePrefixes" (ternary $read (list $prefix) (eq $n.migration true)) "classSets" $sets | toJson -}}
{{- end -}}

{{/* The Node annotations the agent may change (writes, or removes under a prefix it no longer writes): the only ones its admission policy allows. */}}
{{- define "temper.agentAnnotations" -}}
{{- $keys := list -}}
{{- range $p := (include "temper.naming" . | fromJson).readPrefixes -}}
{{- $keys = append $keys (printf "%s/qos-distribution" $p) -}}
{{- $keys = append $keys (printf "%s/agent-status" $p) -}}
{{- end -}}
{{- $keys | toJson -}}
{{- end -}}

{{/*
The tier PriorityClasses as [name, value, preemptionPolicy], highest first within each class
set, each name once: each tier's lower bound; background (no lower bound) gets low - 1 and
never preempts (core/config.ts tierClasses). In migration mode both name sets' classes, with
identical values per tier.
*/}}
{{- define "temper.tierClasses" -}}
{{- $m := .Values.config.priority_mapping -}}
{{- $values := dict "critical" (int64 $m.critical) "high" (int64 $m.high) "normal" (int64 $m.normal) "low" (int64 $m.low) "background" (sub (int64 $m.low) 1) -}}
{{- $out := list -}}
{{- $seen := dict -}}
{{- range $set := (include "temper.naming" . | fromJson).classSets -}}
{{- range $tier := list "critical" "high" "normal" "low" "background" -}}
{{- $name := index $set $tier -}}
{{- if not (hasKey $seen $name) -}}
{{- $_ := set $seen $name $tier -}}
{{- $out = append $out (list $name (index $values $tier) (ternary "Never" "PreemptLowerPriority" (eq $tier "background"))) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $out | toJson -}}
{{- end -}}

{{/*
Checks across fields that values.schema.json cannot express, with the agent's own wording
(core/config.ts): the agent would otherwise refuse the config at start, on every node.
*/}}
{{- define "temper.validateConfig" -}}
{{- $m := .Values.config.priority_mapping -}}
{{- $order := list "critical" "high" "normal" "low" -}}
{{- range $i, $lower := rest $order -}}
{{- $upper := index $order $i -}}
{{- if ge (int64 (index $m $lower)) (int64 (index $m $upper)) -}}
{{- fail (printf "config.priority_mapping.%s: must be below %s (got %d ≥ %d); thresholds must strictly decrease" $lower $upper (int64 (index $m $lower)) (int64 (index $m $upper))) -}}
{{- end -}}
{{- end -}}
{{- if and $m.system_to_catchall (le (int64 $m.system) (int64 $m.critical)) -}}
{{- fail (printf "config.priority_mapping.system: must be above critical (got %d ≤ %d)" (int64 $m.system) (int64 $m.critical)) -}}
{{- end -}}
{{- $naming := include "temper.naming" . | fromJson -}}
{{- $seen := dict -}}
{{- range $tier := list "critical" "high" "normal" "low" "background" -}}
{{- $name := index $naming.classes $tier -}}
{{- if hasKey $seen $name -}}
{{- fail (printf "config.naming.priority_classes.%s: duplicates %s's class %q" $tier (index $seen $name) $name) -}}
{{- end -}}
{{- $_ := set $seen $name $tier -}}
{{- if $.Values.config.naming.migration -}}
{{- range $set := list "infera" "temper" -}}
{{- range $other := list "critical" "high" "normal" "low" "background" -}}
{{- if and (eq $name (printf "%s-%s" $set $other)) (ne $other $tier) -}}
{{- fail (printf "config.naming.priority_classes.%s: is %q, the %s class that migration mode also installs (with %s's value)" $tier $name $other $other) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $layer, $o := .Values.config.layers -}}
{{- if and (hasKey $o "util_range") (not (has $layer (list "system" "critical" "high" "normal"))) -}}
{{- fail (printf "config.layers.%s.util_range: layer %s is an Open layer, which has no CPU allocation and so no util_range" $layer $layer) -}}
{{- end -}}
{{- if hasKey $o "util_range" -}}
{{- if ge (index $o.util_range 0 | float64) (index $o.util_range 1 | float64) -}}
{{- fail (printf "config.layers.%s.util_range: must satisfy 0 ≤ low < high ≤ 1 (got %v)" $layer $o.util_range) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "true" when config.node.placement is "hints" (docs/agent.md, "Hints placement"), the default; "false" for cgroup. */}}
{{- define "temper.hintsPlacement" -}}
{{- $p := .Values.config.node.placement | default "hints" -}}
{{- if not (has $p (list "hints" "cgroup")) -}}
{{- fail (printf "config.node.placement: must be one of cgroup, hints (got %v)" $p) -}}
{{- end -}}
{{- eq $p "hints" -}}
{{- end -}}

{{/* config.toml, in docs/configuration.md's key order; integers rendered as integers. */}}
{{- define "temper.configToml" -}}
{{- $c := .Values.config -}}
# Rendered by the temper Helm chart from .Values.config; see docs/configuration.md.
[priority_mapping]
critical = {{ int64 $c.priority_mapping.critical }}
high = {{ int64 $c.priority_mapping.high }}
normal = {{ int64 $c.priority_mapping.normal }}
low = {{ int64 $c.priority_mapping.low }}
system = {{ int64 $c.priority_mapping.system }}
system_to_catchall = {{ $c.priority_mapping.system_to_catchall }}

[node]
reserved_cpus = {{ int64 $c.node.reserved_cpus }}
cgroup_driver = {{ $c.node.cgroup_driver | quote }}
threads_per_core = {{ int64 $c.node.threads_per_core }}
placement = {{ ternary "hints" "cgroup" (eq (include "temper.hintsPlacement" .) "true") | quote }}

[naming]
names = {{ $c.naming.names | quote }}
migration = {{ $c.naming.migration }}
{{- if $c.naming.annotation_prefix }}
annotation_prefix = {{ $c.naming.annotation_prefix | quote }}
{{- end }}
namespace = {{ .Release.Namespace | quote }}
{{- if $c.naming.priority_classes }}

[naming.priority_classes]
{{- range $tier := list "critical" "high" "normal" "low" "background" }}
{{- with index $c.naming.priority_classes $tier }}
{{ $tier }} = {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}

[webhook]
replace_global_default = {{ $c.webhook.replace_global_default }}
{{- range $layer, $o := $c.layers }}

[layers.{{ $layer }}]
{{- range $k, $v := $o }}
{{- if eq $k "util_range" }}
util_range = [{{ index $v 0 | float64 }}, {{ index $v 1 | float64 }}]
{{- else if has $k (list "slice_us" "min_exec_us") }}
{{ $k }} = {{ int64 $v }}
{{- else if eq $k "yield_ignore" }}
{{ $k }} = {{ float64 $v }}
{{- else if eq $k "growth_algo" }}
{{ $k }} = {{ $v | quote }}
{{- else }}
{{ $k }} = {{ $v }}
{{- end }}
{{- end }}
{{- end }}
{{ end -}}

{{/* DNS names the webhook's serving certificate covers: the Service's, plus tls.extraDNSNames. */}}
{{- define "temper.webhook.dnsNames" -}}
{{- $svc := include "temper.webhook.name" . -}}
{{- $ns := .Release.Namespace -}}
{{- concat (list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns)) .Values.webhook.tls.extraDNSNames | toJson -}}
{{- end -}}

{{/*
The webhook's CA and serving certificate (base64 PEM: ca.crt, tls.crt, tls.key), made once per
render with Helm's genPrivateKey "ecdsa" (P-256), genCAWithKey and genSignedCertWithKey, valid
for webhook.tls.validityDays, and shared by the Secret, the Deployment's checksum and the
MutatingWebhookConfiguration's caBundle. On upgrade the installed Secret is reused while its
names still match and it is more than webhook.tls.renewBeforeDays from expiry; otherwise a new
pair is made and the caBundle trusts the new CA and the installed one ("previous"), so pods
still serving the old certificate stay trusted until they reload (docs/install.md, Rotation).
*/}}
{{- define "temper.webhook.tls" -}}
{{- if not (hasKey .Values "_temperWebhookTLS") -}}
{{- $dns := include "temper.webhook.dnsNames" . | fromJsonArray -}}
{{- $ips := .Values.webhook.tls.extraIPs -}}
{{- $names := printf "%s|%s" ($dns | join ",") ($ips | join ",") | sha256sum | trunc 16 -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "temper.webhook.tlsSecret" .) -}}
{{- $now := now | unixEpoch | atoi -}}
{{- $renewBefore := mul (int .Values.webhook.tls.renewBeforeDays) 86400 -}}
{{- $tls := dict -}}
{{- $existingData := default dict (and $existing $existing.data) -}}
{{- $existingExpiry := dig "metadata" "annotations" "temper.infera.io/certificate-expires" "0" (default dict $existing) | atoi -}}
{{- if and $existing (eq (dig "metadata" "annotations" "temper.infera.io/certificate-names" "" $existing) $names) (hasKey $existingData "ca.crt") (gt $existingExpiry (add $now $renewBefore)) -}}
{{- $tls = dict "ca.crt" (index $existingData "ca.crt") "tls.crt" (index $existingData "tls.crt") "tls.key" (index $existingData "tls.key") "names" $names "expires" (toString $existingExpiry) "previous" "" -}}
{{- else -}}
{{- $days := int .Values.webhook.tls.validityDays -}}
{{- $ca := genCAWithKey "temper-webhook-ca" $days (genPrivateKey "ecdsa") -}}
{{- $cert := genSignedCertWithKey (index $dns 2) $ips $dns $days $ca (genPrivateKey "ecdsa") -}}
{{- $tls = dict "ca.crt" ($ca.Cert | b64enc) "tls.crt" ($cert.Cert | b64enc) "tls.key" ($cert.Key | b64enc) "names" $names "expires" (toString (add $now (mul $days 86400))) "previous" (get $existingData "ca.crt" | default "") -}}
{{- end -}}
{{- $_ := set .Values "_temperWebhookTLS" $tls -}}
{{- end -}}
{{- get .Values "_temperWebhookTLS" | toJson -}}
{{- end -}}

{{/* The MutatingWebhookConfiguration's caBundle (base64): the current CA, plus the replaced one right after a rotation. */}}
{{- define "temper.webhook.caBundle" -}}
{{- $tls := include "temper.webhook.tls" . | fromJson -}}
{{- if $tls.previous -}}
{{- printf "%s%s" (index $tls "ca.crt" | b64dec) ($tls.previous | b64dec) | b64enc -}}
{{- else -}}
{{- index $tls "ca.crt" -}}
{{- end -}}
{{- end -}}

{{/* recursiveReadOnly for the agent's read-only host mounts, unless agent.recursiveReadOnly is "". */}}
{{- define "temper.agent.recursiveReadOnly" -}}
{{- with .Values.agent.recursiveReadOnly -}}
recursiveReadOnly: {{ . }}
{{- end -}}
{{- end -}}
