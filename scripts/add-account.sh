#!/usr/bin/env bash
# Adds (or rotates) one KT Cloud account of ktcloud-lb-exporter on Kubernetes: one Secret, no
# edit in git, no pod restart.
#
#   CLOUD_ID=... CLOUD_PASSWORD=... scripts/add-account.sh NAME --zones ZONE[,ZONE...]|auto [--namespace NS] [--dry-run]
#
# The exporter's projected volume pre-declares optional slots ktcloud-account-00 ... -63
# (k8s-manifests/accounts/secrets.yaml). The script lists the Secrets of NS (default monitoring)
# with `kubectl get secrets` and:
#   - NAME already in a slot (its ACCOUNT_NAME key): updates that Secret (a rotation);
#   - NAME pinned in secrets.yaml (a Secret named after the account): updates the Secret NAME;
#   - else: creates the Secret named after the first free slot, with the keys ACCOUNT_NAME=NAME,
#     CLOUD_ID, CLOUD_PASSWORD and CLOUD_ZONE. `kubectl create`, not apply: if another run took
#     the slot meanwhile, this one fails instead of overwriting that account.
# Labels: app.kubernetes.io/component=account, and ktcloud-lb-exporter/account=NAME, so
# `kubectl delete secret -l ktcloud-lb-exporter/account=NAME` removes the account.
# The kubelet projects the Secret into the running pods within a minute or two, and the exporter
# (which watches the folder) loads it: no restart, nothing to commit.
#
# The credentials come from the environment (or a prompt on a terminal), never from the
# command line: arguments show up in shell history and `ps`. They reach kubectl on stdin.
#
# --dry-run (or DRY_RUN=1) still lists the Secrets (read-only, to find the slot) but changes
# nothing: it prints each command instead of running it; the output is itself a shell script,
# with "$CLOUD_ID" and "$CLOUD_PASSWORD" standing for the credentials.
set -euo pipefail

usage() {
  cat >&2 <<'EOF'
usage: scripts/add-account.sh NAME --zones ZONE[,ZONE...]|auto [--namespace NS] [--dry-run]
  NAME          the account's name, its `account` label (lowercase letters, digits, "-")
  --zones       comma-separated KT Cloud zones: DX-M1, DX-Central, DX-DCN-CJ, DX-G, DX-G-YS;
                or auto (the exporter discovers the zones with load balancers)
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
# `auto` stands alone: the exporter finds the zones where the account has load balancers.
if [[ $zones == auto ]]; then zone_list=(); fi
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

# First, so that a run without credentials fails before it asks the cluster anything.
if [[ $DRY_RUN != 1 ]]; then
  read_credential CLOUD_ID 'KT Cloud ID (e-mail)'
  read_credential CLOUD_PASSWORD 'KT Cloud password'
fi

# The slots the manifests declare (the source of truth for how many there are), in order.
mapfile -t slots < <(grep -oE '\{ name: ktcloud-account-[0-9]+, optional: true,' "$LIST_FILE" | grep -oE 'ktcloud-account-[0-9]+')
pinned=0
grep -qF -- "{ name: $name, optional: true, items: [{ key: CLOUD_ID, path: $name/CLOUD_ID }" "$LIST_FILE" && pinned=1

secret=""
mode=create
note=""
if [[ $pinned == 1 ]]; then
  secret=$name
  mode=apply
  note="$name is pinned in $LIST_FILE: its own Secret $name is updated"
else
  # Read-only, also in a dry run: each Secret's name and the account its ACCOUNT_NAME key names.
  template='{{range .items}}{{.metadata.name}}{{"\t"}}{{with .data}}{{with index . "ACCOUNT_NAME"}}{{base64decode .}}{{end}}{{end}}{{"\n"}}{{end}}'
  if ! listing=$(kubectl -n "$namespace" get secrets -o "go-template=$template"); then
    echo "add-account.sh: cannot list the Secrets of namespace $namespace (kubectl get secrets failed)" >&2
    exit 1
  fi
  declare -A taken=()
  owners=()
  while IFS=$'\t' read -r sname account; do
    [[ -n $sname ]] || continue
    taken[$sname]=1
    [[ $sname =~ ^ktcloud-account-[0-9]+$ && $account == "$name" ]] && owners+=("$sname")
  done <<<"$listing"
  if [[ ${#owners[@]} -gt 1 ]]; then
    echo "add-account.sh: Secrets ${owners[*]} all name account $name; the exporter collects none of them until all but one are deleted" >&2
    exit 1
  elif [[ ${#owners[@]} -eq 1 ]]; then
    secret=${owners[0]}
    mode=apply
    note="$name is in slot $secret: the Secret is updated (a rotation)"
  else
    for slot in "${slots[@]}"; do
      if [[ -z ${taken[$slot]:-} ]]; then
        secret=$slot
        break
      fi
    done
    if [[ -z $secret ]]; then
      echo "add-account.sh: all ${#slots[@]} slots of $LIST_FILE are taken in $namespace; add slot lines there (the pods roll once)" >&2
      exit 1
    fi
    note="$secret is the first free slot in $namespace: a new Secret names the account $name"
  fi
fi

labels=(app.kubernetes.io/name=ktcloud-lb-exporter app.kubernetes.io/component=account "ktcloud-lb-exporter/account=$name")
create=(kubectl -n "$namespace" create secret generic "$secret" --from-env-file=/dev/stdin --dry-run=client -o yaml)
label=(kubectl label --local -f - "${labels[@]}" -o yaml)
store=(kubectl -n "$namespace" "$mode" -f -)
# A pinned Secret's folder is the account's name: no ACCOUNT_NAME key (as it always was).
if [[ $pinned == 1 ]]; then
  format='CLOUD_ID=%s\nCLOUD_PASSWORD=%s\nCLOUD_ZONE=%s\n'
  lead=()
else
  format='ACCOUNT_NAME=%s\nCLOUD_ID=%s\nCLOUD_PASSWORD=%s\nCLOUD_ZONE=%s\n'
  lead=("$name")
fi

if [[ $DRY_RUN == 1 ]]; then
  printf '# add-account.sh %s (dry run), from %s\n' "$name" "$PWD"
  printf '# %s\n' "$note"
  out="printf $(quote "$format") "
  for arg in "${lead[@]}"; do out+="$(quote "$arg") "; done
  out+="\"\$CLOUD_ID\" \"\$CLOUD_PASSWORD\" "
  out+="$(quote "$zones") | "
  for arg in "${create[@]}"; do out+="$(quote "$arg") "; done
  out+="| "
  for arg in "${label[@]}"; do out+="$(quote "$arg") "; done
  out+="| "
  for arg in "${store[@]}"; do out+="$(quote "$arg") "; done
  printf '%s\n' "${out% }"
  exit 0
fi

# printf is a shell builtin: the credentials never appear in any process's arguments.
# shellcheck disable=SC2059 # the format is one of the two constants above
if ! printf "$format" "${lead[@]}" "$CLOUD_ID" "$CLOUD_PASSWORD" "$zones" | "${create[@]}" | "${label[@]}" | "${store[@]}"; then
  [[ $mode == create ]] && echo "add-account.sh: creating $secret failed (did another run take the slot? run again)" >&2
  exit 1
fi
echo "$note. The running pods load it within a minute or two, no restart; see /accounts." >&2
