#!/bin/bash
# completion-test.sh BUILD_DIR: healctl's bash completion (ctl/completion)
# completes commands, a command's options and option values, as bash would
# ask it, with the built healctl first on PATH. Exits 77 (skipped) without
# Debian's bash-completion.
set -u
build=${1:?usage: completion-test.sh BUILD_DIR}
framework=/usr/share/bash-completion/bash_completion
[ -r "$framework" ] || { echo "HEAL_TEST_SKIPPED: no $framework (Debian package bash-completion)"; exit 77; }
PATH="$build/ctl:$PATH"
# shellcheck source=/dev/null
. "$framework"
# shellcheck source=/dev/null
. "$(dirname "$0")/../../ctl/completion/healctl.bash"

failures=0
# complete WORD...: COMPREPLY for the command line WORD... (the last is the one being completed).
complete_line() {
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _healctl healctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf '%s\n' "${COMPREPLY[@]}" | sort
}
# expect WANTED WORD...: WANTED (space-separated, sorted) is what completing WORD... offers.
expect() {
    local wanted=$1
    shift
    local got
    got=$(complete_line "$@" | tr '\n' ' ' | sed 's/ $//')
    if [ "$got" = "$wanted" ]; then
        echo "ok: healctl ${*:2} -> $got"
    else
        echo "FAILED: healctl ${*:2}: wanted '$wanted', got '$got'"
        failures=$((failures + 1))
    fi
}

expect "recover replay resume" healctl re
expect "is-failed" healctl is
expect "--json" healctl --js
expect "--since" healctl replay --si
expect "--episodes" healctl train --ep
expect "--json" healctl --user status --js
expect "cpu_runaway crash" healctl --user simulate-failure --kind c
expect "restart" healctl recover --action res
# Every command of `healctl --help` is offered for an empty word.
commands=$(healctl --help | awk '/^Subcommands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' | sort | tr '\n' ' ' | sed 's/ $//')
[ -n "$commands" ] || { echo "FAILED: healctl --help lists no command"; failures=$((failures + 1)); }
expect "$commands" healctl ""
[ "$failures" -eq 0 ] || { echo "$failures completion(s) wrong"; exit 1; }
echo "all completions right"
