{{/* Names and labels. */}}
{{- define "kube-oidc-proxy.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kube-oidc-proxy.fullname" -}}
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

{{- define "kube-oidc-proxy.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kube-oidc-proxy.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kube-oidc-proxy.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "kube-oidc-proxy.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "kube-oidc-proxy.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kube-oidc-proxy.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "kube-oidc-proxy.image" -}}
{{- $repo := required "image.repository is required: build the image (README, Container image) and push it to your registry" .Values.image.repository -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repo .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding tls.crt and tls.key (and ca.crt when cert-manager or the chart generated it). */}}
{{- define "kube-oidc-proxy.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "kube-oidc-proxy.fullname" .)) .Values.tls.secretName -}}
{{- end -}}

{{- define "kube-oidc-proxy.dnsNames" -}}
{{- $fullname := include "kube-oidc-proxy.fullname" . -}}
{{- $names := list $fullname (printf "%s.%s" $fullname .Release.Namespace) (printf "%s.%s.svc" $fullname .Release.Namespace) (printf "%s.%s.svc.%s" $fullname .Release.Namespace .Values.tls.clusterDomain) -}}
{{- if .Values.ingress.enabled -}}
{{- range .Values.ingress.hosts -}}
{{- $names = append $names .host -}}
{{- end -}}
{{- end -}}
{{- $names = concat $names .Values.tls.extraDnsNames -}}
{{- toJson (uniq $names) -}}
{{- end -}}

{{/*
The extras added to every impersonated identity, as a JSON map of key -> list of values, from either the
map form or the jetstack CSV form "k1=a,k2=b,k1=c" of extraImpersonationHeaders.headers.
*/}}
{{- define "kube-oidc-proxy.extraHeaders" -}}
{{- $headers := .Values.extraImpersonationHeaders.headers -}}
{{- $out := dict -}}
{{- if kindIs "string" $headers -}}
{{- range $pair := splitList "," $headers -}}
{{- $pair = trim $pair -}}
{{- if $pair -}}
{{- if not (contains "=" $pair) -}}
{{- fail (printf "extraImpersonationHeaders.headers: %q must be formatted as key=value" $pair) -}}
{{- end -}}
{{- $kv := splitn "=" 2 $pair -}}
{{- $_ := set $out $kv._0 (append (get $out $kv._0 | default list) $kv._1) -}}
{{- end -}}
{{- end -}}
{{- else -}}
{{- range $key, $value := $headers -}}
{{- $_ := set $out $key (kindIs "slice" $value | ternary $value (list $value)) -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* Every flag the proxy starts with, one per line. Only flags listed in docs/flags.md. */}}
{{- define "kube-oidc-proxy.args" -}}
{{- $oidc := .Values.oidc -}}
{{- $saIssuers := .Values.serviceAccountIssuers -}}
{{- if .Values.authenticationConfig }}
{{- if or $oidc.issuerUrl $oidc.clientId }}
{{- fail "authenticationConfig and oidc.issuerUrl/oidc.clientId are mutually exclusive: move the issuer into authenticationConfig.jwt" }}
{{- end }}
{{- /* The proxy refuses these at start too (vector 105); failing here saves a crash-looping rollout. */}}
{{- range $i, $jwt := .Values.authenticationConfig.jwt | default list }}
{{- if has (toString (dig "issuer" "url" "" $jwt)) $saIssuers }}
{{- fail (printf "authenticationConfig.jwt[%d].issuer.url must not be one of serviceAccountIssuers: kube-apiserver never lets an OIDC authenticator map service-account tokens" $i) }}
{{- end }}
{{- end }}
- "--authentication-config=/etc/kube-oidc-proxy/authentication/config.yaml"
- {{ printf "--authentication-config-reload-interval=%s" (toString .Values.authentication.reloadInterval) | quote }}
{{- else }}
{{- if has (toString $oidc.issuerUrl) $saIssuers }}
{{- fail "oidc.issuerUrl must not be one of serviceAccountIssuers: kube-apiserver never lets an OIDC authenticator map service-account tokens" }}
{{- end }}
- {{ printf "--oidc-issuer-url=%s" (required "oidc.issuerUrl is required" $oidc.issuerUrl | toString) | quote }}
- {{ printf "--oidc-client-id=%s" (required "oidc.clientId is required" $oidc.clientId | toString) | quote }}
{{- if $oidc.caPEM }}
- "--oidc-ca-file=/etc/kube-oidc-proxy/oidc/ca.pem"
{{- end }}
- {{ printf "--oidc-username-claim=%s" (toString $oidc.usernameClaim) | quote }}
{{- if $oidc.usernamePrefix }}
- {{ printf "--oidc-username-prefix=%s" (toString $oidc.usernamePrefix) | quote }}
{{- end }}
{{- if $oidc.groupsClaim }}
- {{ printf "--oidc-groups-claim=%s" (toString $oidc.groupsClaim) | quote }}
{{- end }}
{{- if $oidc.groupsPrefix }}
- {{ printf "--oidc-groups-prefix=%s" (toString $oidc.groupsPrefix) | quote }}
{{- end }}
{{- if $oidc.signingAlgs }}
- {{ printf "--oidc-signing-algs=%s" (join "," $oidc.signingAlgs | toString) | quote }}
{{- end }}
{{- /* jetstack#194: the jetstack chart rendered these into --oidc-signing-algs. One flag per claim. */}}
{{- range $claim, $value := $oidc.requiredClaims }}
- {{ printf "--oidc-required-claim=%s=%s" (toString $claim) (toString $value) | quote }}
{{- end }}
{{- end }}
{{- if .Values.authentication.requireAllIssuers }}
- "--readiness-require-all-issuers"
{{- end }}
{{- range $saIssuers }}
- {{ printf "--service-account-issuer=%s" (toString .) | quote }}
{{- end }}
- "--secure-port=6443"
- "--tls-cert-file=/etc/kube-oidc-proxy/tls/tls.crt"
- "--tls-private-key-file=/etc/kube-oidc-proxy/tls/tls.key"
- "--readiness-probe-port=8080"
- {{ printf "--shutdown-grace-period=%ss" (toString .Values.shutdownGracePeriodSeconds) | quote }}
- {{ printf "--log-level=%s" (toString .Values.logLevel) | quote }}
{{- if not .Values.impersonation.endUser }}
- "--disable-end-user-impersonation"
{{- end }}
{{- if .Values.tokenPassthrough.enabled }}
- "--token-passthrough"
{{- with .Values.tokenPassthrough.audiences }}
- {{ printf "--token-passthrough-audiences=%s" (join "," .) | quote }}
{{- end }}
{{- end }}
{{- if .Values.disableImpersonation }}
- "--disable-impersonation"
{{- end }}
{{- with .Values.trustedProxies }}
- {{ printf "--trusted-proxies=%s" (join "," .) | quote }}
{{- end }}
{{- with .Values.oidcDiscovery }}
{{- if .enabled }}
- {{ printf "--oidc-discovery-bind-address=0.0.0.0:%d" (int .port) | quote }}
- {{ printf "--oidc-discovery-cache-ttl=%s" (toString .cacheTTL) | quote }}
- {{ printf "--oidc-discovery-client-cache-ttl=%s" (toString .clientCacheTTL) | quote }}
{{- if .publicUrl }}
- {{ printf "--oidc-discovery-public-url=%s" (toString .publicUrl) | quote }}
{{- end }}
{{- if .tls }}
- "--oidc-discovery-tls-cert-file=/etc/kube-oidc-proxy/tls/tls.crt"
- "--oidc-discovery-tls-private-key-file=/etc/kube-oidc-proxy/tls/tls.key"
{{- end }}
{{- end }}
{{- end }}
{{- if .Values.allowReservedIdentities }}
- "--allow-reserved-identities"
{{- end }}
{{- if .Values.extraImpersonationHeaders.clientIP }}
- "--extra-user-header-client-ip"
{{- end }}
{{- range $key, $values := include "kube-oidc-proxy.extraHeaders" . | fromJson }}
{{- range $values }}
- {{ printf "--extra-user-headers=%s=%s" (toString $key) (toString .) | quote }}
{{- end }}
{{- end }}
{{- include "kube-oidc-proxy.auditArgs" . }}
{{- range $flag, $value := .Values.extraArgs }}
{{- if kindIs "slice" $value }}
{{- range $value }}
- {{ printf "--%s=%s" (toString $flag) (toString .) | quote }}
{{- end }}
{{- else }}
- {{ printf "--%s=%s" (toString $flag) (toString $value) | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "kube-oidc-proxy.terminationGracePeriodSeconds" -}}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds -}}
{{- /* With an audit webhook, the proxy may spend up to 15 s more delivering buffered events after the drain. */}}
{{- $auditFlush := ternary 15 0 (ne (include "kube-oidc-proxy.auditWebhookSecret" .) "") -}}
{{- add .Values.preStopSleepSeconds .Values.shutdownGracePeriodSeconds 10 $auditFlush -}}
{{- else -}}
{{- if le (int .Values.terminationGracePeriodSeconds) (add .Values.preStopSleepSeconds .Values.shutdownGracePeriodSeconds | int) -}}
{{- fail "terminationGracePeriodSeconds must exceed preStopSleepSeconds + shutdownGracePeriodSeconds, or the kubelet kills streams before the proxy has drained them" -}}
{{- end -}}
{{- .Values.terminationGracePeriodSeconds -}}
{{- end -}}
{{- end -}}

{{- /* The webhook's kubeconfig Secret: the one named in values, or the chart's own; empty without a webhook. */}}
{{- define "kube-oidc-proxy.auditWebhookSecret" -}}
{{- $webhook := .Values.audit.webhook -}}
{{- if and .Values.audit.policy $webhook.existingSecret -}}
{{- $webhook.existingSecret -}}
{{- else if and .Values.audit.policy $webhook.kubeconfig -}}
{{- include "kube-oidc-proxy.fullname" . }}-audit-webhook
{{- end -}}
{{- end -}}

{{- /* A log file under this directory gets an emptyDir there (the root filesystem is read-only). */}}
{{- define "kube-oidc-proxy.auditLogDir" -}}/var/log/kube-oidc-proxy/{{- end -}}

{{- define "kube-oidc-proxy.auditLogVolume" -}}
{{- $path := toString .Values.audit.log.path -}}
{{- if and .Values.audit.policy (hasPrefix (include "kube-oidc-proxy.auditLogDir" .) $path) -}}true{{- end -}}
{{- end -}}

{{- /* --audit-* flags, only with a policy: without one the proxy records nothing and would only warn. */}}
{{- define "kube-oidc-proxy.auditArgs" -}}
{{- $audit := .Values.audit -}}
{{- if $audit.policy }}
{{- if and $audit.webhook.kubeconfig $audit.webhook.existingSecret }}
{{- fail "audit.webhook: set kubeconfig or existingSecret, not both" }}
{{- end }}
- "--audit-policy-file=/etc/kube-oidc-proxy/audit/policy.yaml"
{{- if $audit.log.path }}
- {{ printf "--audit-log-path=%s" (toString $audit.log.path) | quote }}
{{- if ne (toString $audit.log.path) "-" }}
- {{ printf "--audit-log-maxage=%d" (int $audit.log.maxAge) | quote }}
- {{ printf "--audit-log-maxbackup=%d" (int $audit.log.maxBackup) | quote }}
- {{ printf "--audit-log-maxsize=%d" (int $audit.log.maxSize) | quote }}
{{- end }}
{{- end }}
{{- if include "kube-oidc-proxy.auditWebhookSecret" . }}
{{- $batch := $audit.webhook.batch }}
- "--audit-webhook-config-file=/etc/kube-oidc-proxy/audit-webhook/kubeconfig"
- {{ printf "--audit-webhook-mode=%s" (toString $audit.webhook.mode) | quote }}
- {{ printf "--audit-webhook-initial-backoff=%s" (toString $audit.webhook.initialBackoff) | quote }}
{{- if eq (toString $audit.webhook.mode) "batch" }}
- {{ printf "--audit-webhook-batch-buffer-size=%d" (int $batch.bufferSize) | quote }}
- {{ printf "--audit-webhook-batch-max-size=%d" (int $batch.maxSize) | quote }}
- {{ printf "--audit-webhook-batch-max-wait=%s" (toString $batch.maxWait) | quote }}
- {{ printf "--audit-webhook-batch-throttle-enable=%t" $batch.throttleEnable | quote }}
- {{ printf "--audit-webhook-batch-throttle-qps=%v" $batch.throttleQps | quote }}
- {{ printf "--audit-webhook-batch-throttle-burst=%d" (int $batch.throttleBurst) | quote }}
{{- end }}
{{- end }}
{{- else if or $audit.webhook.kubeconfig $audit.webhook.existingSecret }}
{{- fail "audit.webhook is set but audit.policy is empty: without a policy no audit events are recorded" }}
{{- end }}
{{- end -}}
