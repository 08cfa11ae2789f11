#!/usr/bin/env bash
# Turns a fresh Debian or Ubuntu LTS server into one ready for deploy.sh: packages upgraded,
# firewall, fail2ban, unattended security upgrades, nginx (with a Let's Encrypt certificate given
# --domain), the wani user and directories, /etc/wani/config.toml, journald limits and the
# wani.service unit. Idempotent: a second run changes nothing, and a run after an upgrade of this
# repository rewrites only what the templates changed. /etc/wani/config.toml is never overwritten.
#
#   provision.sh HOST [options]     over ssh as root (HOST is [root@]name)
#   provision.sh --local [options]  on this machine, as root
#
# Options:
#   --domain DOMAIN            the site's name; certbot obtains and installs its certificate
#   --email EMAIL              for Let's Encrypt's expiry notices (with --domain)
#   --refresh-weekly DAY HOUR  every week (DAY Mon..Sun, HOUR 0..23): upgrade, stop wani, reboot
#   --backup-s3                ask for (or take from S3_ENDPOINT, S3_BUCKET, S3_REGION,
#                              S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY) the S3 backup's settings
#   --dry-run                  run nothing: print every command, and render the files into
#                              --root DIR (else a new temporary directory) to be read; with
#                              HOST, on HOST (no root needed there)
#   --root DIR                 write files under DIR instead of / (with --dry-run)
#   --wani FILE                the wani binary that checks the config (default: the deployed one)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=deploy/lib.sh
source "$here/deploy/lib.sh"

usage() {
    sed -n '8,9s/^#   /usage: /p' "$0" >&2
    echo "(see the top of $0 for the options)" >&2
    exit 2
}
die() {
    echo "provision.sh: $*" >&2
    exit 1
}

# --- command line ------------------------------------------------------------------------------
host="" local_mode="" domain="" email="" refresh_day="" refresh_hour="" backup_s3=""
dry_run="" root="" wani_bin=""
forward=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --local) local_mode=1 ;;
        --domain | --email | --root | --wani)
            [[ $# -ge 2 ]] || usage
            case $1 in
                --domain) domain=$2 ;;
                --email) email=$2 ;;
                --root) root=$2 ;;
                --wani) wani_bin=$2 ;;
            esac
            [[ $1 == --root || $1 == --wani ]] || forward+=("$1" "$2")
            shift
            ;;
        --refresh-weekly)
            [[ $# -ge 3 ]] || usage
            refresh_day=$2 refresh_hour=$3
            forward+=("$1" "$2" "$3")
            shift 2
            ;;
        --backup-s3) backup_s3=1 ;;
        --dry-run) dry_run=1 ;;
        -h | --help) usage ;;
        -*) echo "provision.sh: unknown option $1" >&2; usage ;;
        *)
            [[ -z $host ]] || usage
            host=$1
            ;;
    esac
    shift
done
[[ -n $host || -n $local_mode ]] || usage
[[ -z $host || -z $local_mode ]] || die "give a HOST or --local, not both"
[[ -z $root || -n $dry_run ]] || die "--root is for --dry-run: a real run writes to /"
[[ -z $wani_bin || -z $host ]] || die "--wani is for --local: over ssh, the deployed wani checks the config"
if [[ -n $domain && ! $domain =~ ^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$ ]]; then
    die "--domain $domain is not a host name (lowercase letters, digits, dots, dashes)"
fi
[[ -z $email || -n $domain ]] || die "--email goes with --domain"
if [[ -n $refresh_day ]]; then
    [[ $refresh_day =~ ^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)$ ]] ||
        die "--refresh-weekly DAY is one of Mon Tue Wed Thu Fri Sat Sun, not $refresh_day"
    [[ $refresh_hour =~ ^([01]?[0-9]|2[0-3])$ ]] ||
        die "--refresh-weekly HOUR is 0 to 23, not $refresh_hour"
fi

# --- the S3 settings, asked for here (also in HOST mode, where the terminal is) -----------------
s3_settings() {
    local name prompt
    for name in S3_ENDPOINT S3_REGION S3_BUCKET S3_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY; do
        [[ -n ${!name:-} ]] && continue
        case $name in
            S3_ENDPOINT) prompt="S3 endpoint URL (empty for AWS): " ;;
            S3_REGION) prompt="S3 region (empty for us-east-1): " ;;
            S3_BUCKET) prompt="S3 bucket: " ;;
            S3_ACCESS_KEY_ID) prompt="S3 access key id: " ;;
            S3_SECRET_ACCESS_KEY) prompt="S3 secret access key: " ;;
        esac
        if [[ $name == S3_SECRET_ACCESS_KEY ]]; then
            read -r -s -p "$prompt" "${name?}" || die "no $name given"
            echo >&2
        else
            read -r -p "$prompt" "${name?}" || die "no $name given"
        fi
        export "${name?}"
    done
    [[ -n $S3_BUCKET && -n $S3_ACCESS_KEY_ID && -n $S3_SECRET_ACCESS_KEY ]] ||
        die "the S3 backup needs a bucket, an access key id and a secret access key"
}

# --- HOST mode: copy this repository's scripts and templates over, run --local there -----------
if [[ -n $host ]]; then
    [[ -n $backup_s3 ]] && s3_settings
    bundle=$(mktemp -d "${TMPDIR:-/tmp}/wani-provision.XXXXXX")
    trap 'rm -rf "$bundle"' EXIT
    cp -r "$here/provision.sh" "$here/deploy" "$here/config.example.toml" "$bundle/"
    args=(--local "${forward[@]}")
    if [[ -n $backup_s3 ]]; then
        args+=(--backup-s3)
        # The secrets travel inside the archive, never on a command line.
        (umask 077 && for name in S3_ENDPOINT S3_REGION S3_BUCKET S3_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY; do
            printf '%s=%q\n' "$name" "${!name}"
        done >"$bundle/s3.env")
    fi
    # A dry run happens on HOST too: what it prints is what that server would get.
    [[ -z $dry_run ]] || args+=(--dry-run ${root:+--root "$root"})
    remote="d=\$(mktemp -d) && tar -xzf - -C \"\$d\" && bash \"\$d/provision.sh\" $(printf '%q ' "${args[@]}"); rc=\$?; rm -rf \"\$d\"; exit \$rc"
    # PROVISION_SSH: the ssh command, with any options (default: ssh).
    read -r -a ssh_command <<<"${PROVISION_SSH:-ssh}"
    tar -czf - -C "$bundle" . | "${ssh_command[@]}" -o BatchMode=yes "$host" "$remote"
    exit
fi

# --- --local: the work ------------------------------------------------------------------------
if [[ -n $dry_run ]]; then
    if [[ -z $root ]]; then
        root=$(mktemp -d "${TMPDIR:-/tmp}/wani-provision-root.XXXXXX")
    fi
    mkdir -p "$root"
    root=$(cd "$root" && pwd)
    echo "dry run: nothing runs; files are rendered under $root"
else
    [[ $(id -u) == 0 ]] || die "run as root (or over ssh as root: provision.sh HOST)"
fi
if [[ -f $here/s3.env ]]; then
    # shellcheck source=/dev/null # written by HOST mode above, on the machine that asked
    source "$here/s3.env"
    rm -f "$here/s3.env"
fi

prefix=/opt/wani
config=/etc/wani/config.toml
data_dir=/var/lib/wani
upstream=127.0.0.1:8080

# run COMMAND...: prints it; runs it unless this is a dry run.
run() {
    echo "+ $*"
    [[ -n $dry_run ]] || "$@"
}

# put PATH MODE OWNER:GROUP < CONTENT: writes PATH (under --root) when its content or mode
# differs; returns 0 when it wrote, 1 when all was already so.
put() {
    local path=$1 mode=$2 owner=$3 target="$root$1" content
    content=$(cat)
    if [[ -f $target ]] && [[ $(cat "$target") == "$content" ]] &&
        [[ $(stat -c %a "$target") == "${mode#0}" ]]; then
        echo "  unchanged $path"
        return 1
    fi
    mkdir -p "$(dirname "$target")"
    (umask 077 && printf '%s\n' "$content" >"$target.new")
    chmod "$mode" "$target.new"
    [[ -n $dry_run ]] || chown "$owner" "$target.new"
    mv -f "$target.new" "$target"
    echo "  wrote $path ($mode $owner)"
    return 0
}

# The wani binary that can read the config: --wani, else the deployed one.
wani=${wani_bin:-$root$prefix/current/wani}

section() { echo; echo "== $*"; }

section "packages"
export DEBIAN_FRONTEND=noninteractive
run apt-get update -q
run apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold full-upgrade
run apt-get -y -q install nginx certbot python3-certbot-nginx fail2ban python3-systemd ufw \
    unattended-upgrades curl

section "unattended security upgrades"
put /etc/apt/apt.conf.d/20auto-upgrades 0644 root:root <<'EOF' || true
APT::Periodic::Update-Package-Lists "1";
APT::Periodic::Unattended-Upgrade "1";
EOF

section "firewall: ssh, http and https only"
run ufw default deny incoming
run ufw default allow outgoing
run ufw allow 22/tcp
run ufw allow 80/tcp
run ufw allow 443/tcp
run ufw --force enable

section "fail2ban"
if put /etc/fail2ban/jail.d/wani.local 0644 root:root <<'EOF'; then
# Written by wani's provision.sh: ssh logins, read from the journal.
[sshd]
enabled = true
backend = systemd
EOF
    run systemctl restart fail2ban
fi
run systemctl enable --now fail2ban

section "the wani user and directories"
if [[ -n $dry_run ]] || ! id -u wani >/dev/null 2>&1; then
    run useradd --system --user-group --home-dir "$data_dir" --shell /usr/sbin/nologin wani
fi
# Searchable but not listable by others: nginx (www-data) reaches the stored files and
# thumbnails, which wani makes public; the database and the rest stay wani's (UMask=0077).
run install -d -o wani -g wani -m 0711 "$data_dir"
run install -d -o root -g wani -m 0750 /etc/wani
run install -d -o root -g root -m 0755 "$prefix" "$prefix/releases"
mkdir -p "$root$data_dir" "$root/etc/wani" "$root$prefix/releases"
# Files stored before wani made them public (0600 from a temporary file) would be 403 for nginx.
for tree in files thumbs; do
    if [[ -d $root$data_dir/$tree ]]; then
        run find "$data_dir/$tree" \( -type d ! -perm 0755 -exec chmod 0755 {} + \) -o \
            \( -type f ! -perm 0644 -exec chmod 0644 {} + \)
    fi
done

section "config: $config"
example=$(cat "$here/config.example.toml")
if [[ -f $root$config ]]; then
    echo "  kept $config (never overwritten)"
    if [[ -f $root/etc/wani/config.example.toml ]] &&
        ! diff -q "$root/etc/wani/config.example.toml" "$here/config.example.toml" >/dev/null; then
        echo "  config.example.toml changed since $config was made; review these changes for it:"
        diff -u --label "the example it was made from" --label "the example now" \
            "$root/etc/wani/config.example.toml" "$here/config.example.toml" | sed 's/^/    /' || true
    fi
else
    # The example with the server's paths; every other key keeps its documented default.
    generated=$(sed -e 's|^data_dir = .*|data_dir = "'"$data_dir"'"|' \
        -e 's|^listen = .*|listen = "'"$upstream"'"|' <<<"$example")
    put "$config" 0640 root:wani <<EOF || true
# Generated by provision.sh on $(date -u +%Y-%m-%d)${domain:+ for $domain} from config.example.toml.
$generated
EOF
fi
put /etc/wani/config.example.toml 0644 root:root <<<"$example" || true

if [[ -n $backup_s3 ]]; then
    section "S3 backup"
    [[ -n ${S3_BUCKET:-} ]] || s3_settings
    put /etc/wani/s3-secret 0400 wani:wani <<<"$S3_SECRET_ACCESS_KEY" || true
    if grep -q '^\[s3\]' "$root$config"; then
        echo "  $config already has an [s3] section: kept as it is"
    else
        {
            cat "$root$config"
            echo
            echo "# The S3 backup, added by provision.sh --backup-s3."
            echo "[s3]"
            [[ -n ${S3_ENDPOINT:-} ]] && printf 'endpoint = "%s"\npath_style = true\n' "$S3_ENDPOINT"
            [[ -n ${S3_REGION:-} ]] && printf 'region = "%s"\n' "$S3_REGION"
            printf 'bucket = "%s"\naccess_key_id = "%s"\n' "$S3_BUCKET" "$S3_ACCESS_KEY_ID"
            echo 'secret_access_key_file = "/etc/wani/s3-secret"'
        } | put "$config" 0640 root:wani || true
    fi
fi

if [[ -x $wani ]]; then
    run "$wani" check-config --config "$root$config"
    [[ -z $dry_run ]] || "$wani" check-config --config "$root$config" | sed 's/^/  /'
else
    echo "  no wani deployed yet: deploy.sh checks the config before it first starts the service"
fi

section "journald limits"
if put /etc/systemd/journald.conf.d/wani.conf 0644 root:root <"$here/deploy/journald.conf"; then
    run systemctl restart systemd-journald
fi

section "the service"
unit_changed=""
text=$(render "$here/deploy/wani.service" plain PREFIX="$prefix" CONFIG="$config" DATA_DIR="$data_dir")
put /etc/systemd/system/wani.service 0644 root:root <<<"$text" && unit_changed=1
if [[ -n $refresh_day ]]; then
    put /etc/systemd/system/wani-refresh.service 0644 root:root \
        <"$here/deploy/wani-refresh.service" && unit_changed=1
    text=$(render "$here/deploy/wani-refresh.timer" plain \
        REFRESH_CALENDAR="$refresh_day *-*-* $(printf '%02d' "$refresh_hour"):00:00")
    put /etc/systemd/system/wani-refresh.timer 0644 root:root <<<"$text" && unit_changed=1
fi
[[ -z $unit_changed ]] || run systemctl daemon-reload
run systemctl enable wani.service
[[ -z $refresh_day ]] || run systemctl enable --now wani-refresh.timer
if [[ -n $unit_changed && -x $root$prefix/current/wani ]]; then
    run systemctl restart wani.service
fi

section "nginx"
max_body=$(largest_post_bytes "$root$config")
cert="/etc/letsencrypt/live/$domain/fullchain.pem"
# site MODE: the rendered site and its snippet, written; 0 when either changed.
site() {
    local changed=1 snippet text
    snippet=$(render "$here/deploy/nginx-files.conf" "$1")
    text=$(render "$here/deploy/nginx-site.conf" "$1" SERVER_NAME="${domain:-_}" \
        LISTEN="80 default_server;
    listen [::]:80 default_server" UPSTREAM="$upstream" DATA_DIR="$data_dir" \
        MAX_BODY_BYTES="$max_body")
    put /etc/nginx/snippets/wani-files.conf 0644 root:root <<<"$snippet" && changed=0
    put /etc/nginx/sites-available/wani 0644 root:root <<<"$text" && changed=0
    return $changed
}
reload_nginx() {
    run nginx -t
    run systemctl reload nginx
}
enabled=""
[[ ! -L $root/etc/nginx/sites-enabled/wani ]] || enabled=1
# enable_site: on the first run, the site takes the default site's place; 0 when it did.
enable_site() {
    [[ -z $enabled ]] || return 1
    run ln -sfn /etc/nginx/sites-available/wani /etc/nginx/sites-enabled/wani
    run rm -f /etc/nginx/sites-enabled/default
    if [[ -n $dry_run ]]; then
        mkdir -p "$root/etc/nginx/sites-enabled"
        ln -sfn "$root/etc/nginx/sites-available/wani" "$root/etc/nginx/sites-enabled/wani"
    fi
    enabled=1
}
if [[ -n $domain ]] && [[ -n $dry_run || ! -f $cert ]]; then
    # certbot's nginx plugin answers the challenge through the enabled site on port 80.
    site plain || true
    enable_site || true
    reload_nginx
    contact=(--register-unsafely-without-email)
    [[ -z $email ]] || contact=(--email "$email")
    run certbot certonly --nginx --non-interactive --agree-tos -d "$domain" "${contact[@]}" \
        --deploy-hook "systemctl reload nginx"
    obtained=1
fi
changed=""
site "$([[ -n $domain ]] && echo tls || echo plain)" && changed=1
enable_site && changed=1
[[ -z $changed ]] || reload_nginx
[[ -z ${obtained:-} ]] || run certbot renew --dry-run
run systemctl enable nginx

if [[ -n $backup_s3 ]]; then
    section "S3 backup check"
    if [[ -x $root$prefix/current/wani ]]; then
        run sudo -u wani "$prefix/current/wani" backup --verify --config "$config"
    else
        echo "  run after the first deploy: sudo -u wani $prefix/current/wani backup --verify --config $config"
    fi
fi

section "done"
echo "next: deploy.sh ENV (deploy.conf names this server), then open http${domain:+s}://${domain:-this server}/"
