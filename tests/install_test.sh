#!/usr/bin/env bash
# `make test-install`: `make install` and `make install-systemd` into a temporary DESTDIR with
# a PREFIX, then checks the tree: every file in place with its mode, the installed binary
# runs, the unit starts the installed binary. Usage: tests/install_test.sh BINARY
set -euo pipefail
binary=$(realpath "$1")
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
passed=0
check() { # name condition...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $name";
  else echo "FAIL $name"; find "$root" -printf '%m %p\n'; exit 1; fi
}
make -s install DESTDIR="$root" PREFIX=/opt/nanopy INSTALL_BIN="$binary" >/dev/null
make -s install-systemd DESTDIR="$root" PREFIX=/opt/nanopy SYSTEMD_DIR=/lib/systemd/system >/dev/null
mode() { stat -c %a "$root/$1"; }
check "binary, 0755" test "$(mode opt/nanopy/bin/nanopy)" = 755
check "installed binary runs" test "$("$root/opt/nanopy/bin/nanopy" --version)" = "$("$binary" --version)"
check "man page, 0644" test "$(mode opt/nanopy/share/man/man1/nanopy.1)" = 644
check "bash completion" test -s "$root/opt/nanopy/share/bash-completion/completions/nanopy"
check "zsh completion" test -s "$root/opt/nanopy/share/zsh/site-functions/_nanopy"
check "fish completion" test -s "$root/opt/nanopy/share/fish/vendor_completions.d/nanopy.fish"
share=$root/opt/nanopy/share
check "bash completes an option" test "$(bash -c 'source "$1"; COMP_WORDS=(nanopy cron-add --rep)
  COMP_CWORD=2; _nanopy; echo "${COMPREPLY[*]}"' _ "$share/bash-completion/completions/nanopy")" = --replace
check "zsh completion parses" zsh -n "$share/zsh/site-functions/_nanopy"
check "fish completes a command" test "$(fish -c "source $share/fish/vendor_completions.d/nanopy.fish
  complete -C 'nanopy cron-a'")" = "$(printf 'cron-add\tstore a scheduled agent job')"
# Job and session names complete from the store and the log, through the installed binary.
export NANOPYBOT_HOME="$root/home" PATH="$root/opt/nanopy/bin:$PATH"
nanopy cron-add --name daily-digest --message m --cron '0 7 * * *' >/dev/null
nanopy cron-add --name 'two words' --message m --cron '0 8 * * *' >/dev/null
check "bash completes a job name" test "$(bash -c 'source "$1"; COMP_WORDS=(nanopy cron-remove da)
  COMP_CWORD=2; _nanopy; echo "${COMPREPLY[*]}"' _ "$share/bash-completion/completions/nanopy")" = daily-digest
check "bash completes a name with a space" test "$(bash -c 'source "$1"; COMP_WORDS=(nanopy cron-fire tw)
  COMP_CWORD=2; _nanopy; echo "${COMPREPLY[*]}"' _ "$share/bash-completion/completions/nanopy")" = "two words"
check "bash offers --help for every command" test "$(bash -c 'source "$1"; COMP_WORDS=(nanopy memory-get --h)
  COMP_CWORD=2; _nanopy; echo "${COMPREPLY[*]}"' _ "$share/bash-completion/completions/nanopy")" = --help
check "fish completes a job name" test "$(fish -c "source $share/fish/vendor_completions.d/nanopy.fish
  complete -C 'nanopy cron-remove dai'")" = daily-digest
rm -rf "$root/home"
check "man page has ENVIRONMENT, FILES and CONFIGURATION" sh -c \
  'grep -q "^.SH ENVIRONMENT" "$1" && grep -q "^.SH FILES" "$1" && grep -q "^.SH CONFIGURATION" "$1"' \
  _ "$share/man/man1/nanopy.1"
check "man page renders without warnings" test -z "$(man --warnings -l "$share/man/man1/nanopy.1" 2>&1 >/dev/null)"
unit=$root/lib/systemd/system/nanopy-cron@.service
check "systemd unit, 0644" test "$(stat -c %a "$unit")" = 644
check "unit starts the installed binary" grep -qx 'ExecStart=/opt/nanopy/bin/nanopy cron-run' "$unit"
check "nothing outside DESTDIR's prefix and unit dir" test "$(find "$root" -type f | wc -l)" = 6
echo "$passed passed, 0 failed"
