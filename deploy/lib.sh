#!/usr/bin/env bash
# Shared by provision.sh and the tests: rendering the templates in deploy/.

# render TEMPLATE MODE [NAME=VALUE ...]: prints TEMPLATE with every {{NAME}} replaced by VALUE,
# keeping the lines marked "# @tls" only when MODE is tls and those marked "# @plain" only when
# MODE is plain (the marker itself is dropped). Fails, naming it, on a {{NAME}} left unfilled.
render() {
    local template=$1 mode=$2
    shift 2
    local keep drop
    case $mode in
        tls) keep=tls drop=plain ;;
        plain) keep=plain drop=tls ;;
        *) echo "render: mode must be tls or plain, not $mode" >&2; return 2 ;;
    esac
    local text
    text=$(sed -e "/# @$drop\$/d" -e "s/[[:space:]]*# @$keep\$//" "$template") || return
    local pair name value
    for pair in "$@"; do
        name=${pair%%=*}
        value=${pair#*=}
        text=${text//"{{$name}}"/$value}
    done
    if [[ $text =~ \{\{([A-Z_]+)\}\} ]]; then
        echo "render: $template needs a value for {{${BASH_REMATCH[1]}}}" >&2
        return 2
    fi
    printf '%s\n' "$text"
}

# largest_post_bytes CONFIG: the largest max_post_bytes of the config's boards (20 MiB, the
# default, for a board that does not set it), the limit nginx's client_max_body_size must allow.
largest_post_bytes() {
    awk '
        function close_board() { if (in_board && !seen) best = best > 20971520 ? best : 20971520 }
        /^[[:space:]]*\[\[boards\]\]/ { close_board(); in_board = 1; seen = 0; next }
        /^[[:space:]]*\[/ { close_board(); in_board = 0; next }
        in_board && /^[[:space:]]*max_post_bytes[[:space:]]*=/ {
            value = $0; sub(/^[^=]*=[[:space:]]*/, "", value); sub(/[[:space:]#].*$/, "", value)
            gsub(/_/, "", value); seen = 1
            if (value + 0 > best) best = value + 0
        }
        END { close_board(); if (best == 0) best = 20971520; printf "%d\n", best }
    ' "$1"
}
