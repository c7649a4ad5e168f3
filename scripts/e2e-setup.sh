#!/usr/bin/env bash
# Installs what test/e2e/simplesamlphp.test.ts needs, from Debian's packages, when it is missing:
# SimpleSAMLphp (the IdP), the PHP CLI with the extensions it loads (its built-in web server runs
# it, so no Apache is started) and Chromium (driven by playwright-core). With everything present
# it only looks and exits: no apt call, well under a second. Prints nothing unless it fails.
set -euo pipefail

missing=()
[ -f /usr/share/simplesamlphp/www/_include.php ] || missing+=(simplesamlphp)
if command -v php >/dev/null 2>&1; then
  # SimpleSAMLphp 1.19 needs DOM (php-xml) and mbstring; Debian's package only depends on "php".
  modules="$(php -m)"
  grep -qx dom <<<"$modules" || missing+=(php-xml)
  grep -qx mbstring <<<"$modules" || missing+=(php-mbstring)
else
  missing+=(php-cli php-xml php-mbstring)
fi
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ "${#missing[@]}" -eq 0 ] && exit 0

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
log="$(mktemp -t jitprov-e2e-setup.XXXXXX.log)"
export DEBIAN_FRONTEND=noninteractive
if ! { "${sudo[@]}" apt-get update -q && "${sudo[@]}" apt-get install -y -q --no-install-recommends \
  "${missing[@]}"; } >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "e2e-setup: installing ${missing[*]} failed (full log: $log)" >&2
  exit 1
fi
rm -f "$log"
