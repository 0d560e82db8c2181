#!/usr/bin/env bash
# Build the one-file executable: dist/respaldos (Linux) or dist/Respaldos.exe (Windows, via Git Bash).
#
#   bash tools/build.sh
#
# Needs the app and PyInstaller installed: python3 -m pip install ".[build]".
# PyInstaller's work folder goes outside the checkout (its default, ./build, is where the spec lives), so
# the build leaves `git status` as it was. Environment:
#   PYTHON       interpreter to build with (default python3)
#   DISTPATH     where the executable goes (default dist/ in the checkout, git-ignored)
#   WORKPATH     PyInstaller's work folder (default ~/.cache/respaldos-build, reused between builds)
#   RESPALDOS_DROPBOX_APP_KEY, RESPALDOS_GOOGLE_CLIENT_SECRETS   vendor cloud settings to bake in
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
DISTPATH="${DISTPATH:-$ROOT/dist}"
WORKPATH="${WORKPATH:-${XDG_CACHE_HOME:-$HOME/.cache}/respaldos-build}"

case "$WORKPATH/" in
  "$ROOT"/*) echo "build.sh: WORKPATH must be outside the checkout ($ROOT)" >&2; exit 2 ;;
esac

# Bytecode of the analysed modules goes to PyInstaller's work folder, not next to the sources.
export PYTHONDONTWRITEBYTECODE=1
start=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$DISTPATH" --workpath "$WORKPATH" \
  "$ROOT/build/spec/respaldos.spec"
end=$(date +%s)

for exe in "$DISTPATH/respaldos" "$DISTPATH/Respaldos.exe" "$DISTPATH/Respaldos"; do
  if [ -f "$exe" ]; then
    size=$(wc -c <"$exe")
    echo "Built $exe: $(awk "BEGIN { printf \"%.1f\", $size / 1000000 }") MB ($size bytes) in $((end - start)) s"
    exit 0
  fi
done
echo "build.sh: PyInstaller finished but no executable is in $DISTPATH" >&2
exit 1
