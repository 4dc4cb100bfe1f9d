# bash completion for healctl. Commands and options are read from
# `healctl --help` and `healctl COMMAND --help`, so they never fall out of
# step with the program.

_healctl_commands() {
    healctl --help 2>/dev/null | awk '/^Subcommands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'
}

_healctl() {
    local cur prev words cword
    _init_completion || return

    local i command=""
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            -*) ;;
            *) command=${words[i]}; break ;;
        esac
    done

    case $prev in
        --config | --database)
            _filedir
            return
            ;;
        --unit | -u)
            mapfile -t COMPREPLY < <(compgen -W "machine $(systemctl list-units --type=service --all --plain --no-legend 2>/dev/null | awk '{ print $1 }')" -- "$cur")
            return
            ;;
        --kind | -k | --action | -a | --format)
            # CLI11 lists the choices as {a,b,c}.
            local choices
            choices=$(healctl "$command" --help 2>/dev/null | sed -n "s/.*${prev}[^{]*{\([^}]*\)}.*/\1/p" | head -n 1)
            mapfile -t COMPREPLY < <(compgen -W "${choices//,/ }" -- "$cur")
            return
            ;;
    esac

    if [[ -z $command ]]; then
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "--json --user --no-color --help --version" -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -W "$(_healctl_commands)" -- "$cur")
        fi
        return
    fi
    if [[ $cur == -* ]]; then
        # The help's footer names the global options too.
        mapfile -t COMPREPLY < <(compgen -W "$(healctl "$command" --help 2>/dev/null | grep -oE -- '--[a-z][a-z-]*' | sort -u)" -- "$cur")
    elif [[ $command == replay ]]; then
        _filedir
    fi
} &&
    complete -F _healctl healctl
