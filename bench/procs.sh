# Sourced by bench/run, bench/profile and bench/segments: the processes a script starts and
# the scratch folder they use, ended and removed on exit (only the PIDs started here).
#
#   work_dir NAME                   WORK (a new folder), PIDS=(), and the exit trap
#   start_with_url NAME CMD...      runs CMD; sets URL from its first stdout line with one
#   start_nginx CONNECTIONS PORT=UPSTREAM...
#                                   nginx, one worker on CPU 1, a plain reverse proxy from
#                                   127.0.0.1:PORT to each UPSTREAM (host:port); sets NGINX_WORKER
#   free_port                       prints a loopback port nothing listens on
#   MOCK_TEXT                       the answer every fake upstream gives, the same in every script
#   one_provider_config MOCK_URL    $WORK/sy.toml: switchyard with the mock as its one
#                                   (OpenAI) provider for every model, no client keys

MOCK_TEXT="The gateway forwards each chunk as soon as it arrives, reads usage on the way, and \
records what the request cost without making the client wait for the database to answer it."

work_dir() { # name
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/switchyard-$1.XXXXXX")
    PIDS=()
    trap cleanup EXIT
}

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}

# Not a subshell, so the PID stays in PIDS for the cleanup (and is ${PIDS[-1]} after).
# A minute's patience: under valgrind switchyard takes seconds to listen.
URL=""
start_with_url() { # name command...
    local name=$1; shift
    "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    PIDS+=($!)
    URL=""
    for _ in $(seq 1 1200); do
        URL=$(grep -o 'http://[0-9.:]*' "$WORK/$name.out" | head -n 1 || true)
        [ -n "$URL" ] && return 0
        kill -0 "${PIDS[-1]}" 2>/dev/null || break
        sleep 0.05
    done
    echo "$name did not start:" >&2; cat "$WORK/$name.err" >&2; exit 1
}

free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 30000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}

# Upstream keepalive, no buffering of answers (streams flow), no access log: the least a
# reverse proxy can do.
start_nginx() { # connections port=upstream...
    local conns=$1 first="" spec port i=0; shift
    mkdir -p "$WORK/nginx"
    {
        [ "$(id -u)" = 0 ] && echo "user root;"
        cat <<EOF
worker_processes 1;
worker_rlimit_nofile $(ulimit -n);
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections $conns; }
http {
    access_log off;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
EOF
        for spec in "$@"; do
            port=${spec%%=*}; i=$((i + 1))
            [ -n "$first" ] || first=$port
            cat <<EOF
    upstream u$i { server ${spec#*=}; keepalive 512; }
    server {
        listen 127.0.0.1:$port backlog=4096;
        location / {
            proxy_pass http://u$i;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_request_buffering off;
        }
    }
EOF
        done
        echo "}"
    } >"$WORK/nginx/nginx.conf"
    taskset -c 1 "$(command -v nginx || echo /usr/sbin/nginx)" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' \
        2>"$WORK/nginx/stderr" &
    PIDS+=($!)
    local master=$!
    NGINX_WORKER=""
    for _ in $(seq 1 100); do
        NGINX_WORKER=$(pgrep -P "$master" | head -n 1 || true)
        [ -n "$NGINX_WORKER" ] && (exec 3<>"/dev/tcp/127.0.0.1/$first") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "nginx did not start:" >&2; cat "$WORK/nginx/stderr" >&2; exit 1
}

one_provider_config() { # mock-url
    cat >"$WORK/sy.toml" <<EOF
listen = "127.0.0.1:0"
data_dir = "$WORK/data"

[[providers]]
name = "fast"
kind = "openai"
base_url = "$1/v1"
credentials = [{ name = "bench", secret = "none" }]

[[routes]]
model = "*"
targets = [{ provider = "fast" }]
EOF
}
