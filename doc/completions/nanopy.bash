# bash completion for nanopy (generated from its help texts by doc/generate.py)
_nanopy() {
    local cur=${COMP_WORDS[COMP_CWORD]} opts names=""
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "None --help --version" -- "$cur"))
        return
    fi
    case ${COMP_WORDS[1]} in
        agent) opts="-f --file --no-stdin -s --system --model --provider -c --continue --session --json --stream --no-tools --schema --schema-multi --to -h --help" ;;
        chat) opts="--session --model --provider --no-tools -s --system -h --help" ;;
        rules) opts="-h --help" ;;
        rules-forget) opts="-h --help" ;;
        rules-clear) opts="-h --help" ;;
        tools) opts="--refresh -h --help" ;;
        log) opts="--session --job --json -n -h --help" ;;
        sessions) opts="--json -h --help" ;;
        session-clear) opts="-h --help"; names=$(nanopy sessions --json 2>/dev/null | sed -n 's/^    "name": "\(.*\)",$/\1/p') ;;
        usage) opts="--since --json -h --help" ;;
        memory-get) opts="-h --help" ;;
        memory-set) opts="--ttl -h --help" ;;
        memory-delete) opts="-h --help" ;;
        memory-keys) opts="-h --help" ;;
        cron-add) opts="--name --message --cron --at --in --every --tz --grace --notify --to --notify-on --check --quiet --file --model --provider --session --no-tools --replace -h --help" ;;
        cron-edit) opts="--notify --model --provider --session --to --check --message --cron --at --in --every --tz --grace --no-tools --notify-on --quiet --file --tools --no-quiet -h --help"; names=$(nanopy cron-list --json 2>/dev/null | sed -n 's/^    "name": "\(.*\)",$/\1/p') ;;
        cron-list) opts="--json -h --help" ;;
        cron-remove) opts="-h --help"; names=$(nanopy cron-list --json 2>/dev/null | sed -n 's/^    "name": "\(.*\)",$/\1/p') ;;
        cron-enable) opts="-h --help"; names=$(nanopy cron-list --json 2>/dev/null | sed -n 's/^    "name": "\(.*\)",$/\1/p') ;;
        cron-disable) opts="-h --help"; names=$(nanopy cron-list --json 2>/dev/null | sed -n 's/^    "name": "\(.*\)",$/\1/p') ;;
        cron-next) opts="--at --in --every --tz --from -n -h --help" ;;
        cron-run) opts="--once -h --help" ;;
        serve) opts="-h --help" ;;
        cron-fire) opts="-h --help"; names=$(nanopy cron-list --json 2>/dev/null | sed -n 's/^    "name": "\(.*\)",$/\1/p') ;;
        cron-history) opts="--limit --json -h --help"; names=$(nanopy cron-list --json 2>/dev/null | sed -n 's/^    "name": "\(.*\)",$/\1/p') ;;
        notify) opts="-h --help" ;;
        config) opts="--model -h --help" ;;
        doctor) opts="-h --help" ;;
        *) opts="" ;;
    esac
    case $cur in
        -*) COMPREPLY=($(compgen -W "$opts" -- "$cur")) ;;
        *) if [ -n "$names" ]; then
               local IFS=$'\n'
               COMPREPLY=($(compgen -W "$names" -- "$cur"))
           else
               COMPREPLY=($(compgen -f -- "$cur"))
           fi ;;
    esac
}
complete -F _nanopy nanopy
