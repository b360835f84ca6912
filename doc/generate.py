#!/usr/bin/env python3
"""Writes the man page and the bash, zsh and fish completions from the help texts the binary
prints (`nanopy --help`, `nanopy COMMAND --help`), so that they cannot drift from it: the
commands come from the overview, each command's options from its own help.

Usage: doc/generate.py NANOPY_BINARY OUT_DIR
Writes OUT_DIR/nanopy.1 and OUT_DIR/completions/{nanopy.bash,_nanopy,nanopy.fish}. The copies
in doc/ are checked against a fresh run by a test (tests/it/docs.rs).
"""

import os
import re
import subprocess
import sys

COMMAND_LINE = re.compile(r"^  ([a-z][a-z-]*)(?: [^ ].*?)?\s{2,}(\S.*)$")
OPTION_LINE = re.compile(r"^\s+(?:-(\w)(?:, )?)?(?:--([a-z][a-z-]*))?(?: ([A-Z][^ ]*))?\s{2,}(\S.*)$")
SHORT_LINE = re.compile(r"^\s+-(\w)(?:, --([a-z][a-z-]*))?[ ,]")
LONG_OPTION = re.compile(r"(?<![\w-])--([a-z][a-z-]*)((?: [A-Z][A-Z|.]*\b)?)")


def help_of(binary, *command):
    result = subprocess.run([binary] + list(command) + ["--help"], capture_output=True,
                            text=True, stdin=subprocess.DEVNULL,
                            env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"})
    if result.returncode != 0:
        sys.exit("%s --help failed: %s" % (" ".join(command) or "nanopy", result.stderr))
    return result.stdout


def commands_of(overview):
    """(name, summary) for each command in the overview, in its order."""
    found, in_options = [], False
    for line in overview.splitlines():
        if line == "Options:":
            in_options = True
        elif line and not line.startswith(" "):
            in_options = False
        match = COMMAND_LINE.match(line)
        if match and not in_options:
            found.append((match.group(1), match.group(2)))
    return found


def options_of(text):
    """(short or None, long or None, takes a value, description) for each option a help text
    names, in order: every `--long` anywhere in it (usage line and option lists alike), and
    each `-x` that starts an option line. A description is what follows the option's own
    line, when it has one."""
    found, seen = [], set()
    described = {}
    for line in text.splitlines():
        match = OPTION_LINE.match(line)
        if match and match.group(4):
            described[match.group(2) or match.group(1)] = match.group(4).strip()
    for line in text.splitlines():
        short = SHORT_LINE.match(line)
        if short and short.group(1) not in seen:
            seen.add(short.group(1))
            long = short.group(2)
            if long is None:
                found.append((short.group(1), None, True, described.get(short.group(1), "")))
        for long, value in LONG_OPTION.findall(line):
            if long in seen:
                continue
            seen.add(long)
            pair = short.group(1) if short and short.group(2) == long else None
            found.append((pair, long, bool(value), described.get(long, "")))
    return found


def with_help(options):
    """Every command takes -h/--help, whether or not its help text lists it."""
    if any(long == "help" for _, long, _, _ in options):
        return options
    return options + [("h", "help", False, "print this help")]


# Commands whose argument is a job's name, or a session's: completed from the store and the
# log, quietly (no output, no error) when either is missing.
JOB_COMMANDS = ["cron-edit", "cron-remove", "cron-enable", "cron-disable", "cron-fire",
                "cron-history"]
SESSION_COMMANDS = ["session-clear"]
NAMES = {"jobs": "nanopy cron-list --json 2>/dev/null | sed -n 's/^    \"name\": \"\\(.*\\)\",$/\\1/p'",
         "sessions": "nanopy sessions --json 2>/dev/null | sed -n 's/^    \"name\": \"\\(.*\\)\",$/\\1/p'"}


def names_of(command):
    """The shell pipeline printing the names `command` takes, one a line; None for others."""
    if command in JOB_COMMANDS:
        return NAMES["jobs"]
    if command in SESSION_COMMANDS:
        return NAMES["sessions"]
    return None


def roff(text):
    lines = []
    for line in text.splitlines():
        line = line.replace("\\", "\\e").replace("-", "\\-")
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def section(text, heading):
    """The lines of `text` from `heading` (a line of its own) up to the next unindented line."""
    lines = text.splitlines()
    if heading not in lines:
        return ""
    start = lines.index(heading) + 1
    end = start
    while end < len(lines) and (lines[end].startswith(" ") or not lines[end]):
        end += 1
    return "\n".join(lines[start:end]).rstrip()


def man_page(version, overview, helps):
    summary = overview.splitlines()[0].split(" — ", 1)[1]
    out = [".TH NANOPY 1 \"\" \"nanopy %s\" \"User Commands\"" % version,
           ".SH NAME", "nanopy \\- " + roff(summary),
           ".SH SYNOPSIS", ".B nanopy", ".I COMMAND", "[\\fIARGS\\fR...]",
           ".SH OVERVIEW", ".nf", roff("\n".join(overview.splitlines()[2:])), ".fi",
           ".SH COMMANDS"]
    for name, text in helps:
        out += [".SS %s" % roff(name), ".nf", roff(text.rstrip("\n")), ".fi"]
    config_help = dict(helps).get("config", "")
    keys = [line for line in config_help.splitlines() if line.startswith("Keys of")]
    out += [".SH CONFIGURATION", roff(keys[0] if keys else "Keys of config.json:"), ".nf",
            roff(section(config_help, keys[0]) if keys else ""), ".fi",
            ".SH ENVIRONMENT", ".nf", roff(section(overview, "Environment:")), ".fi",
            ".SH FILES", "The data directory is \\fB$NANOPYBOT_HOME\\fR, else "
            "\\fB~/.nanopybot\\fR (mode 0700); \\fBnanopy config\\fR shows the files in use.",
            ".TP", ".B config.json", "the configuration (mode 0600, written with the defaults on "
            "first run, never overwritten)",
            ".TP", ".B memory.json", "the memory store and the learned rules",
            ".TP", ".B jobs.sqlite", "the job store and the run history",
            ".TP", ".B log.sqlite", "the conversation log",
            ".TP", ".B mcp\\-tools.json", "the cached tool lists of the MCP servers", ""]
    return "\n".join(out)


def bash_completion(commands, options):
    names = " ".join(name for name, _ in commands)
    cases = []
    for name, _ in commands:
        flags = " ".join(flag for short, long, _, _ in options[name]
                         for flag in (short and "-" + short, long and "--" + long) if flag)
        names = names_of(name)
        fill = "; names=$(%s)" % names if names else ""
        cases.append("        %s) opts=\"%s\"%s ;;" % (name, flags, fill))
    return """# bash completion for nanopy (generated from its help texts by doc/generate.py)
_nanopy() {
    local cur=${COMP_WORDS[COMP_CWORD]} opts names=""
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "%s --help --version" -- "$cur"))
        return
    fi
    case ${COMP_WORDS[1]} in
%s
        *) opts="" ;;
    esac
    case $cur in
        -*) COMPREPLY=($(compgen -W "$opts" -- "$cur")) ;;
        *) if [ -n "$names" ]; then
               local IFS=$'\\n'
               COMPREPLY=($(compgen -W "$names" -- "$cur"))
           else
               COMPREPLY=($(compgen -f -- "$cur"))
           fi ;;
    esac
}
complete -F _nanopy nanopy
""" % (names, "\n".join(cases))


def zsh_quote(text):
    return text.replace("\\", "\\\\").replace("'", "'\\''").replace("[", "\\[").replace("]", "\\]").replace(":", "\\:")


def zsh_completion(commands, options):
    listed = "\n".join("    '%s:%s'" % (name, zsh_quote(summary)) for name, summary in commands)
    cases = []
    for name, _ in commands:
        specs = []
        for short, long, value, description in options[name]:
            arg = ":%s:_files" % (long or short) if value else ""
            text = zsh_quote(description)
            if short and not long:
                specs.append("'-%s[%s]%s'" % (short, text, arg))
            elif short:
                specs.append("'(-%s --%s)'{-%s,--%s}'[%s]%s'" % (short, long, short, long, text, arg))
            else:
                specs.append("'--%s[%s]%s'" % (long, text, arg))
        names = names_of(name)
        rest = ("'*:name:(${(f)\"$(%s)\"})'" % names.replace("'", "'\\''")
                if names else "'*:argument:_files'")
        cases.append("        %s) _arguments %s %s ;;" % (name, " ".join(specs), rest))
    return """#compdef nanopy
# zsh completion for nanopy (generated from its help texts by doc/generate.py)
_nanopy() {
  local -a commands
  commands=(
%s
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  shift words; (( CURRENT-- ))
  case $words[1] in
%s
  esac
}
_nanopy "$@"
""" % (listed, "\n".join(cases))


def fish_quote(text):
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish_completion(commands, options):
    out = ["# fish completion for nanopy (generated from its help texts by doc/generate.py)",
           "complete -c nanopy -f"]
    for name, summary in commands:
        out.append("complete -c nanopy -n __fish_use_subcommand -a %s -d %s"
                   % (name, fish_quote(summary)))
    for name, _ in commands:
        names = names_of(name)
        if names:
            out.append("complete -c nanopy -n %s -a %s"
                       % (fish_quote("__fish_seen_subcommand_from " + name),
                          fish_quote("(%s)" % names)))
        for short, long, value, description in options[name]:
            parts = ["complete -c nanopy -n %s" % fish_quote("__fish_seen_subcommand_from " + name)]
            if short:
                parts.append("-s " + short)
            if long:
                parts.append("-l " + long)
            if value:
                parts.append("-r -F")
            if description:
                parts.append("-d " + fish_quote(description))
            out.append(" ".join(parts))
    return "\n".join(out) + "\n"


def main():
    binary, out_dir = sys.argv[1], sys.argv[2]
    overview = help_of(binary)
    version = subprocess.run([binary, "--version"], capture_output=True, text=True,
                             check=True).stdout.split()[-1]
    commands = commands_of(overview)
    helps = [(name, help_of(binary, name)) for name, _ in commands]
    options = {name: with_help(options_of(text)) for name, text in helps}
    os.makedirs(os.path.join(out_dir, "completions"), exist_ok=True)
    files = {"nanopy.1": man_page(version, overview, helps),
             "completions/nanopy.bash": bash_completion(commands, options),
             "completions/_nanopy": zsh_completion(commands, options),
             "completions/nanopy.fish": fish_completion(commands, options)}
    for path, text in files.items():
        with open(os.path.join(out_dir, path), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
