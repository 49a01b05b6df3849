#!/usr/bin/env bash
# Installs the programs the test suite starts for real: PostgreSQL, Chromium, nginx
# (WebDAV, with the dav-ext module), wrk (benchmarks). Idempotent: only what is missing is installed.
set -euo pipefail

missing=()
have_postgres() { command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }
have_postgres || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
# nginx's dav-ext module answers PROPFIND (the WebDAV contract runs with and without it).
compgen -G "/usr/lib/nginx/modules/ngx_http_dav_ext_module.so" >/dev/null || missing+=(libnginx-mod-http-dav-ext)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v runuser >/dev/null 2>&1 || missing+=(util-linux)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "Installing test dependencies: ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo); else
    echo "Need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
