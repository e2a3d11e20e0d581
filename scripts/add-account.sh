#!/usr/bin/env bash
# Adds (or rotates) one KT Cloud account of ktcloud-lb-exporter on Kubernetes.
#
#   CLOUD_ID=... CLOUD_PASSWORD=... scripts/add-account.sh NAME --zones ZONE[,ZONE...] [--namespace NS] [--dry-run]
#
#   1. creates or updates the Secret NAME in NS (default: monitoring) with the keys CLOUD_ID,
#      CLOUD_PASSWORD and CLOUD_ZONE, labelled app.kubernetes.io/component=account;
#   2. adds the account's line to k8s-manifests/accounts/secrets.yaml unless it is there.
#
# The credentials come from the environment (or a prompt on a terminal), never from the
# command line: arguments show up in shell history and `ps`. They reach kubectl on stdin.
# If the line already exists (another namespace has the account, or a rotation), the running
# pods load the Secret within a minute or two with no restart. A new line changes the pod
# template: commit it (ArgoCD) or run scripts/deploy.sh, and the StatefulSet rolls once.
#
# --dry-run (or DRY_RUN=1) prints each command instead of running it; the output is itself a
# shell script, with "$CLOUD_ID" and "$CLOUD_PASSWORD" standing for the credentials.
set -euo pipefail

usage() {
  cat >&2 <<'EOF'
usage: scripts/add-account.sh NAME --zones ZONE[,ZONE...] [--namespace NS] [--dry-run]
  NAME          the account's name: its Secret and its folder (lowercase letters, digits, "-")
  --zones       comma-separated KT Cloud zones: DX-M1, DX-Central, DX-DCN-CJ, DX-G, DX-G-YS
  --namespace   where the exporter runs (default monitoring; dev: monitoring-dev)
  --dry-run (or DRY_RUN=1) prints the commands instead of running them
  credentials: environment CLOUD_ID and CLOUD_PASSWORD, or prompted on a terminal
EOF
  exit 2
}

# The zones of src/config/zones.ts (BUILTIN_ZONES), the ones the shipped config knows.
ZONES=(DX-M1 DX-Central DX-DCN-CJ DX-G DX-G-YS)
LIST_FILE=k8s-manifests/accounts/secrets.yaml

case ${DRY_RUN:-0} in 1 | true | yes) DRY_RUN=1 ;; *) DRY_RUN=0 ;; esac
namespace=monitoring
zones=
positional=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --zones | --namespace)
      [[ $# -ge 2 ]] || { echo "add-account.sh: $1 needs a value" >&2; usage; }
      if [[ $1 == --zones ]]; then zones=$2; else namespace=$2; fi
      shift
      ;;
    --zones=*) zones=${1#--zones=} ;;
    --namespace=*) namespace=${1#--namespace=} ;;
    -h | --help) usage ;;
    -*) echo "add-account.sh: unknown option: $1" >&2; usage ;;
    *) positional+=("$1") ;;
  esac
  shift
done
[[ ${#positional[@]} -eq 1 ]] || usage
name=${positional[0]}

# A Secret name and a folder the exporter accepts: a DNS label (lowercase, digits, "-").
if [[ ! $name =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]]; then
  echo "add-account.sh: NAME must be lowercase letters, digits and \"-\" (a Kubernetes name), got: $name" >&2
  exit 2
fi
if [[ ! $namespace =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]]; then
  echo "add-account.sh: --namespace must be a Kubernetes namespace name, got: $namespace" >&2
  exit 2
fi
[[ -n $zones ]] || { echo "add-account.sh: --zones is required" >&2; usage; }
IFS=, read -r -a zone_list <<<"$zones"
for zone in "${zone_list[@]}"; do
  known=0
  for z in "${ZONES[@]}"; do [[ $zone == "$z" ]] && known=1; done
  if [[ $known == 0 ]]; then
    echo "add-account.sh: unknown zone \"$zone\" (known: ${ZONES[*]})" >&2
    exit 2
  fi
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

# The credentials: from the environment, else asked for on a terminal (not echoed).
read_credential() {
  local var=$1 prompt=$2 value
  value=${!var:-}
  if [[ -z $value ]]; then
    if [[ ! -t 0 ]]; then
      echo "add-account.sh: set $var in the environment (no terminal to ask on)" >&2
      exit 2
    fi
    if [[ $var == CLOUD_PASSWORD ]]; then read -r -s -p "$prompt: " value && echo >&2; else read -r -p "$prompt: " value; fi
  fi
  # The Secret is written as KEY=VALUE lines: a newline would end the value early.
  if [[ -z $value || $value == *$'\n'* ]]; then
    echo "add-account.sh: $var must be one non-empty line" >&2
    exit 2
  fi
  printf -v "$var" '%s' "$value"
}

labels=(app.kubernetes.io/name=ktcloud-lb-exporter app.kubernetes.io/component=account)
create=(kubectl -n "$namespace" create secret generic "$name" --from-env-file=/dev/stdin --dry-run=client -o yaml)
label=(kubectl label --local -f - "${labels[@]}" -o yaml)
apply=(kubectl -n "$namespace" apply -f -)
line="              - secret: { name: $name, optional: true, items: [{ key: CLOUD_ID, path: $name/CLOUD_ID }, { key: CLOUD_PASSWORD, path: $name/CLOUD_PASSWORD }, { key: CLOUD_ZONE, path: $name/CLOUD_ZONE }] }"
listed=0
grep -qF -- "{ name: $name, optional: true," "$LIST_FILE" && listed=1

if [[ $DRY_RUN == 1 ]]; then
  printf '# add-account.sh %s (dry run), from %s\n' "$name" "$PWD"
  # create | label | apply: idempotent, so the same command rotates the credentials.
  printf '%s' "printf 'CLOUD_ID=%s\\nCLOUD_PASSWORD=%s\\nCLOUD_ZONE=%s\\n' \"\$CLOUD_ID\" \"\$CLOUD_PASSWORD\" $(quote "$zones") | "
  out=""
  for arg in "${create[@]}"; do out+="$(quote "$arg") "; done
  out+="| "
  for arg in "${label[@]}"; do out+="$(quote "$arg") "; done
  out+="| "
  for arg in "${apply[@]}"; do out+="$(quote "$arg") "; done
  printf '%s\n' "${out% }"
  if [[ $listed == 1 ]]; then
    printf '# %s is already listed in %s: the running pods pick the Secret up, no restart\n' "$name" "$LIST_FILE"
  else
    printf "printf '%%s\\\\n' %s >> %s\n" "$(quote "$line")" "$LIST_FILE"
  fi
  exit 0
fi

read_credential CLOUD_ID 'KT Cloud ID (e-mail)'
read_credential CLOUD_PASSWORD 'KT Cloud password'
# printf is a shell builtin: the credentials never appear in any process's arguments.
printf 'CLOUD_ID=%s\nCLOUD_PASSWORD=%s\nCLOUD_ZONE=%s\n' "$CLOUD_ID" "$CLOUD_PASSWORD" "$zones" | "${create[@]}" | "${label[@]}" | "${apply[@]}"

if [[ $listed == 1 ]]; then
  echo "$name is already listed in $LIST_FILE: the running pods load it within a minute or two, no restart." >&2
else
  printf '%s\n' "$line" >>"$LIST_FILE"
  echo "Added $name to $LIST_FILE. Deploy it: commit and push (ArgoCD), or scripts/deploy.sh <env> deploy; the pods roll once." >&2
fi
