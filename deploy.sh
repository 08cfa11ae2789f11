#!/usr/bin/env bash
# Deploys wani to a server that provision.sh set up: builds the release binary, copies it to
# PREFIX/releases/<version>-<git sha>, checks the server's config with it, switches the
# PREFIX/current symlink atomically, restarts the service, and waits for /healthz. A release that
# is not healthy in time is rolled back by itself. Each step prints the time it took.
#
#   deploy.sh ENV [confirm] [--binary FILE]   deploy (prod needs the word confirm)
#   deploy.sh ENV --rollback [confirm]        switch back to the previous release
#   deploy.sh ENV --status                    running version, uptime, health, backup, releases
#
# ENV's settings come from deploy.conf beside this script, or DEPLOY_CONFIG=FILE; see
# deploy/deploy.example.conf. The build is `cargo build --release --locked` on this machine,
# which must match the server's architecture and have a glibc no newer than the server's (build
# on the server's Ubuntu LTS release, or an older one, e.g. in a container): deploy.sh compares
# both before copying anything.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

usage() {
    sed -n '7,9s/^#   //p' "$0" | sed 's/^/usage: /' >&2
    exit 2
}
die() {
    echo "deploy.sh: $*" >&2
    exit 1
}

# --- command line ------------------------------------------------------------------------------
[[ $# -ge 1 ]] || usage
env_name=$1
shift
action=deploy confirm="" binary=""
while [[ $# -gt 0 ]]; do
    case $1 in
        confirm) confirm=1 ;;
        --rollback) action=rollback ;;
        --status) action=status ;;
        --binary)
            [[ $# -ge 2 ]] || usage
            binary=$2
            shift
            ;;
        -h | --help) usage ;;
        *) echo "deploy.sh: unknown argument $1" >&2; usage ;;
    esac
    shift
done
[[ $env_name =~ ^[a-z0-9_-]+$ ]] || die "ENV must be a name like dev or prod, not $env_name"
if [[ $env_name == prod && $action != status && -z $confirm ]]; then
    die "prod changes only with the word confirm: deploy.sh prod confirm"
fi

# --- the deploy config -------------------------------------------------------------------------
deploy_config=${DEPLOY_CONFIG:-$here/deploy.conf}
[[ -f $deploy_config ]] ||
    die "no $deploy_config: copy deploy/deploy.example.conf there and set each host"

# setting KEY DEFAULT: ENV.KEY from the deploy config, else DEFAULT.
setting() {
    local value
    value=$(awk -v key="$env_name.$1" '
        { sub(/#.*/, "") }
        {
            eq = index($0, "="); if (!eq) next
            k = substr($0, 1, eq - 1); v = substr($0, eq + 1)
            gsub(/^[ \t]+|[ \t]+$/, "", k); gsub(/^[ \t]+|[ \t]+$/, "", v)
            if (k == key) found = v
        }
        END { print found }
    ' "$deploy_config")
    printf '%s' "${value:-$2}"
}
host=$(setting host "")
[[ -n $host ]] || die "$deploy_config sets no $env_name.host"
port=$(setting port 22)
prefix=$(setting prefix /opt/wani)
config=$(setting config /etc/wani/config.toml)
restart=$(setting restart "systemctl restart wani")
health_url=$(setting health_url http://127.0.0.1:8080/healthz)
health_secs=$(setting health_secs 30)
keep=$(setting keep 5)
ssh_config=$(setting ssh_config "")
[[ $health_secs =~ ^[0-9]+$ && $keep =~ ^[0-9]+$ && $keep -ge 2 ]] ||
    die "$env_name.health_secs must be a number of seconds and $env_name.keep at least 2"

# --- ssh: one connection for every step --------------------------------------------------------
control=$(mktemp -d "${TMPDIR:-/tmp}/wani-deploy.XXXXXX")
ssh_args=(-p "$port" -o BatchMode=yes -o ControlMaster=auto -o "ControlPath=$control/ssh"
    -o ControlPersist=120)
[[ -n $ssh_config ]] && ssh_args=(-F "$ssh_config" "${ssh_args[@]}")
cleanup() {
    ssh "${ssh_args[@]}" -O exit "$host" 2>/dev/null || true
    rm -rf "$control"
}
trap cleanup EXIT

# on_server FUNCTION ARGS...: runs one of the functions below on the server, as bash.
on_server() {
    local args="" a
    for a in "$@"; do args+=" $(printf '%q' "$a")"; done
    # shellcheck disable=SC2086 # the list of names is meant to split
    { declare -f $server_functions; echo "set -euo pipefail; $args"; } |
        ssh "${ssh_args[@]}" "$host" bash -s
}

# --- what runs on the server -------------------------------------------------------------------
server_functions="machine find_release switch link set_link check_config_with restart_with health prune status"

# machine: the architecture and glibc version, to check the binary against.
machine() {
    echo "$(uname -m) $(getconf GNU_LIBC_VERSION | awk '{print $2}')"
}

# find_release PREFIX SHA256 NAME: "NAME there" for a release holding exactly these bytes, else
# "NAME new" with a free name: NAME, or NAME.2, NAME.3 ... when NAME holds other bytes (a rebuilt
# dirty tree).
find_release() {
    local prefix=$1 sum=$2 name=$3 dir candidate n=1
    mkdir -p "$prefix/releases"
    for dir in "$prefix"/releases/*/; do
        [[ -f $dir/wani.sha256 ]] || continue
        if [[ $(cat "$dir/wani.sha256") == "$sum" ]]; then
            echo "$(basename "$dir") there"
            return
        fi
    done
    candidate=$name
    while [[ -e $prefix/releases/$candidate ]]; do
        n=$((n + 1))
        candidate=$name.$n
    done
    echo "$candidate new"
}

# upload PREFIX NAME SHA256: the binary from stdin into PREFIX/releases/NAME, whole or not at all.
upload() {
    local prefix=$1 name=$2 sum=$3 partial="$1/releases/.$2.partial"
    rm -rf "$partial"
    mkdir -p "$partial"
    cat >"$partial/wani"
    [[ $(sha256sum "$partial/wani" | cut -d' ' -f1) == "$sum" ]] || {
        rm -rf "$partial"
        echo "the copy on the server does not match (sha256)" >&2
        return 1
    }
    chmod 0755 "$partial/wani"
    # Recognises the same bytes at the next deploy without reading every release again.
    echo "$sum" >"$partial/wani.sha256"
    mv -T "$partial" "$prefix/releases/$name"
}

# link PREFIX NAME: the release the symlink PREFIX/NAME points at, or nothing.
link() {
    local target
    target=$(readlink "$1/$2" 2>/dev/null || true)
    echo "${target#releases/}"
}

# set_link PREFIX NAME RELEASE: points the symlink PREFIX/NAME at RELEASE (none: removes it).
set_link() {
    if [[ -z $3 ]]; then
        rm -f "$1/$2"
        return
    fi
    ln -sfn "releases/$3" "$1/$2.new"
    mv -T "$1/$2.new" "$1/$2"
}

# check_config_with PREFIX NAME CONFIG: the release's own `wani check-config` on the server's
# config, so a release never starts on a config it cannot read.
check_config_with() {
    [[ -x $1/releases/$2/wani ]] || { echo "there is no release $2" >&2; return 1; }
    "$1/releases/$2/wani" check-config --config "$3"
}

# restart_with COMMAND: the configured restart command, as a shell line. Prints the server's
# clock (epoch seconds) from before it, which the health check compares processes with.
restart_with() {
    date +%s
    bash -c "$1" >&2
}

# switch PREFIX NAME: points current at releases/NAME and previous at what current was, each
# with a rename, which is atomic. Prints the release it replaced.
switch() {
    local prefix=$1 name=$2 old
    [[ -x $prefix/releases/$name/wani ]] || { echo "there is no release $name" >&2; return 1; }
    old=$(readlink "$prefix/current" 2>/dev/null || true)
    old=${old#releases/}
    if [[ -n $old && $old != "$name" ]]; then
        ln -sfn "releases/$old" "$prefix/previous.new"
        mv -T "$prefix/previous.new" "$prefix/previous"
    fi
    ln -sfn "releases/$name" "$prefix/current.new"
    mv -T "$prefix/current.new" "$prefix/current"
    echo "${old:-none}"
}

# health URL SECS SINCE: waits up to SECS for URL to answer ok from a process started at SINCE
# (epoch seconds) or later.
health() {
    local url=$1 secs=$2 since=$3 start=$SECONDS body uptime
    while ((SECONDS - start <= secs)); do
        if body=$(curl -fsS --max-time 2 "$url" 2>/dev/null) && [[ $body == *'"ok":true'* ]]; then
            uptime=$(sed -n 's/.*"uptime_secs":\([0-9]*\).*/\1/p' <<<"$body")
            # A process older than the restart is the old release still answering (uptime is
            # whole seconds, rounded down: one second of slack).
            if [[ -n $uptime ]] && (($(date +%s) - uptime >= since - 1)); then
                echo "$body"
                return 0
            fi
        fi
        sleep 0.5
    done
    echo "no healthy answer from $url within $secs s${body:+ (last: $body)}" >&2
    return 1
}

# prune PREFIX KEEP: removes all but the KEEP newest releases, never current or previous.
prune() {
    local prefix=$1 keep=$2 current previous dir n=0
    current=$(readlink "$prefix/current" 2>/dev/null || true)
    previous=$(readlink "$prefix/previous" 2>/dev/null || true)
    while IFS= read -r dir; do
        n=$((n + 1))
        ((n > keep)) || continue
        [[ releases/$dir == "$current" || releases/$dir == "$previous" ]] && continue
        rm -rf "${prefix:?}/releases/$dir"
        echo "removed $dir"
    done < <(ls -1t "$prefix/releases")
}

# status PREFIX URL: what runs, and what is there.
status() {
    local prefix=$1 url=$2 body
    echo "current:  $(readlink "$prefix/current" 2>/dev/null || echo none)"
    echo "previous: $(readlink "$prefix/previous" 2>/dev/null || echo none)"
    if body=$(curl -fsS --max-time 5 "$url" 2>&1); then
        echo "health:   $body"
    else
        echo "health:   DOWN ($body)"
    fi
    # Release names are deploy.sh's own: letters, digits, dots and dashes.
    # shellcheck disable=SC2012
    echo "releases: $(ls -1t "$prefix/releases" 2>/dev/null | tr '\n' ' ')"
}

# --- steps -------------------------------------------------------------------------------------
# step NAME COMMAND...: runs COMMAND, then prints NAME with the time it took.
step() {
    local name=$1 start=$EPOCHREALTIME rc=0
    shift
    echo "==> $name"
    "$@" || rc=$?
    local ms=$(((${EPOCHREALTIME/./} - ${start/./}) / 1000))
    if ((rc == 0)); then
        printf '    %s: %d.%03d s\n' "$name" $((ms / 1000)) $((ms % 1000))
    else
        printf '    %s: FAILED after %d.%03d s\n' "$name" $((ms / 1000)) $((ms % 1000))
    fi
    return $rc
}

build() {
    if [[ -n $binary ]]; then
        [[ -f $binary ]] || die "--binary $binary: no such file"
        echo "    using $binary"
        return
    fi
    (cd "$here" && cargo build --release --locked)
    binary=$here/target/release/wani
}

# The binary must run on the server: same architecture, glibc no newer than the server's.
check_binary() {
    local info arch libc elf need
    info=$(on_server machine)
    read -r arch libc <<<"$info"
    if [[ $(head -c 4 "$binary" | od -An -c | tr -d ' ') != 177ELF ]]; then
        # A wrapper script carries no machine code of its own.
        echo "    not an ELF file: nothing to compare with the server's $arch, glibc $libc"
        return
    fi
    case $(od -An -t u2 -j 18 -N 2 "$binary" | tr -d ' ') in
        62) elf=x86_64 ;;
        183) elf=aarch64 ;;
        *) elf=other ;;
    esac
    [[ $elf == "$arch" ]] || die "the binary is for $elf, the server is $arch"
    need=$(grep -ao 'GLIBC_2\.[0-9]*' "$binary" | sed 's/GLIBC_//' | sort -uV | tail -1)
    if [[ -n $need && $(printf '%s\n%s\n' "$need" "$libc" | sort -V | tail -1) != "$libc" ]]; then
        die "the binary needs glibc $need, the server has $libc: build on the server's release or an older one"
    fi
    echo "    $elf, needs glibc ${need:-none}; the server is $arch with glibc $libc"
}

release_name() {
    local version sha
    version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$here/Cargo.toml" | head -1)
    sha=$(git -C "$here" rev-parse --short=12 HEAD 2>/dev/null || echo nogit)
    git -C "$here" diff --quiet HEAD 2>/dev/null || sha+=-dirty
    echo "$version-$sha"
}

copy() {
    local sum found state
    sum=$(sha256sum "$binary" | cut -d' ' -f1)
    found=$(on_server find_release "$prefix" "$sum" "$(release_name)")
    read -r release state <<<"$found"
    if [[ $state == there ]]; then
        echo "    $release is already on the server"
        return
    fi
    # stdin carries the binary, so the script goes on the command line, quoted here.
    local script
    script="$(declare -f upload); upload $(printf '%q ' "$prefix" "$release" "$sum")"
    # shellcheck disable=SC2029 # expanded here on purpose
    ssh "${ssh_args[@]}" "$host" "bash -c $(printf '%q' "$script")" <"$binary"
    echo "    $prefix/releases/$release ($(wc -c <"$binary") bytes)"
}

check_config() {
    on_server check_config_with "$prefix" "$1" "$config" | sed 's/^/    /'
}

restart_service() {
    restarted_at=$(on_server restart_with "$restart")
}

wait_healthy() {
    local body
    body=$(on_server health "$health_url" "$health_secs" "$restarted_at") || return
    echo "    $body"
}

switch_to() {
    local old
    old=$(on_server switch "$prefix" "$1") || return
    echo "    current: releases/$1 (was ${old})"
}

# Back to the release that ran before, after a failed start.
roll_back() {
    local to=$1
    step "roll back to $to" switch_to "$to" &&
        step "restart" restart_service &&
        step "health check" wait_healthy
}

deploy() {
    step "build" build
    step "check the binary against the server" check_binary
    step "copy" copy
    step "check the config with the new release" check_config "$release"
    local before before_previous
    before=$(on_server link "$prefix" current)
    before_previous=$(on_server link "$prefix" previous)
    step "switch current to $release" switch_to "$release"
    if step "restart" restart_service && step "health check" wait_healthy; then
        step "prune old releases (keep $keep)" on_server prune "$prefix" "$keep" | sed 's/^removed/    removed/'
        echo "deployed $release to $env_name"
        return
    fi
    if [[ -z $before || $before == "$release" ]]; then
        die "$release is not healthy and there is no earlier release to go back to"
    fi
    echo "deploy.sh: $release is not healthy; rolling back to $before" >&2
    roll_back "$before" || die "the rollback to $before is not healthy either: see the service's log"
    # As if the failed release had never been: --rollback goes where it went before.
    on_server set_link "$prefix" previous "$before_previous"
    die "$release was not healthy; $before runs again"
}

rollback() {
    local previous
    previous=$(on_server link "$prefix" previous)
    [[ -n $previous ]] || die "there is no previous release on $env_name to go back to"
    step "check the config with $previous" check_config "$previous"
    roll_back "$previous" || die "$previous is not healthy: see the service's log"
    echo "rolled $env_name back to $previous"
}

case $action in
    deploy) deploy ;;
    rollback) rollback ;;
    status) on_server status "$prefix" "$health_url" ;;
esac
