#!/usr/bin/env bash
# Deploys ktcloud-lb-exporter to one environment, or checks it.
#
#   scripts/deploy.sh <dev|staging|prod> <deploy|argocd|check> [--dry-run]
#
#   deploy  kubectl apply -k k8s-manifests/overlays/<env>, then wait for the rollout
#   argocd  register the environment's ArgoCD Application and sync it (prod: the manual sync)
#   check   show the workload and ask the exporter's /readyz through the API server
#
# --dry-run (or DRY_RUN=1) prints each kubectl/argocd command instead of running it; the
# output is itself a shell script. Production changes ask for confirmation unless CONFIRM=yes.
set -euo pipefail

usage() {
  cat >&2 <<'EOF'
usage: scripts/deploy.sh <dev|staging|prod> <deploy|argocd|check> [--dry-run]
  deploy   apply k8s-manifests/overlays/<env> with kubectl and wait for the rollout
  argocd   apply k8s-manifests/argocd-apps/<env>.yaml and sync the Application
  check    show the StatefulSet, its pods and the exporter's /readyz
  --dry-run (or DRY_RUN=1) prints the commands instead of running them
EOF
  exit 2
}

case ${DRY_RUN:-0} in 1 | true | yes) DRY_RUN=1 ;; *) DRY_RUN=0 ;; esac
positional=()
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=1 ;;
    -h | --help) usage ;;
    -*) echo "deploy.sh: unknown option: $arg" >&2; usage ;;
    *) positional+=("$arg") ;;
  esac
done
[[ ${#positional[@]} -eq 2 ]] || usage
env_name=${positional[0]}
action=${positional[1]}

case "$env_name" in
  dev) namespace=monitoring-dev ;;
  staging) namespace=monitoring-staging ;;
  prod) namespace=monitoring ;;
  *) echo "deploy.sh: unknown environment: $env_name" >&2; usage ;;
esac
case "$action" in
  deploy | argocd | check) ;;
  *) echo "deploy.sh: unknown action: $action" >&2; usage ;;
esac

# Paths in commands are relative to the repository root, wherever the script is called from.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
overlay=k8s-manifests/overlays/$env_name
app=ktcloud-lb-exporter-$env_name
statefulset=statefulset/ktcloud-lb-exporter

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

confirm_prod() {
  [[ $env_name == prod && $DRY_RUN != 1 ]] || return 0
  [[ ${CONFIRM:-} == yes ]] && return 0
  if [[ ! -t 0 ]]; then
    echo "deploy.sh: refusing to change prod without a terminal; set CONFIRM=yes" >&2
    exit 1
  fi
  local answer
  read -r -p "Change production (namespace $namespace)? Type yes: " answer
  [[ $answer == yes ]] || { echo "deploy.sh: aborted" >&2; exit 1; }
}

# Idempotent namespace creation (no Namespace object in the manifests: see base/kustomization.yaml).
ensure_namespace() {
  if [[ $DRY_RUN == 1 ]]; then
    printf 'kubectl create namespace %s --dry-run=client -o yaml | kubectl apply -f -\n' "$(quote "$namespace")"
  else
    kubectl create namespace "$namespace" --dry-run=client -o yaml | kubectl apply -f -
  fi
}

[[ $DRY_RUN == 1 ]] && printf '# deploy.sh %s %s (dry run), from %s\n' "$env_name" "$action" "$PWD"

case "$action" in
  deploy)
    confirm_prod
    ensure_namespace
    run kubectl apply -k "$overlay"
    run kubectl -n "$namespace" rollout status "$statefulset" --timeout=300s
    ;;
  argocd)
    confirm_prod
    run kubectl apply -n argocd -f "k8s-manifests/argocd-apps/$env_name.yaml"
    run argocd app sync "$app"
    run argocd app wait "$app" --health --timeout 300
    ;;
  check)
    run kubectl -n "$namespace" get statefulset,pods,service -l app.kubernetes.io/name=ktcloud-lb-exporter -o wide
    run kubectl -n "$namespace" rollout status "$statefulset" --timeout=60s
    # Through the API server's service proxy: no port-forward needed.
    run kubectl get --raw "/api/v1/namespaces/$namespace/services/ktcloud-lb-exporter:metrics/proxy/readyz"
    ;;
esac
