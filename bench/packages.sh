# Sourced by bench/run and bench/profile: installs from Debian's packages what a script needs
# when it is missing, since a fresh machine has none of it.
#
#   ensure_packages COMMAND[:PACKAGE] ...    e.g. ensure_packages nginx jq valgrind

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else echo "need root to run: $*" >&2; return 1; fi
}

ensure_packages() {
    local wanted missing=()
    for wanted in "$@"; do
        local cmd=${wanted%%:*} package=${wanted#*:}
        # nginx lives in /usr/sbin, which is not on every user's PATH.
        command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("$package")
    done
    [ "${#missing[@]}" -gt 0 ] || return 0
    printf '\n==> installing %s (Debian packages)\n' "${missing[*]}" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}
