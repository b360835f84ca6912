# fish completion for nanopy (generated from its help texts by doc/generate.py)
complete -c nanopy -f
complete -c nanopy -n __fish_use_subcommand -a agent -d 'one agent turn (message from stdin when absent or `-`)'
complete -c nanopy -n __fish_use_subcommand -a chat -d 'a conversation of many turns'
complete -c nanopy -n __fish_use_subcommand -a rules -d 'list the learned feedback rules, numbered'
complete -c nanopy -n __fish_use_subcommand -a rules-forget -d 'forget rule N'
complete -c nanopy -n __fish_use_subcommand -a rules-clear -d 'forget the learned rules'
complete -c nanopy -n __fish_use_subcommand -a tools -d 'list the tools and their parameters'
complete -c nanopy -n __fish_use_subcommand -a log -d 'past turns, newest first'
complete -c nanopy -n __fish_use_subcommand -a sessions -d 'the named conversations'
complete -c nanopy -n __fish_use_subcommand -a session-clear -d 'forget a named conversation'
complete -c nanopy -n __fish_use_subcommand -a usage -d 'tokens per day, provider and model'
complete -c nanopy -n __fish_use_subcommand -a memory-get -d 'print a value'
complete -c nanopy -n __fish_use_subcommand -a memory-set -d 'store a value (JSON if it parses, else a string)'
complete -c nanopy -n __fish_use_subcommand -a memory-delete -d 'remove a key'
complete -c nanopy -n __fish_use_subcommand -a memory-keys -d 'list the keys'
complete -c nanopy -n __fish_use_subcommand -a cron-add -d 'store a scheduled agent job'
complete -c nanopy -n __fish_use_subcommand -a cron-edit -d 'change a job, keeping its history'
complete -c nanopy -n __fish_use_subcommand -a cron-list -d 'list the jobs'
complete -c nanopy -n __fish_use_subcommand -a cron-remove -d 'remove a job'
complete -c nanopy -n __fish_use_subcommand -a cron-enable -d 'enable a job'
complete -c nanopy -n __fish_use_subcommand -a cron-disable -d 'disable a job'
complete -c nanopy -n __fish_use_subcommand -a cron-next -d 'print the next fire times of a schedule'
complete -c nanopy -n __fish_use_subcommand -a cron-run -d 'run the scheduler'
complete -c nanopy -n __fish_use_subcommand -a serve -d 'run the scheduler (and the Telegram bot, once it is built)'
complete -c nanopy -n __fish_use_subcommand -a cron-fire -d 'run a job now'
complete -c nanopy -n __fish_use_subcommand -a cron-history -d 'past runs'
complete -c nanopy -n __fish_use_subcommand -a notify -d 'send TEXT (or stdin) to delivery targets now'
complete -c nanopy -n __fish_use_subcommand -a config -d 'show the files in use and the effective configuration'
complete -c nanopy -n __fish_use_subcommand -a doctor -d 'check config, files, stores, time zone and provider'
complete -c nanopy -n '__fish_seen_subcommand_from agent' -s f -l file -r -F -d 'add a UTF-8 text file, `-` (stdin) or an http(s) page (HTML is'
complete -c nanopy -n '__fish_seen_subcommand_from agent' -l no-stdin -d 'do not read stdin as input for the message'
complete -c nanopy -n '__fish_seen_subcommand_from agent' -s s -l system -r -F -d 'use TEXT as the system prompt for this turn'
complete -c nanopy -n '__fish_seen_subcommand_from agent' -l model -r -F -d 'use model M, or an alias for a provider and model (`aliases`)'
complete -c nanopy -n '__fish_seen_subcommand_from agent' -l provider -r -F -d 'use the provider NAME (`providers`) instead of `default_provider`'
complete -c nanopy -n '__fish_seen_subcommand_from agent' -s c -l continue -d 'continue your most recent conversation'
complete -c nanopy -n '__fish_seen_subcommand_from agent' -l session -r -F -d 'continue (or start) the conversation NAME'
complete -c nanopy -n '__fish_seen_subcommand_from agent' -l json -d 'print one JSON object: reply, tool_calls, rule_learned, model,'
complete -c nanopy -n '__fish_seen_subcommand_from agent' -l stream -d 'print the reply as it arrives'
complete -c nanopy -n '__fish_seen_subcommand_from agent' -l no-tools -d 'offer no tools to the model'
complete -c nanopy -n '__fish_seen_subcommand_from agent' -l schema -r -F -d 'answer with one line of JSON matching SCHEMA: a JSON Schema (inline,'
complete -c nanopy -n '__fish_seen_subcommand_from agent' -l schema-multi -r -F
complete -c nanopy -n '__fish_seen_subcommand_from agent' -l to -r -F -d 'deliver the reply to TARGET too (a name in `targets`, or'
complete -c nanopy -n '__fish_seen_subcommand_from agent' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from chat' -l session -r -F -d 'continue (or start) the session NAME'
complete -c nanopy -n '__fish_seen_subcommand_from chat' -l model -r -F -d 'use model M, or an alias'
complete -c nanopy -n '__fish_seen_subcommand_from chat' -l provider -r -F -d 'use the provider NAME'
complete -c nanopy -n '__fish_seen_subcommand_from chat' -l no-tools -d 'offer no tools to the model'
complete -c nanopy -n '__fish_seen_subcommand_from chat' -s s -l system -r -F -d 'use TEXT as the system prompt'
complete -c nanopy -n '__fish_seen_subcommand_from chat' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from rules' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from rules-forget' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from rules-clear' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from tools' -l refresh -d 'start every MCP server and list its tools again, updating the cache'
complete -c nanopy -n '__fish_seen_subcommand_from tools' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from log' -l session -r -F -d 'only the turns of the conversation NAME'
complete -c nanopy -n '__fish_seen_subcommand_from log' -l job -r -F -d 'only the turns of the job NAME'
complete -c nanopy -n '__fish_seen_subcommand_from log' -l json -d 'print a JSON array'
complete -c nanopy -n '__fish_seen_subcommand_from log' -s n -r -F -d 'at most N turns (default 20)'
complete -c nanopy -n '__fish_seen_subcommand_from log' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from sessions' -l json
complete -c nanopy -n '__fish_seen_subcommand_from sessions' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from session-clear' -a '(nanopy sessions --json 2>/dev/null | sed -n \'s/^    "name": "\\(.*\\)",$/\\1/p\')'
complete -c nanopy -n '__fish_seen_subcommand_from session-clear' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from usage' -l since -r -F -d 'from X ago (7d, 12h) or from the date X (2026-12-01); default all'
complete -c nanopy -n '__fish_seen_subcommand_from usage' -l json -d 'print a JSON array'
complete -c nanopy -n '__fish_seen_subcommand_from usage' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from memory-get' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from memory-set' -l ttl -r -F -d 'forget the key after DURATION, like 90s, 15m, 2h or 7d'
complete -c nanopy -n '__fish_seen_subcommand_from memory-set' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from memory-delete' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from memory-keys' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from cron-add' -l name -r -F
complete -c nanopy -n '__fish_seen_subcommand_from cron-add' -l message -r -F
complete -c nanopy -n '__fish_seen_subcommand_from cron-add' -l cron -r -F -d 'a 5-field crontab expression (minute hour day-of-month month'
complete -c nanopy -n '__fish_seen_subcommand_from cron-add' -l at -r -F -d 'once, at TIME: RFC 3339 (2026-12-24T18:00:00+01:00), or'
complete -c nanopy -n '__fish_seen_subcommand_from cron-add' -l in -r -F -d 'once, DURATION from now, like 90s, 15m, 2h, 7d or 1h30m'
complete -c nanopy -n '__fish_seen_subcommand_from cron-add' -l every -r -F -d 'at fixed intervals (at least 1m) from the moment it is added'
complete -c nanopy -n '__fish_seen_subcommand_from cron-add' -l tz -r -F -d 'IANA time zone of the schedule (default: the system zone)'
complete -c nanopy -n '__fish_seen_subcommand_from cron-add' -l grace -r -F -d 'run a fire missed by at most SECS after downtime (default 600)'
complete -c nanopy -n '__fish_seen_subcommand_from cron-add' -l notify -r -F -d 'run `sh -c CMD` after each run, with the reply on stdin (and'
complete -c nanopy -n '__fish_seen_subcommand_from cron-add' -l to -r -F -d 'deliver each run to TARGET (a name in `targets`, or'
complete -c nanopy -n '__fish_seen_subcommand_from cron-add' -l notify-on -r -F
complete -c nanopy -n '__fish_seen_subcommand_from cron-add' -l check -r -F -d 'run `sh -c CMD` first: exit 0 runs the turn with its output as input,'
complete -c nanopy -n '__fish_seen_subcommand_from cron-add' -l quiet -d 'let the turn answer NOTHING_TO_REPORT, which makes the run `quiet`'
complete -c nanopy -n '__fish_seen_subcommand_from cron-add' -l file -r -F -d 'read PATH at every fire and send it with the message (text, or a'
complete -c nanopy -n '__fish_seen_subcommand_from cron-add' -l model -r -F -d 'use model M (or an alias) for this job\'s turns (default: the config\'s)'
complete -c nanopy -n '__fish_seen_subcommand_from cron-add' -l provider -r -F -d 'use the provider NAME for this job\'s turns (default: the config\'s)'
complete -c nanopy -n '__fish_seen_subcommand_from cron-add' -l session -r -F -d 'every run continues the conversation NAME, so it knows what it'
complete -c nanopy -n '__fish_seen_subcommand_from cron-add' -l no-tools -d 'offer no tools to this job\'s turns'
complete -c nanopy -n '__fish_seen_subcommand_from cron-add' -l replace -d 'replace a job of the same name (its history stays)'
complete -c nanopy -n '__fish_seen_subcommand_from cron-add' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from cron-edit' -a '(nanopy cron-list --json 2>/dev/null | sed -n \'s/^    "name": "\\(.*\\)",$/\\1/p\')'
complete -c nanopy -n '__fish_seen_subcommand_from cron-edit' -l notify
complete -c nanopy -n '__fish_seen_subcommand_from cron-edit' -l model
complete -c nanopy -n '__fish_seen_subcommand_from cron-edit' -l provider
complete -c nanopy -n '__fish_seen_subcommand_from cron-edit' -l session
complete -c nanopy -n '__fish_seen_subcommand_from cron-edit' -l to
complete -c nanopy -n '__fish_seen_subcommand_from cron-edit' -l check
complete -c nanopy -n '__fish_seen_subcommand_from cron-edit' -l message -r -F
complete -c nanopy -n '__fish_seen_subcommand_from cron-edit' -l cron -r -F
complete -c nanopy -n '__fish_seen_subcommand_from cron-edit' -l at -r -F
complete -c nanopy -n '__fish_seen_subcommand_from cron-edit' -l in -r -F
complete -c nanopy -n '__fish_seen_subcommand_from cron-edit' -l every -r -F
complete -c nanopy -n '__fish_seen_subcommand_from cron-edit' -l tz -r -F
complete -c nanopy -n '__fish_seen_subcommand_from cron-edit' -l grace -r -F
complete -c nanopy -n '__fish_seen_subcommand_from cron-edit' -l no-tools
complete -c nanopy -n '__fish_seen_subcommand_from cron-edit' -l notify-on -r -F
complete -c nanopy -n '__fish_seen_subcommand_from cron-edit' -l quiet
complete -c nanopy -n '__fish_seen_subcommand_from cron-edit' -l file -r -F
complete -c nanopy -n '__fish_seen_subcommand_from cron-edit' -l tools -d 'offer tools to the job\'s turns again'
complete -c nanopy -n '__fish_seen_subcommand_from cron-edit' -l no-quiet -d 'the turn may no longer answer NOTHING_TO_REPORT'
complete -c nanopy -n '__fish_seen_subcommand_from cron-edit' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from cron-list' -l json
complete -c nanopy -n '__fish_seen_subcommand_from cron-list' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from cron-remove' -a '(nanopy cron-list --json 2>/dev/null | sed -n \'s/^    "name": "\\(.*\\)",$/\\1/p\')'
complete -c nanopy -n '__fish_seen_subcommand_from cron-remove' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from cron-enable' -a '(nanopy cron-list --json 2>/dev/null | sed -n \'s/^    "name": "\\(.*\\)",$/\\1/p\')'
complete -c nanopy -n '__fish_seen_subcommand_from cron-enable' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from cron-disable' -a '(nanopy cron-list --json 2>/dev/null | sed -n \'s/^    "name": "\\(.*\\)",$/\\1/p\')'
complete -c nanopy -n '__fish_seen_subcommand_from cron-disable' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from cron-next' -l at -r -F
complete -c nanopy -n '__fish_seen_subcommand_from cron-next' -l in -r -F
complete -c nanopy -n '__fish_seen_subcommand_from cron-next' -l every -r -F
complete -c nanopy -n '__fish_seen_subcommand_from cron-next' -l tz -r -F -d 'the time zone (default: the system zone)'
complete -c nanopy -n '__fish_seen_subcommand_from cron-next' -l from -d 'start after TIME (RFC 3339, e.g. 2026-03-08T00:00:00Z) instead of now'
complete -c nanopy -n '__fish_seen_subcommand_from cron-next' -s n -r -F -d 'how many fire times'
complete -c nanopy -n '__fish_seen_subcommand_from cron-next' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from cron-run' -l once -d 'run what is due now, then exit (for the system crontab)'
complete -c nanopy -n '__fish_seen_subcommand_from cron-run' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from serve' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from cron-fire' -a '(nanopy cron-list --json 2>/dev/null | sed -n \'s/^    "name": "\\(.*\\)",$/\\1/p\')'
complete -c nanopy -n '__fish_seen_subcommand_from cron-fire' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from cron-history' -a '(nanopy cron-list --json 2>/dev/null | sed -n \'s/^    "name": "\\(.*\\)",$/\\1/p\')'
complete -c nanopy -n '__fish_seen_subcommand_from cron-history' -l limit -r -F -d 'at most N runs (default 20)'
complete -c nanopy -n '__fish_seen_subcommand_from cron-history' -l json -d 'print a JSON array'
complete -c nanopy -n '__fish_seen_subcommand_from cron-history' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from notify' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from config' -l model -r -F
complete -c nanopy -n '__fish_seen_subcommand_from config' -s h -l help -d 'print this help'
complete -c nanopy -n '__fish_seen_subcommand_from doctor' -s h -l help -d 'print this help'
