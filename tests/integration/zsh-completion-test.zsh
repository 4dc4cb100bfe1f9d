#!/usr/bin/zsh -f
# zsh-completion-test.zsh BUILD_DIR: the candidates healctl's zsh completion
# (ctl/completion/_healctl) offers for commands, a command's options and
# option values, with the built healctl first on PATH. zsh's compadd and
# _files are replaced by stand-ins that print the candidates matching the
# word being completed, as zsh would keep them: what is checked is what the
# completion offers, not zsh's menu.
build=${1:?usage: zsh-completion-test.zsh BUILD_DIR}
path=($build/ctl $path)
fpath=(${0:A:h}/../../ctl/completion $fpath)
autoload -Uz _healctl

compadd() {
    [[ $1 == -- ]] && shift
    local candidate
    for candidate in "$@"; do [[ $candidate == ${PREFIX}* ]] && print -r -- $candidate; done
}
_files() { print -r -- '<files>' }

integer failures=0
# expect WANTED WORD...: WANTED (space-separated, sorted) is what completing WORD... offers.
expect() {
    local wanted=$1
    shift
    words=("$@")
    CURRENT=$#
    PREFIX=${words[CURRENT]}
    local got=$(_healctl | sort | tr '\n' ' ' | sed 's/ $//')
    if [[ $got == "$wanted" ]]; then
        print -r -- "ok: ${*[2,-1]} -> $got"
    else
        print -r -- "FAILED: ${*[2,-1]}: wanted '$wanted', got '$got'"
        (( failures++ ))
    fi
}

expect "recover replay resume" healctl re
expect "is-failed" healctl is
expect "--json" healctl --js
expect "--no-color" healctl --no
expect "--since" healctl replay --si
expect "--episodes" healctl train --ep
expect "--json" healctl --user status --js
expect "cpu_runaway crash" healctl --user simulate-failure --kind c
expect "restart" healctl recover --action res
expect "<files>" healctl replay ""
expect "<files>" healctl replay --config ""
# Every command of `healctl --help` is offered for an empty word.
listed=$(healctl --help | awk '/^Subcommands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' | sort | tr '\n' ' ' | sed 's/ $//')
[[ -n $listed ]] || { print "FAILED: healctl --help lists no command"; (( failures++ )) }
expect "$listed" healctl ""
(( failures == 0 )) || { print "$failures completion(s) wrong"; exit 1 }
print "all completions right"
