#!/usr/bin/env bash
# Installs and reaches ArgoCD, which deploys ktcloud-lb-exporter from the GitOps repository.
#
#   scripts/setup-argocd.sh <install|status|password|port-forward> [--dry-run]
#
#   install       install ArgoCD ($ARGOCD_VERSION) into namespace argocd and wait for it
#   status        show ArgoCD's pods and the Applications
#   password      print the initial admin password
#   port-forward  serve the ArgoCD UI on https://localhost:$ARGOCD_PORT (default 8080)
#
# --dry-run (or DRY_RUN=1) prints each kubectl command instead of running it; the output is
# itself a shell script.
set -euo pipefail

usage() {
  cat >&2 <<'EOF'
usage: scripts/setup-argocd.sh <install|status|password|port-forward> [--dry-run]
  install        install ArgoCD (ARGOCD_VERSION, default v2.14.11) into namespace argocd
  status         show ArgoCD's pods and the Applications
  password       print the initial admin password
  port-forward   serve the UI on https://localhost:8080 (port: ARGOCD_PORT)
  --dry-run (or DRY_RUN=1) prints the commands instead of running them
EOF
  exit 2
}

case ${DRY_RUN:-0} in 1 | true | yes) DRY_RUN=1 ;; *) DRY_RUN=0 ;; esac
# Pinned so that every install is the same; raise it deliberately.
ARGOCD_VERSION=${ARGOCD_VERSION:-v2.14.11}
ARGOCD_PORT=${ARGOCD_PORT:-8080}
positional=()
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=1 ;;
    -h | --help) usage ;;
    -*) echo "setup-argocd.sh: unknown option: $arg" >&2; usage ;;
    *) positional+=("$arg") ;;
  esac
done
[[ ${#positional[@]} -eq 1 ]] || usage
action=${positional[0]}
case "$action" in
  install | status | password | port-forward) ;;
  *) echo "setup-argocd.sh: unknown action: $action" >&2; usage ;;
esac
[[ $ARGOCD_VERSION =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "setup-argocd.sh: ARGOCD_VERSION must look like v2.14.11" >&2; exit 2; }
[[ $ARGOCD_PORT =~ ^[0-9]+$ ]] || { echo "setup-argocd.sh: ARGOCD_PORT must be a port number" >&2; exit 2; }

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

[[ $DRY_RUN == 1 ]] && printf '# setup-argocd.sh %s (dry run), from %s\n' "$action" "$PWD"

case "$action" in
  install)
    if [[ $DRY_RUN == 1 ]]; then
      echo 'kubectl create namespace argocd --dry-run=client -o yaml | kubectl apply -f -'
    else
      kubectl create namespace argocd --dry-run=client -o yaml | kubectl apply -f -
    fi
    # Server-side: the ApplicationSet CRD is too large for the last-applied annotation.
    run kubectl apply -n argocd --server-side --force-conflicts \
      -f "https://raw.githubusercontent.com/argoproj/argo-cd/$ARGOCD_VERSION/manifests/install.yaml"
    run kubectl -n argocd rollout status deployment/argocd-server --timeout=300s
    run kubectl -n argocd rollout status statefulset/argocd-application-controller --timeout=300s
    [[ $DRY_RUN == 1 ]] || echo "ArgoCD is up. Register an environment: scripts/deploy.sh <dev|staging|prod> argocd"
    ;;
  status)
    run kubectl -n argocd get pods
    run kubectl -n argocd get applications.argoproj.io
    ;;
  password)
    # Decoded by kubectl itself: no base64 binary needed.
    run kubectl -n argocd get secret argocd-initial-admin-secret -o 'go-template={{.data.password | base64decode}}{{"\n"}}'
    ;;
  port-forward)
    run kubectl -n argocd port-forward svc/argocd-server "$ARGOCD_PORT:443"
    ;;
esac
