# bash completion for nanopy (generated from its help texts by doc/generate.py)
_nanopy() {
    local cur=${COMP_WORDS[COMP_CWORD]} opts
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "agent rules rules-forget rules-clear tools log sessions session-clear usage memory-get memory-set memory-delete memory-keys cron-add cron-edit cron-list cron-remove cron-enable cron-disable cron-next cron-run cron-fire cron-history config doctor --help --version" -- "$cur"))
        return
    fi
    case ${COMP_WORDS[1]} in
        agent) opts="-f --file --no-stdin -s --system --model --provider -c --continue --session --json --stream --no-tools -h --help" ;;
        rules) opts="" ;;
        rules-forget) opts="" ;;
        rules-clear) opts="" ;;
        tools) opts="--refresh" ;;
        log) opts="--session --job --json -n" ;;
        sessions) opts="--json" ;;
        session-clear) opts="" ;;
        usage) opts="--since --json" ;;
        memory-get) opts="" ;;
        memory-set) opts="--ttl" ;;
        memory-delete) opts="" ;;
        memory-keys) opts="" ;;
        cron-add) opts="--name --message --cron --at --in --every --tz --grace --notify --model --provider --session --no-tools --replace -h --help" ;;
        cron-edit) opts="--notify --model --provider --session --message --cron --at --in --every --tz --grace --no-tools --tools -h --help" ;;
        cron-list) opts="--json" ;;
        cron-remove) opts="" ;;
        cron-enable) opts="" ;;
        cron-disable) opts="" ;;
        cron-next) opts="--at --in --every --tz --from -n" ;;
        cron-run) opts="--once" ;;
        cron-fire) opts="" ;;
        cron-history) opts="--limit --json" ;;
        config) opts="" ;;
        doctor) opts="" ;;
        *) opts="" ;;
    esac
    case $cur in
        -*) COMPREPLY=($(compgen -W "$opts" -- "$cur")) ;;
        *) COMPREPLY=($(compgen -f -- "$cur")) ;;
    esac
}
complete -F _nanopy nanopy
