#!/usr/bin/env bash
# Tests the deployment scripts as code: shellcheck on every shell script; provision.sh --dry-run
# (every command printed, the files it writes rendered into a temporary root, then checked by
# `wani check-config`, `nginx -t` and `systemd-analyze verify`, and a second run changing
# nothing); the unit's `systemd-analyze security` score; and deploy.sh against a real sshd
# started here on a loopback port with throwaway keys, deploying into a temporary root: a deploy,
# its health check, a broken release rolled back by itself, --rollback, --status, pruning.
#
# Needs shellcheck, nginx, sshd (openssh-server) and systemd-analyze; test/run installs them.
# WANI_BIN names the wani binary (default: target/debug/wani, built when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
# shellcheck source=deploy/lib.sh
source deploy/lib.sh

failures=0
pass() { echo "ok   $* [${SECONDS} s]"; }
fail() {
    echo "FAIL $*" >&2
    failures=$((failures + 1))
}
# check DESCRIPTION COMMAND...: runs COMMAND; a failure is counted and its output shown.
check() {
    local what=$1 out
    shift
    if out=$("$@" 2>&1); then
        pass "$what"
    else
        fail "$what"
        printf '%s\n' "$out" | sed 's/^/     /' >&2
    fi
}
# show TEXT: TEXT, indented under the check it belongs to.
show() {
    local line
    while IFS= read -r line; do echo "     $line"; done <<<"$1"
}
# contains DESCRIPTION TEXT NEEDLE
contains() {
    if [[ $2 == *"$3"* ]]; then pass "$1"; else fail "$1: no \"$3\" in:"; printf '%s\n' "$2" | sed 's/^/     /' >&2; fi
}

for tool in shellcheck nginx /usr/sbin/sshd ssh ssh-keygen systemd-analyze curl openssl strip; do
    command -v "$tool" >/dev/null || { echo "test/deploy.sh: $tool is missing" >&2; exit 1; }
done
wani=${WANI_BIN:-$repo/target/debug/wani}
if [[ ! -x $wani ]]; then
    cargo build --locked --bin wani
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/wani-deploy-test.XXXXXX")
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    [[ -f $work/wani.pid ]] && kill "$(cat "$work/wani.pid")" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- shellcheck, in the background (it takes a while), reported at the end --------------------
# Every tracked or new file that starts with a shell's #! line, whatever its name.
mapfile -t scripts < <(git ls-files -co --exclude-standard | while IFS= read -r f; do
    [[ -f $f ]] && head -c 64 "$f" | grep -qE '^#!.*(bash|/sh)' && echo "$f"
done)
shellcheck -x "${scripts[@]}" >"$work/shellcheck.out" 2>&1 &
shellcheck_pid=$!

# --- deploy/lib.sh ------------------------------------------------------------------------------
echo "== deploy/lib.sh"
if out=$(render deploy/wani.service plain PREFIX=/opt/wani 2>&1); then
    fail "render fills a template with values missing"
else
    contains "render names a placeholder left unfilled" "$out" "{{CONFIG}}"
fi
out=$(render deploy/nginx-site.conf plain LISTEN=8 SERVER_NAME=_ UPSTREAM=u DATA_DIR=d MAX_BODY_BYTES=1)
if grep -qE '# @(tls|plain)$' <<<"$out" || [[ $out == *"ssl_certificate"* || $out != *"listen 8;"* ]]; then
    fail "render plain keeps only the plain lines"
else
    pass "render plain keeps only the plain lines"
fi
# largest_post_bytes: the largest board's, a board without the key counting as the default.
while IFS='|' read -r config want; do
    printf '%b' "$config" >"$work/boards.toml"
    got=$(largest_post_bytes "$work/boards.toml")
    if [[ $got == "$want" ]]; then pass "largest_post_bytes $want"; else
        fail "largest_post_bytes of '$config' is $got, not $want"; fi
done <<'EOF'
listen = "127.0.0.1:1"\n|20971520
[[boards]]\nslug = "a"\nmax_post_bytes = 1000\n|1000
[[boards]]\nslug = "a"\nmax_post_bytes = 1000\n[[boards]]\nslug = "b"\n|20971520
[[boards]]\nmax_post_bytes = 104_857_600 # big\n[s3]\nmax_post_bytes = 9999999999\n|104857600
EOF

# --- provision.sh --dry-run ---------------------------------------------------------------------
echo "== provision.sh --dry-run"
# nginx -t on the rendered site, inside a minimal nginx.conf of the test's own; the site's
# relative include resolves under ROOT/etc/nginx.
nginx_test() {
    local root=$1
    cat >"$root/etc/nginx/nginx.conf" <<EOF
pid $root/nginx.pid;
error_log stderr;
events {}
http {
    include /etc/nginx/mime.types;
    client_body_temp_path $root/tmp/body;
    proxy_temp_path $root/tmp/proxy;
    fastcgi_temp_path $root/tmp/fastcgi;
    uwsgi_temp_path $root/tmp/uwsgi;
    scgi_temp_path $root/tmp/scgi;
    access_log off;
    include sites-enabled/*;
}
EOF
    mkdir -p "$root/tmp"
    nginx -t -q -c "$root/etc/nginx/nginx.conf" -p "$root/"
}
# systemd-analyze verify on a unit whose /opt/wani paths point into ROOT (where a release
# exists): prints nothing for a clean unit. Works offline, without a running systemd.
verify_unit() {
    local root=$1 unit=$2 out
    mkdir -p "$root/opt/wani/releases/test" "$root/verify"
    ln -sfn "$wani" "$root/opt/wani/releases/test/wani"
    ln -sfn releases/test "$root/opt/wani/current"
    for f in "$root"/etc/systemd/system/*; do
        sed "s|/opt/wani|$root/opt/wani|g" "$f" >"$root/verify/$(basename "$f")"
    done
    out=$(systemd-analyze verify "$root/verify/$unit" 2>&1) || { echo "$out"; return 1; }
    [[ -z $out ]] || { echo "$out"; return 1; }
}

root=$work/root
out=$(./provision.sh --local --dry-run --root "$root" --wani "$wani" --refresh-weekly Sun 4 2>&1) ||
    fail "provision.sh --dry-run exits 0: $out"
for command in "apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold full-upgrade" \
    "install nginx certbot python3-certbot-nginx fail2ban" "unattended-upgrades" "ufw allow 22/tcp" \
    "ufw allow 80/tcp" "ufw allow 443/tcp" "ufw --force enable" "useradd --system" \
    "install -d -o wani -g wani -m 0711 /var/lib/wani" "systemctl enable wani.service" \
    "systemctl enable --now wani-refresh.timer" "systemctl enable --now fail2ban" "nginx -t"; do
    contains "the dry run prints: $command" "$out" "$command"
done
for file in /etc/wani/config.toml /etc/systemd/system/wani.service /etc/nginx/sites-available/wani \
    /etc/nginx/snippets/wani-files.conf /etc/systemd/system/wani-refresh.timer \
    /etc/systemd/system/wani-refresh.service /etc/systemd/journald.conf.d/wani.conf \
    /etc/fail2ban/jail.d/wani.local /etc/apt/apt.conf.d/20auto-upgrades; do
    if [[ -s $root$file ]]; then pass "rendered $file"; else fail "provision.sh did not render $file"; fi
done
if [[ $(stat -c %a "$root/etc/wani/config.toml") == 640 ]]; then pass "the config is 0640"; else fail "the config is $(stat -c %a "$root/etc/wani/config.toml"), not 0640"; fi
check "the generated config passes wani check-config" "$wani" check-config --config "$root/etc/wani/config.toml"
contains "the generated config keeps data in /var/lib/wani" \
    "$("$wani" check-config --config "$root/etc/wani/config.toml")" "data_dir: /var/lib/wani"
check "the rendered nginx site passes nginx -t" nginx_test "$root"
site=$(cat "$root/etc/nginx/sites-available/wani")
contains "client_max_body_size is the largest max_post_bytes" "$site" "client_max_body_size 20971520;"
contains "the plain site listens on port 80" "$site" "listen 80 default_server;"
check "systemd-analyze verify wani.service" verify_unit "$root" wani.service
check "systemd-analyze verify wani-refresh.timer" verify_unit "$root" wani-refresh.timer
contains "the timer runs on Sunday at 04:00" "$(cat "$root/etc/systemd/system/wani-refresh.timer")" \
    "OnCalendar=Sun *-*-* 04:00:00"
echo "systemd-analyze security (offline):"
systemd-analyze security --offline=true "$root/verify/wani.service" 2>&1 | tail -1 | sed 's/^/     /'

again=$(./provision.sh --local --dry-run --root "$root" --wani "$wani" --refresh-weekly Sun 4 2>&1)
if grep -q '^  wrote' <<<"$again"; then
    fail "a second run rewrote files:"
    grep '^  wrote' <<<"$again" >&2
else
    pass "a second run writes nothing"
fi
contains "a second run keeps the config" "$again" "kept /etc/wani/config.toml"

# A larger board raises nginx's limit; a changed example is reported, the config kept.
printf '\n[[boards]]\nslug = "big"\ntitle = "Big"\nmax_post_bytes = 104_857_600\n' >>"$root/etc/wani/config.toml"
sed -i 's/^thumbnail_size = 250/thumbnail_size = 251/' "$root/etc/wani/config.example.toml"
third=$(./provision.sh --local --dry-run --root "$root" --wani "$wani" 2>&1)
contains "a changed example is reported as a diff" "$third" "+thumbnail_size = 250"
contains "the limit follows the largest board" "$(cat "$root/etc/nginx/sites-available/wani")" \
    "client_max_body_size 104857600;"
if grep -q 'slug = "big"' "$root/etc/wani/config.toml"; then pass "the config is never overwritten"; else fail "the config was overwritten"; fi

# With --domain: certbot and the HTTPS site. nginx -t needs a certificate: a self-signed one
# stands in for Let's Encrypt's.
tls=$work/tls
out=$(S3_ENDPOINT=http://127.0.0.1:3900 S3_REGION=garage S3_BUCKET=wani S3_ACCESS_KEY_ID=GKtest \
    S3_SECRET_ACCESS_KEY=secret-not-printed ./provision.sh --local --dry-run --root "$tls" \
    --wani "$wani" --domain board.example.org --email admin@example.org --backup-s3 2>&1) ||
    fail "provision.sh --domain --dry-run: $out"
contains "certbot obtains the certificate" "$out" "certbot certonly --nginx --non-interactive --agree-tos -d board.example.org --email admin@example.org"
contains "certbot's renewal is tried" "$out" "certbot renew --dry-run"
if [[ $out != *secret-not-printed* ]]; then pass "the S3 secret is never printed"; else fail "the S3 secret was printed"; fi
if [[ $(stat -c %a "$tls/etc/wani/s3-secret") == 400 ]]; then pass "the S3 secret file is 0400"; else fail "the S3 secret file is $(stat -c %a "$tls/etc/wani/s3-secret")"; fi
contains "the config names the S3 bucket" "$("$wani" check-config --config "$tls/etc/wani/config.toml")" \
    "backup: bucket wani at http://127.0.0.1:3900"
site=$(cat "$tls/etc/nginx/sites-available/wani")
contains "the HTTPS site redirects HTTP" "$site" "return 301 https://\$host\$request_uri;"
contains "the HTTPS site sends HSTS" "$site" "Strict-Transport-Security"
mkdir -p "$tls/cert"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=board.example.org -days 1 \
    -keyout "$tls/cert/privkey.pem" -out "$tls/cert/fullchain.pem" 2>/dev/null
sed -i "s|/etc/letsencrypt/live/board.example.org|$tls/cert|" "$tls/etc/nginx/sites-available/wani"
check "the HTTPS site passes nginx -t" nginx_test "$tls"

# --- deploy.sh against a real sshd -------------------------------------------------------------
echo "== deploy.sh over ssh"
ssh_dir=$work/ssh
mkdir -p "$ssh_dir" /run/sshd 2>/dev/null || mkdir -p "$ssh_dir"
ssh-keygen -q -t ed25519 -N '' -f "$ssh_dir/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$ssh_dir/user_key"
cp "$ssh_dir/user_key.pub" "$ssh_dir/authorized_keys"
ssh_port=$(free_port)
cat >"$ssh_dir/sshd_config" <<EOF
Port $ssh_port
ListenAddress 127.0.0.1
HostKey $ssh_dir/host_key
AuthorizedKeysFile $ssh_dir/authorized_keys
PidFile $ssh_dir/sshd.pid
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
LogLevel ERROR
EOF
/usr/sbin/sshd -D -f "$ssh_dir/sshd_config" -E "$ssh_dir/sshd.log" &
pids+=($!)
echo "[127.0.0.1]:$ssh_port $(cut -d' ' -f1,2 "$ssh_dir/host_key.pub")" >"$ssh_dir/known_hosts"
cat >"$ssh_dir/ssh_config" <<EOF
Host wani-test
    HostName 127.0.0.1
    User $(id -un)
    IdentityFile $ssh_dir/user_key
    IdentitiesOnly yes
    UserKnownHostsFile $ssh_dir/known_hosts
    StrictHostKeyChecking yes
    Ciphers aes128-gcm@openssh.com
EOF
for _ in $(seq 100); do
    ssh -F "$ssh_dir/ssh_config" -p "$ssh_port" -o BatchMode=yes wani-test true 2>/dev/null && break
    sleep 0.1
done

# provision.sh HOST: the scripts and templates travel over ssh and run there (a dry run, into a
# root on the far side).
remote_root=$work/remote-root
out=$(PROVISION_SSH="ssh -F $ssh_dir/ssh_config -p $ssh_port" \
    ./provision.sh wani-test --dry-run --root "$remote_root" --refresh-weekly Mon 23 2>&1) ||
    fail "provision.sh HOST --dry-run: $out"
contains "provision.sh HOST runs on the host" "$out" "files are rendered under $remote_root"
contains "provision.sh HOST passes its options" "$out" "systemctl enable --now wani-refresh.timer"
contains "provision.sh HOST has no wani to check the config with yet" "$out" "no wani deployed yet"
if [[ $(cat "$remote_root/etc/systemd/system/wani-refresh.timer") == *"OnCalendar=Mon *-*-* 23:00:00"* ]]; then
    pass "provision.sh HOST rendered the timer there"
else
    fail "provision.sh HOST did not render the timer"
fi

# The "server": a root with the config, and a restart command that stops the running wani and
# starts PREFIX/current/wani in the background, as systemctl restart would.
srv=$work/srv
wani_port=$(free_port)
mkdir -p "$srv/etc/wani" "$srv/var/lib/wani"
cat >"$srv/etc/wani/config.toml" <<EOF
listen = "127.0.0.1:$wani_port"
data_dir = "$srv/var/lib/wani"
shutdown_grace_secs = 1
EOF
cat >"$work/restart.sh" <<EOF
#!/usr/bin/env bash
if [[ -f $work/wani.pid ]]; then
    pid=\$(cat $work/wani.pid)
    kill -TERM "\$pid" 2>/dev/null
    for _ in \$(seq 200); do kill -0 "\$pid" 2>/dev/null || break; sleep 0.05; done
fi
setsid $srv/opt/wani/current/wani --config $srv/etc/wani/config.toml </dev/null >>$work/wani.log 2>&1 &
echo \$! >$work/wani.pid
EOF
chmod +x "$work/restart.sh"
cat >"$work/deploy.conf" <<EOF
# The test's server, over the sshd above.
test.host = wani-test
test.port = $ssh_port
test.ssh_config = $ssh_dir/ssh_config
test.prefix = $srv/opt/wani
test.config = $srv/etc/wani/config.toml
test.restart = $work/restart.sh
test.health_url = http://127.0.0.1:$wani_port/healthz
test.health_secs = 3
test.keep = 2
prod.host = nowhere.invalid
EOF
deploy() { DEPLOY_CONFIG=$work/deploy.conf ./deploy.sh "$@" 2>&1; }
current() { readlink "$srv/opt/wani/current"; }

# A: the real binary, without its debugging sections (a tenth of the size, a faster copy).
strip -o "$work/wani" "$wani"
if out=$(deploy test --binary "$work/wani"); then pass "a deploy succeeds"; else fail "a deploy: $out"; fi
show "$out"
contains "each step prints its time" "$out" "    health check: "
contains "the health check saw the new process" "$out" '"ok":true'
release_a=$(current)
if [[ $release_a == releases/* && -x $srv/opt/wani/$release_a/wani ]]; then pass "current is $release_a"; else fail "current is '$release_a'"; fi
check "wani answers on its port" curl -fsS "http://127.0.0.1:$wani_port/healthz"

# Later releases are small wrappers around the same binary (other bytes, a fast copy): the
# binary's own checks ran above.
wrapper() {
    printf '#!/bin/sh\n# release %s\nexec %s "$@"\n' "$2" "$work/wani" >"$1"
    chmod +x "$1"
}

# X: a build that crashes at start (but reads the config), rolled back by itself.
cat >"$work/broken" <<EOF
#!/bin/sh
[ "\$1" = check-config ] && exec $work/wani "\$@"
echo "this build crashes at start" >&2
exit 1
EOF
chmod +x "$work/broken"
if out=$(deploy test --binary "$work/broken"); then
    fail "a broken release is reported as deployed: $out"
else
    pass "a broken release fails the deploy"
fi
show "$out"
contains "the broken release is rolled back" "$out" "rolling back to ${release_a#releases/}"
if [[ $(current) == "$release_a" ]]; then pass "current is $release_a again"; else fail "current is $(current)"; fi
check "the rolled-back release answers" curl -fsS "http://127.0.0.1:$wani_port/healthz"
if [[ ! -e $srv/opt/wani/previous ]]; then pass "the failed release is not left as previous"; else fail "previous is $(readlink "$srv/opt/wani/previous")"; fi

# A config the new release refuses stops the deploy before anything changes.
cp "$srv/etc/wani/config.toml" "$work/config.good"
echo 'no_such_key = 1' >>"$srv/etc/wani/config.toml"
wrapper "$work/wani-b" b
if out=$(deploy test --binary "$work/wani-b"); then fail "a bad config is deployed: $out"; else pass "a bad config stops the deploy"; fi
contains "the config's error is shown" "$out" "no_such_key"
if [[ $(current) == "$release_a" ]]; then pass "a refused config changes nothing"; else fail "current is $(current)"; fi
cp "$work/config.good" "$srv/etc/wani/config.toml"

# B: another good release (other bytes), then --rollback to A by hand.
if out=$(deploy test --binary "$work/wani-b"); then pass "a second release deploys"; else fail "a second release: $out"; fi
release_b=$(current)
if [[ $release_b != "$release_a" ]]; then pass "it is a new release ($release_b)"; else fail "same release $release_b"; fi
if out=$(deploy test --rollback); then pass "--rollback succeeds"; else fail "--rollback: $out"; fi
if [[ $(current) == "$release_a" ]]; then pass "--rollback switched to $release_a"; else fail "current is $(current)"; fi
check "the release rolled back to answers" curl -fsS "http://127.0.0.1:$wani_port/healthz"

out=$(deploy test --status) || fail "--status: $out"
contains "--status shows the current release" "$out" "current:  $release_a"
contains "--status shows the health and version" "$out" '"version":"'
contains "--status shows the uptime" "$out" '"uptime_secs":'
contains "--status shows the backup" "$out" '"backup":'

# C: keep = 2 prunes what is neither current, previous nor among the two newest.
wrapper "$work/wani-c" c
out=$(deploy test --binary "$work/wani-c") || fail "a third release: $out"
mapfile -t releases < <(ls "$srv/opt/wani/releases")
if [[ ${#releases[@]} -le 3 ]]; then pass "old releases are pruned (${releases[*]})"; else fail "releases left: ${releases[*]}"; fi
if [[ -x $srv/opt/wani/$release_a/wani ]]; then pass "the previous release survives pruning"; else fail "the previous release was pruned"; fi

if out=$(deploy prod --binary "$wani"); then fail "prod deployed without confirm"; else
    contains "prod needs the word confirm" "$out" "confirm"
fi

echo "== shellcheck"
if wait "$shellcheck_pid"; then
    pass "shellcheck is clean on ${#scripts[@]} scripts: ${scripts[*]}"
else
    fail "shellcheck on ${#scripts[@]} scripts:"
    sed 's/^/     /' "$work/shellcheck.out" >&2
fi

echo
if ((failures > 0)); then
    echo "test/deploy.sh: $failures failures" >&2
    exit 1
fi
echo "test/deploy.sh: every check passed"
