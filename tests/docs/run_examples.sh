#!/usr/bin/env bash
# run_examples.sh: runs the shell examples of README.md and docs/*.md and
# checks their output. The convention it enforces is docs/examples.md.
#
#   run_examples.sh --source DIR --bin DIR --ports PROGRAM
#
# --source is the source tree (README.md, docs/, etc/), --bin the build's
# executables, --ports the docs-free-ports helper. Every ```sh block of a
# file runs, in order, in one bash session of its own, in a fresh directory
# holding build/bin (a link to --bin) and a copy of etc/; fixed loopback
# ports are replaced by free ones throughout. ```sh norun blocks are counted
# and listed with their reasons.
# Exit: 0 all good, 1 an example failed or a file breaks the convention,
# 2 usage.
set -u
set -o pipefail

source_dir="" bin_dir="" ports_prog=""
# Each file's session is bounded, and all of them together, so the test
# ends (and says which command hung) before ctest's own timeout.
session_timeout_s=${DOCS_SESSION_TIMEOUT_S:-60}
total_timeout_s=${DOCS_TOTAL_TIMEOUT_S:-200}
while [ $# -gt 0 ]; do
	case $1 in
	--source) source_dir=$2; shift 2 ;;
	--bin) bin_dir=$2; shift 2 ;;
	--ports) ports_prog=$2; shift 2 ;;
	*) echo "run_examples.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
if [ -z "$source_dir" ] || [ -z "$bin_dir" ] || [ -z "$ports_prog" ]; then
	echo "usage: run_examples.sh --source DIR --bin DIR --ports PROGRAM" >&2
	exit 2
fi
source_dir=$(cd "$source_dir" && pwd) || exit 2
bin_dir=$(cd "$bin_dir" && pwd) || exit 2

top=$(mktemp -d "${TMPDIR:-/tmp}/docs-examples-XXXXXX") || exit 1
# DOCS_EXAMPLES_KEEP=1 keeps the sessions (scripts, each command's output).
if [ "${DOCS_EXAMPLES_KEEP:-0}" = 1 ]; then
	trap 'echo "sessions kept in $top"' EXIT
else
	trap 'rm -rf "$top"' EXIT
fi

failures=0      # examples that failed, and files that break the convention
blocks_run=0 commands_run=0 files_run=0
norun_list=()   # "file:line: reason" of every ```sh norun block

fail() { failures=$((failures + 1)); printf 'FAIL %s\n' "$*"; }

# The command names a code line may start with that make it an example.
looks_like_command() {
	[[ $1 =~ ^(\$\ |build/bin/|scripts/|make\ |(switchd|switchctl|iso8583|ledger|banksim|pspsim|bench-[a-z0-9-]+)(\ |$)) ]]
}

# convention FILE LINE MESSAGE: a break of the convention.
convention() {
	fail "$1:$2: $3 (docs/examples.md)"
}

# ---- matching -------------------------------------------------------------

# match_line ACTUAL EXPECTED: EXPECTED with each "..." matching any text.
match_line() {
	local act=$1 exp=$2 part
	if [[ $exp != *...* ]]; then
		[[ $act == "$exp" ]]
		return
	fi
	part=${exp%%...*}
	[[ $act == "$part"* ]] || return 1
	act=${act#"$part"}
	exp=${exp#*...}
	while [[ $exp == *...* ]]; do
		part=${exp%%...*}
		exp=${exp#*...}
		[[ $act == *"$part"* ]] || return 1
		act=${act#*"$part"}
	done
	[[ $act == *"$exp" ]]
}

# match_lines ACTUAL_FILE EXPECTED_FILE: line by line; a line "..." alone
# matches any lines up to the first that matches the line after it (any
# lines at all if it is the last). Trailing blanks of a line and trailing
# blank lines are ignored.
match_lines() {
	local -a act exp
	mapfile -t act < <(sed -e 's/[[:space:]]*$//' "$1" | sed -e ':a' -e '/^\n*$/{$d;N;ba' -e '}')
	mapfile -t exp < <(sed -e 's/[[:space:]]*$//' "$2" | sed -e ':a' -e '/^\n*$/{$d;N;ba' -e '}')
	local i=0 j=0
	while [ $j -lt ${#exp[@]} ]; do
		if [ "${exp[j]}" = "..." ]; then
			j=$((j + 1))
			[ $j -lt ${#exp[@]} ] || return 0
			while [ $i -lt ${#act[@]} ] && ! match_line "${act[i]}" "${exp[j]}"; do
				i=$((i + 1))
			done
			[ $i -lt ${#act[@]} ] || return 1
		fi
		[ $i -lt ${#act[@]} ] || return 1
		match_line "${act[i]}" "${exp[j]}" || return 1
		i=$((i + 1)) j=$((j + 1))
	done
	[ $i -eq ${#act[@]} ]
}

# ---- parsing --------------------------------------------------------------
# parse FILE writes the session of FILE: $sess/script.in (the bash script,
# fixed ports not yet replaced), $sess/cmd.N.expected and $sess/cmds (one
# line per command: N, line, background flag), and counts its blocks.

sh_blocks=0
ncmd=0

emit() { printf '%s\n' "$@" >> "$sess/script.in"; }

# sh_block FILE LINE: the lines of one ```sh block, in the array blk.
sh_block() {
	local file=$1 first=$2 n=${#blk[@]} i=0 line cmd start delim bg ready
	while [ $i -lt $n ] && [ -z "${blk[i]//[[:space:]]/}" ]; do i=$((i + 1)); done
	if [ $i -ge $n ]; then
		convention "$file" "$first" "empty \`\`\`sh block"
		return
	fi
	if [[ ${blk[i]} != '$ '* ]]; then
		convention "$file" $((first + i + 1)) "a \`\`\`sh block starts with a command (\"\$ \")"
		return
	fi
	sh_blocks=$((sh_blocks + 1))
	while [ $i -lt $n ]; do
		start=$((first + i + 1))
		cmd=${blk[i]#\$ }
		i=$((i + 1))
		# Continuation lines, then a here-document's body, belong to the
		# command.
		while [[ $cmd == *\\ ]] && [ $i -lt $n ]; do
			cmd+=$'\n'${blk[i]}
			i=$((i + 1))
		done
		if [[ $cmd =~ \<\<-?[[:space:]]*[\'\"]?([A-Za-z_][A-Za-z0-9_]*)[\'\"]? ]]; then
			delim=${BASH_REMATCH[1]}
			while [ $i -lt $n ] && [ "${blk[i]}" != "$delim" ]; do
				cmd+=$'\n'${blk[i]}
				i=$((i + 1))
			done
			if [ $i -ge $n ]; then
				convention "$file" "$start" "here-document without its $delim line"
				return
			fi
			cmd+=$'\n'${blk[i]}
			i=$((i + 1))
		fi
		ncmd=$((ncmd + 1))
		: > "$sess/cmd.$ncmd.expected"
		while [ $i -lt $n ] && [[ ${blk[i]} != '$ '* ]]; do
			printf '%s\n' "${blk[i]}" >> "$sess/cmd.$ncmd.expected"
			i=$((i + 1))
		done
		bg=0 ready=""
		[[ ${cmd##*$'\n'} =~ [^\&]\&[[:space:]]*$ ]] && bg=1
		[[ $cmd =~ --ready-file[=\ ]([^[:space:]]+) ]] && ready=${BASH_REMATCH[1]}
		if [ $bg = 1 ] && grep -q '[^[:space:]]' "$sess/cmd.$ncmd.expected"; then
			convention "$file" "$start" "a background command (&) shows no output"
		fi
		printf '%s %s %s\n' "$ncmd" "$start" "$bg" >> "$sess/cmds"
		printf '%s\n' "$cmd" > "$sess/cmd.$ncmd.text"
		emit "" "# $file:$start" "echo $ncmd > \"\$__state/current\"" "__ret \$__st"
		emit "{ $cmd" "} > \"\$__state/cmd.$ncmd.out\" 2>&1 < /dev/null"
		emit "__st=\$?; echo \$__st > \"\$__state/cmd.$ncmd.rc\""
		if [ $bg = 1 ] && [ -n "$ready" ]; then
			emit "__ready '$ready' || echo 'its ready file $ready did not appear within 10 s' > \"\$__state/cmd.$ncmd.why\""
		fi
	done
}

# file_block FILE LINE NAME: a block written to NAME before the next command.
file_block() {
	if [[ $3 == /* || $3 == *..* || -z $3 ]]; then
		convention "$1" "$2" "file=$3: a relative path inside the session"
		return
	fi
	emit "" "# $1:$2: file $3" "mkdir -p \"\$(dirname '$3')\"" "cat > '$3' <<'__DOCS_EXAMPLE_EOF__'"
	local l
	for l in "${blk[@]}"; do emit "$l"; done
	emit "__DOCS_EXAMPLE_EOF__"
}

parse() {
	local file=$1 path=$source_dir/$1 lineno=0 line in_fence=0 fence="" info=""
	local start=0 prev_blank=1 word rest
	blk=()
	while IFS= read -r line || [ -n "$line" ]; do
		lineno=$((lineno + 1))
		if [ $in_fence = 0 ]; then
			if [[ $line =~ ^(\`\`\`+|~~~+)[[:space:]]*(.*)$ ]]; then
				in_fence=1 fence=${BASH_REMATCH[1]} info=${BASH_REMATCH[2]}
				start=$lineno blk=()
				continue
			fi
			# An indented code block: four spaces after a blank line (or
			# after another such line).
			if [[ $line == '    '* ]] && [ $prev_blank = 1 ]; then
				if looks_like_command "${line#"${line%%[! ]*}"}"; then
					convention "$file" "$lineno" "indented code with a command: fence it as \`\`\`sh"
				fi
				prev_blank=1
				continue
			fi
			if [ -z "${line//[[:space:]]/}" ]; then prev_blank=1; else prev_blank=0; fi
			continue
		fi
		# Inside a fence: the same character, at least as many, closes it.
		if [[ $line =~ ^(\`\`\`+|~~~+)[[:space:]]*$ ]] &&
		   [ "${BASH_REMATCH[1]:0:1}" = "${fence:0:1}" ] &&
		   [ ${#BASH_REMATCH[1]} -ge ${#fence} ]; then
			in_fence=0 prev_blank=1
			word=${info%%[[:space:]]*}
			rest=${info#"$word"}
			rest=${rest#"${rest%%[![:space:]]*}"}
			case $word in
			sh)
				if [ -z "$rest" ]; then
					sh_block "$file" "$start"
				elif [[ $rest =~ ^norun[[:space:]]+[^[:space:]] ]]; then
					norun_list+=("$file:$start: ${rest#norun }")
				else
					convention "$file" "$start" "\`\`\`sh takes nothing, or \"norun REASON\"; not \"$rest\""
				fi
				;;
			bash | shell | console | sh-session | shell-session | zsh)
				convention "$file" "$start" "a shell block is \`\`\`sh (or \`\`\`sh norun REASON), not \`\`\`$word"
				;;
			markdown | md | text) ;;
			*)
				if [[ $rest =~ (^|[[:space:]])file=([^[:space:]]*) ]]; then
					file_block "$file" "$start" "${BASH_REMATCH[2]}"
				fi
				local l k=0
				for l in "${blk[@]}"; do
					k=$((k + 1))
					if looks_like_command "$l"; then
						convention "$file" $((start + k)) "a command in a \`\`\`${word:-(plain)} block: make it \`\`\`sh, \`\`\`sh norun REASON, or \`\`\`text (a synopsis)"
						break
					fi
				done
				;;
			esac
			continue
		fi
		blk+=("$line")
	done < "$path"
	if [ $in_fence = 1 ]; then
		convention "$file" "$start" "code block never closed"
	fi
}

# ---- running --------------------------------------------------------------

# session FILE: parse, run and check one file's examples.
session() {
	local file=$1
	sess=$top/$(echo "$file" | tr '/' '_')
	mkdir -p "$sess/work/build" "$sess/state"
	: > "$sess/cmds"
	: > "$sess/script.in"
	sh_blocks=0 ncmd=0
	local failures_before=$failures
	parse "$file"
	[ $ncmd -gt 0 ] || return 0
	if [ $failures -gt $failures_before ]; then
		echo "     $file: examples not run (the file breaks the convention)"
		return 0
	fi

	ln -s "$bin_dir" "$sess/work/build/bin"
	cp -R "$source_dir/etc" "$sess/work/etc"

	# Fixed loopback ports, wherever they appear, become free ones: the same
	# port the same free port, throughout the session.
	local -a fixed free
	mapfile -t fixed < <(cat "$sess/script.in" "$sess"/cmd.*.expected "$sess"/work/etc/*.json |
		grep -o '127\.0\.0\.1:[1-9][0-9]*' | sed 's/.*://' | sort -un)
	local sed_in=() sed_out=() k
	if [ ${#fixed[@]} -gt 0 ]; then
		mapfile -t free < <("$ports_prog" ${#fixed[@]})
		if [ ${#free[@]} -ne ${#fixed[@]} ]; then
			fail "$file: could not find ${#fixed[@]} free loopback ports"
			return 0
		fi
		for k in "${!fixed[@]}"; do
			sed_in+=(-e "s/127\\.0\\.0\\.1:${fixed[k]}\\b/127.0.0.1:@@PORT$k@@/g")
			sed_out+=(-e "s/@@PORT$k@@/${free[k]}/g")
		done
		local f
		for f in "$sess/script.in" "$sess"/cmd.*.expected "$sess"/work/etc/*.json; do
			sed -i "${sed_in[@]}" "$f"
			sed -i "${sed_out[@]}" "$f"
		done
	fi

	{
		echo 'set -o pipefail'
		echo '__state=$1'
		echo '__st=0'
		echo '__ret() { return "$1"; }'
		echo '__ready() { local i; for ((i = 0; i < 100; i++)); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }'
		cat "$sess/script.in"
		echo ''
		echo '# Stop what the examples left running: SIGTERM, then SIGKILL.'
		echo 'echo end > "$__state/current"'
		echo 'for ((i = 0; i < 10; i++)); do [ -z "$(jobs -pr)" ] && break; sleep 0.1; done'
		echo '__left=$(jobs -pr)'
		echo 'if [ -n "$__left" ]; then'
		echo '  echo "$__left" | wc -l > "$__state/left"'
		echo '  kill -TERM $__left 2>/dev/null'
		echo '  for ((i = 0; i < 50; i++)); do [ -z "$(jobs -pr)" ] && break; sleep 0.1; done'
		echo '  [ -z "$(jobs -pr)" ] || kill -KILL $(jobs -pr) 2>/dev/null'
		echo 'fi'
		echo 'wait'
	} > "$sess/script"

	local budget=$((total_timeout_s - SECONDS)) limit=$session_timeout_s
	[ $budget -lt $limit ] && limit=$budget
	if [ $limit -lt 5 ]; then
		fail "$file: not run: the test's $total_timeout_s s are used up"
		return 0
	fi
	# A clean environment: no build/bin on PATH, so an example that names a
	# tool without build/bin/ fails as it would for a reader. timeout(1)
	# runs the session in a process group of its own and kills all of it,
	# servers included, when the time is up.
	(cd "$sess/work" && timeout -k 5 "$limit" env -i \
		PATH=/usr/local/bin:/usr/bin:/bin HOME="$sess/work" LANG=C.UTF-8 \
		TMPDIR="$sess/work" \
		${ASAN_OPTIONS:+ASAN_OPTIONS="$ASAN_OPTIONS"} \
		${UBSAN_OPTIONS:+UBSAN_OPTIONS="$UBSAN_OPTIONS"} \
		bash "$sess/script" "$sess/state" > "$sess/session.log" 2>&1)
	local session_rc=$?

	local n line bg why
	while read -r n line bg; do
		if [ ! -f "$sess/state/cmd.$n.rc" ]; then
			if [ "$(cat "$sess/state/current" 2>/dev/null)" = "$n" ]; then
				why="did not finish within the session's $limit s"
			else
				why="never ran: the session ended before it (exit $session_rc)"
			fi
			fail "$file:$line: $why"
			show_command "$n"
			return 0
		fi
		why=""
		if [ -f "$sess/state/cmd.$n.why" ]; then
			why=$(cat "$sess/state/cmd.$n.why")
		elif [ "$(cat "$sess/state/cmd.$n.rc")" != 0 ]; then
			why="exit status $(cat "$sess/state/cmd.$n.rc") (a failure is shown with ; echo \"exit \$?\")"
		elif [ "$bg" = 0 ] && ! match_lines "$sess/state/cmd.$n.out" "$sess/cmd.$n.expected"; then
			why="output differs"
		fi
		if [ -n "$why" ]; then
			fail "$file:$line: $why"
			show_command "$n"
			echo "     --- expected, then +++ actual:"
			diff -u "$sess/cmd.$n.expected" "$sess/state/cmd.$n.out" | sed -n '3,$s/^/     /p'
			# What the servers started before it said, last lines first
			# to look at when a client's answer is wrong.
			local b bline
			while read -r b bline; do
				[ -s "$sess/state/cmd.$b.out" ] || continue
				echo "     --- the background command of line $bline said (last 10 lines):"
				tail -10 "$sess/state/cmd.$b.out" | sed 's/^/     /'
			done < <(awk -v n="$n" '$3 == 1 && $1 < n { print $1, $2 }' "$sess/cmds")
			local rest=$((ncmd - n))
			[ $rest -eq 0 ] || echo "     ($rest later commands of $file not checked)"
			return 0
		fi
	done < "$sess/cmds"
	if [ $session_rc -ne 0 ]; then
		fail "$file: the session exited $session_rc"
		sed 's/^/     /' "$sess/session.log" | tail -20
		return 0
	fi
	local left=""
	[ -f "$sess/state/left" ] && left=" (the test stopped $(tr -d ' ' < "$sess/state/left") background processes left running)"
	files_run=$((files_run + 1))
	blocks_run=$((blocks_run + sh_blocks)) commands_run=$((commands_run + ncmd))
	printf 'ok   %s: %d examples, %d commands%s\n' "$file" "$sh_blocks" "$ncmd" "$left"
}

show_command() {
	echo "     \$ $(sed '2,$s/^/       /' "$sess/cmd.$1.text")"
}

files=(README.md)
shopt -s nullglob
for f in "$source_dir"/docs/*.md; do files+=("docs/${f##*/}"); done
shopt -u nullglob
for f in "${files[@]}"; do session "$f"; done

echo
echo "docs examples: $blocks_run blocks ($commands_run commands) in $files_run files ran as written"
echo "not run: ${#norun_list[@]} blocks (\`\`\`sh norun), each with its reason:"
for n in "${norun_list[@]}"; do echo "  $n"; done
if [ $failures -gt 0 ]; then
	echo "docs examples: $failures failures"
	exit 1
fi
echo "docs examples: all good"
