#!/usr/bin/env bash
# make lint: the functions the house style bans, then cppcheck. Exits non-zero on
# any finding.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
files=$(find src tests tools bench -name '*.[ch]' -not -path '*/node_modules/*' | sort)

banned=$(grep -nE '\b(sprintf|vsprintf|strcpy|strcat|atoi|atol|atoll|strtok|gets)[[:space:]]*\(' $files)
if [[ -n $banned ]]; then
  echo "lint: banned functions (use snprintf, memcpy with a length, strtol, strtok_r):"
  echo "$banned"
  status=1
fi
selfrealloc=$(grep -nE '([A-Za-z_][A-Za-z0-9_.>-]*)[[:space:]]*=[[:space:]]*realloc[[:space:]]*\([[:space:]]*\1[[:space:]]*,' $files)
if [[ -n $selfrealloc ]]; then
  echo "lint: 'p = realloc(p, n)' loses p when realloc fails (use xrealloc or a temporary):"
  echo "$selfrealloc"
  status=1
fi

if ! command -v cppcheck >/dev/null; then
  echo "lint: cppcheck is not installed (run: scripts/setup.sh lint)" >&2
  exit 1
fi
# The generated table of embedded files (build/*/gen/embedded.c) is not
# checked: it is 1.6 MB of string literals made by tools/embed.c (which is),
# and cppcheck takes minutes over it and finds nothing there to find.
cppcheck --quiet --error-exitcode=1 --inline-suppr --std=c11 \
  --enable=warning,performance,portability \
  --suppress=missingIncludeSystem \
  -D_GNU_SOURCE -Isrc -Itests/support \
  $files || status=1

if ((status == 0)); then echo "lint: clean"; fi
exit $status
