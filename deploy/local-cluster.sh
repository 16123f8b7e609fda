#!/usr/bin/env bash
# Runs a county on this machine as real, separate processes on loopback: one coordinator and a
# township agent for each of 17 townships (or --townships N), each with its own configuration
# file, data directory and log — the same commands and files as deploy/systemd, pointed at DIR.
#
#   DIR/pki/            ca.pem, coordinator, township-NN and operator certificates (OpenSSL-issued)
#   DIR/etc/NODE.json   the node's configuration (see deploy/*.example.json)
#   DIR/data/NODE/      the node's store, NODE.sqlite
#   DIR/log/NODE.log    what the node logged (JSON lines)
#   DIR/run/NODE.pid    its process id while it runs
#
# Safe to run again: `start` keeps the certificates and data there are and starts only what is not
# running; `stop` stops only what runs.
set -euo pipefail

program=${0##*/}
root=$(cd "$(dirname "$0")/.." && pwd)

usage() {
    cat <<EOF
Usage:
  $program start  [options] [NODE...]   issue certificates and write configs if missing, start the nodes
  $program stop   [options] [NODE...]   SIGTERM the nodes (agents first), SIGKILL any still running after 30 s
  $program status [options] [NODE...]   say which nodes run; exits 3 if any does not

NODE is coordinator or township-NN; without one, every node. Options (also as variables):
  --dir DIR          where everything lives (SUNSHINE_CLUSTER_DIR; default ./cluster)
  --bin FILE         the sunshine executable (SUNSHINE_BIN; default .build/debug/sunshine)
  --townships N      how many township agents, 1-17 (default 17)
  --port PORT        the coordinator's port on 127.0.0.1 (default 7420)
  --heartbeat-ms MS  the coordinator's heartbeat (default 1000)
Operators reach it with: sunshine status --pki DIR/pki --coordinator 127.0.0.1:PORT
EOF
}

# Says what was wrong, in one sentence, and stops.
fail() {
    printf '%s: %s\n' "$program" "$1" >&2
    exit 1
}

say() {
    printf '%s\n' "$*"
}

[[ $# -gt 0 ]] || {
    usage >&2
    exit 2
}
command=$1
shift
case $command in
    start | stop | status) ;;
    -h | --help | help)
        usage
        exit 0
        ;;
    *) fail "\"$command\" is not a command; use start, stop or status (see --help)." ;;
esac

dir=${SUNSHINE_CLUSTER_DIR:-$PWD/cluster}
bin=${SUNSHINE_BIN:-$root/.build/debug/sunshine}
townships=17
port=7420
heartbeat=1000
selected=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --dir) dir=${2:?--dir needs a directory} && shift ;;
        --bin) bin=${2:?--bin needs a file} && shift ;;
        --townships) townships=${2:?--townships needs a number} && shift ;;
        --port) port=${2:?--port needs a number} && shift ;;
        --heartbeat-ms) heartbeat=${2:?--heartbeat-ms needs a number} && shift ;;
        -h | --help)
            usage
            exit 0
            ;;
        -*) fail "$1 is not an option (see --help)." ;;
        *) selected+=("$1") ;;
    esac
    shift
done
if ! [[ $townships =~ ^[1-9][0-9]?$ ]] || ((townships > 17)); then
    fail "--townships must be a number from 1 to 17, not \"$townships\"."
fi
if ! [[ $port =~ ^[1-9][0-9]{0,4}$ ]] || ((port > 65535)); then
    fail "--port must be a port number from 1 to 65535, not \"$port\"."
fi
[[ $heartbeat =~ ^[1-9][0-9]*$ ]] || fail "--heartbeat-ms must be a number of milliseconds, not \"$heartbeat\"."
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

all_nodes=(coordinator)
for ((i = 1; i <= townships; i++)); do all_nodes+=("$(printf 'township-%02d' "$i")"); done
if [[ ${#selected[@]} -eq 0 ]]; then selected=("${all_nodes[@]}"); fi
for node in "${selected[@]}"; do
    [[ " ${all_nodes[*]} " == *" $node "* ]] || fail "\"$node\" is not a node of this cluster (coordinator, township-01 ... $(printf 'township-%02d' "$townships"))."
done

# Whether process PID runs: it exists and is not a zombie (an exited node whose parent — this
# script has left it to init — has not reaped it yet).
alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# The pid of NODE if it runs (its pid file names a live sunshine process), else nothing.
running_pid() {
    local file=$dir/run/$1.pid pid
    [[ -f $file ]] || return 1
    pid=$(<"$file")
    [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" && grep -qa sunshine "/proc/$pid/cmdline" 2>/dev/null || return 1
    printf '%s\n' "$pid"
}

# Certificates (kept once issued) and one configuration file per node (rewritten each start).
prepare() {
    [[ -x $bin ]] || fail "$bin is not an executable; build it with \`swift build\` or pass --bin."
    mkdir -p "$dir/pki" "$dir/etc" "$dir/log" "$dir/run"
    local node missing=0
    for node in ca "${all_nodes[@]}" operator; do [[ -f $dir/pki/$node.pem ]] || missing=1; done
    if ((missing)); then
        "$root/deploy/pki/issue-with-openssl.sh" init --out "$dir/pki" --townships "$townships" >/dev/null
    fi
    cat >"$dir/etc/coordinator.json" <<EOF
{
    "listen": "127.0.0.1:$port",
    "data": "$dir/data/coordinator",
    "pki": "$dir/pki",
    "heartbeatMs": $heartbeat,
    "logLevel": "info",
    "logFormat": "json"
}
EOF
    for node in "${all_nodes[@]:1}"; do
        cat >"$dir/etc/$node.json" <<EOF
{
    "node": "$node",
    "coordinator": "127.0.0.1:$port",
    "data": "$dir/data/$node",
    "pki": "$dir/pki",
    "logLevel": "info",
    "logFormat": "json"
}
EOF
    done
}

# Starts NODE in a session of its own (so a terminal's Ctrl-C does not reach it) unless it runs.
start_node() {
    local node=$1 role=agent pid
    [[ $node == coordinator ]] && role=coordinator
    if pid=$(running_pid "$node"); then
        say "$node already runs (pid $pid)"
        return
    fi
    setsid "$bin" "$role" --config "$dir/etc/$node.json" </dev/null >>"$dir/log/$node.log" 2>&1 &
    printf '%s\n' "$!" >"$dir/run/$node.pid"
    say "started $node (pid $!, log $dir/log/$node.log)"
}

# How many times the coordinator's log says it listens (once per start).
listened() {
    grep -c '"listening on' "$dir/log/coordinator.log" 2>/dev/null || true
}

# Waits until the coordinator's log says it listens for the COUNT-th time, or fails with the end
# of its log.
await_coordinator() {
    local deadline=$((SECONDS + 120))
    until [[ $(listened) -ge $1 ]]; do
        if ! running_pid coordinator >/dev/null; then
            tail -n 5 "$dir/log/coordinator.log" >&2 || true
            fail "the coordinator stopped before it listened; its log is $dir/log/coordinator.log."
        fi
        ((SECONDS < deadline)) || fail "the coordinator did not listen within 120 s; see $dir/log/coordinator.log."
        sleep 0.2
    done
}

stop_node() {
    local node=$1 pid deadline
    pid=$(running_pid "$node") || {
        rm -f "$dir/run/$node.pid"
        return
    }
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 30))
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    if alive "$pid"; then
        say "$node did not stop within 30 s of SIGTERM; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/run/$node.pid"
    say "stopped $node"
}

case $command in
    start)
        prepare
        for node in "${selected[@]}"; do
            if [[ $node == coordinator ]] && ! running_pid coordinator >/dev/null; then
                before=$(listened)
                start_node coordinator
                await_coordinator $((${before:-0} + 1))
            fi
        done
        for node in "${selected[@]}"; do
            [[ $node == coordinator ]] || start_node "$node"
        done
        say "operators: $bin status --pki $dir/pki --coordinator 127.0.0.1:$port"
        ;;
    stop)
        # Agents first, so that their last pushes reach a coordinator still running.
        for node in "${selected[@]}"; do
            [[ $node == coordinator ]] || stop_node "$node"
        done
        for node in "${selected[@]}"; do
            [[ $node != coordinator ]] || stop_node coordinator
        done
        ;;
    status)
        stopped=0
        for node in "${selected[@]}"; do
            if pid=$(running_pid "$node"); then
                say "$node runs (pid $pid)"
            else
                say "$node is stopped"
                stopped=1
            fi
        done
        ((stopped == 0)) || exit 3
        ;;
esac
