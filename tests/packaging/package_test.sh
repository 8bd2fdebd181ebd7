#!/usr/bin/env bash
# Builds the .deb with CPack, checks it with lintian, installs it with dpkg -i,
# verifies the installed systemd units, runs the installed binary, checks the alert
# rules with promtool and the example config against the binary, then purges.
# Needs root (dpkg -i); exits 77 (CTest: skipped) without it.
# Usage: package_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build="$1"
source="$2"

if [ "$(id -u)" -ne 0 ]; then
    echo "package test: needs root for dpkg -i; skipped"
    exit 77
fi
if dpkg-query -W -f='${Status}' gallery 2>/dev/null | grep -q "install ok installed"; then
    echo "package test: a gallery package is already installed here; refusing to replace it" >&2
    exit 1
fi

work="$(mktemp -d)"
trap 'dpkg --purge gallery >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

echo "== example config: every setting is documented and the file parses uncommented"
for setting in $(grep -o '^        {"[a-z0-9_]*"' "$source/src/config/config.cpp" | tr -d ' {"'); do
    grep -q "^# $setting = " "$source/packaging/gallery.toml" ||
        { echo "packaging/gallery.toml does not document '$setting'" >&2; exit 1; }
done
sed -E 's/^# ([a-z0-9_]+ = )/\1/' "$source/packaging/gallery.toml" > "$work/uncommented.toml"
(cd "$work" && "$build/gallery" --config "$work/uncommented.toml" migrate >/dev/null)

echo "== alert rules"
promtool check rules "$source/packaging/gallery-alerts.yml"

echo "== cpack -G DEB"
(cd "$build" && cpack -G DEB -B "$work/package" >/dev/null)
deb="$(ls "$work"/package/gallery_*.deb)"
dpkg-deb -f "$deb" Depends | grep -q libvips42

echo "== lintian (errors and warnings fail the test)"
lintian --fail-on error,warning "$deb"

echo "== dpkg -i"
dpkg -i "$deb" >/dev/null
getent passwd gallery >/dev/null
[ "$(stat -c %U:%a /var/lib/gallery)" = "gallery:750" ]
dpkg-query -W -f='${Conffiles}\n' gallery | grep -q /etc/gallery/gallery.toml
test -f /usr/share/man/man1/gallery.1.gz
zcat /usr/share/man/man1/gallery.1.gz | grep -q 'gallery cleanup'

echo "== systemd-analyze verify (any warning, such as an unknown key, fails)"
units=(/lib/systemd/system/gallery.service /lib/systemd/system/gallery-cleanup.service
       /lib/systemd/system/gallery-cleanup.timer /lib/systemd/system/gallery-backup.service
       /lib/systemd/system/gallery-backup.timer)
verified="$(systemd-analyze verify "${units[@]}" 2>&1)" || { echo "$verified"; exit 1; }
[ -z "$verified" ] || { echo "$verified"; exit 1; }
for unit in gallery.service gallery-cleanup.service gallery-backup.service; do
    exposure="$(systemd-analyze security --offline=true "/lib/systemd/system/$unit" 2>&1 |
        sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')"
    echo "$unit: systemd-analyze security exposure $exposure (10 = unprotected)"
    awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 3.0) }'
done

echo "== the installed binary"
version="$(/usr/bin/gallery --version)"
echo "$version"
echo "$version" | grep -Eq '^gallery [0-9]+\.[0-9]+\.[0-9]+ \(commit [0-9a-f]+'
/usr/bin/gallery migrate --db "$work/installed.db"
/usr/bin/gallery migrate --db "$work/installed.db" --status | grep -q 0003
/usr/bin/gallery stats --db "$work/installed.db" --json | grep -q '"pending"'

echo "package test: passed"
