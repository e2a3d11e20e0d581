# Shared by deploy.sh and setup-argocd.sh (sourced, not run): the --dry-run machinery.
# shellcheck shell=bash

# Prints one argument so that the printed line can be pasted into a shell.
quote() {
  if [[ $1 =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}

# Runs a command, or with DRY_RUN=1 prints it instead.
run() {
  if [[ $DRY_RUN == 1 ]]; then
    local out="" arg
    for arg in "$@"; do out+="$(quote "$arg") "; done
    printf '%s\n' "${out% }"
  else
    "$@"
  fi
}
