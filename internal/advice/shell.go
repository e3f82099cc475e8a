package advice

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
)

// shells are the programs that, run with -c, interpret a script: the shells container images carry.
var shells = []string{"sh", "bash", "ash", "dash", "ksh", "mksh", "zsh"}

// checkShellAsPID1: the container's process is a shell that runs a script (sh -c '...') whose last
// command does not exec the app. Such a shell is the container's PID 1 and passes no signal on:
// SIGTERM never reaches the app, which stops only with the SIGKILL at the end of the grace period.
//
// The heuristic, for a script it can read:
//   - the process is command followed by args, or args alone when command is unset (the image's
//     entrypoint is unknown offline; most images run their arguments as the program);
//     a leading env (with its options and VAR=value words) or busybox is looked through;
//   - the program is one of shells (by base name, /bin/sh as sh) and its options include -c; a shell
//     that runs a script file (sh start.sh) is not judged, as the script cannot be read;
//   - the script is split at the top level (outside quotes, $(...), `...` and ${...}) into commands
//     at ;, &, |, &&, || and new lines; comments are dropped;
//   - it passes when its last command is exec with a program (exec app ..., with VAR=value words,
//     exec's options and redirections allowed), not in a pipeline nor in the background; when the
//     last command is a fallback after || (exec app || echo failed), the command before it counts;
//     when it closes a compound (fi, done, esac, }), the command before the closing word counts
//     (if ...; then exec a; else exec b; fi passes);
//   - it also passes when the script traps TERM (trap 'kill -TERM $pid' TERM; app & pid=$!; wait),
//     which is how a shell forwards the signal itself.
//
// Some shells (bash, and dash and busybox for the last command) replace themselves with a lone
// command without being told, but not all do and not for every script: the rule asks for the exec.
func checkShellAsPID1(in containerInput) (string, string, bool) {
	c := in.Container
	argv := c.Command
	if len(argv) == 0 {
		argv = c.Args
	} else {
		argv = append(slices.Clip(argv), c.Args...)
	}
	shell, script, ok := shellScript(argv)
	if !ok || strings.TrimSpace(script) == "" {
		return "", "", false
	}
	last, execs := scriptExecs(script)
	if execs {
		return "", "", false
	}
	return ShellAsPID1, fmt.Sprintf("%s runs its command through %s -c, and the script's last command (%s) is "+
		"not started with exec: the shell stays PID 1 and does not pass SIGTERM on, so the app never stops "+
		"gracefully and is killed when the grace period ends; start the app with exec as the script's last "+
		"command (%s -c '...; exec app'), or run the app without a shell", in.what(), shell, last, shell), true
}

// shellScript finds the shell and the script of a command line that runs a shell with -c.
func shellScript(argv []string) (shell, script string, ok bool) {
	if len(argv) > 0 && path.Base(argv[0]) == "env" {
		argv = argv[1:]
		for len(argv) > 0 && (strings.HasPrefix(argv[0], "-") || assignment.MatchString(argv[0])) {
			argv = argv[1:]
		}
	}
	if len(argv) > 1 && path.Base(argv[0]) == "busybox" {
		argv = argv[1:]
	}
	if len(argv) == 0 || !slices.Contains(shells, path.Base(argv[0])) {
		return "", "", false
	}
	shell = path.Base(argv[0])
	withC := false
	i := 1
options:
	for i < len(argv) {
		a := argv[i]
		switch {
		case a == "--" || a == "-":
			i++
			break options
		case a == "--rcfile" || a == "--init-file":
			i += 2
		case strings.HasPrefix(a, "--"):
			i++
		case len(a) > 1 && (a[0] == '-' || a[0] == '+'):
			i++
			for _, flag := range a[1:] {
				switch {
				case flag == 'c' && a[0] == '-':
					withC = true
				case flag == 'o' || flag == 'O':
					// -o pipefail: the option's name is the next argument.
					i++
				}
			}
		default:
			break options
		}
	}
	if !withC || i >= len(argv) {
		return "", "", false
	}
	return shell, argv[i], true
}

// assignment is a VAR=value word.
var assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// shellCommand is one command of a script's top level: its words, and the operators before and
// after it ("" at the script's start and end; a new line counts as ";").
type shellCommand struct {
	words         []string
	before, after string
}

// scriptExecs tells whether the script ends by exec'ing its program (see checkShellAsPID1), and
// names the last command it judged, for the message.
func scriptExecs(script string) (last string, execs bool) {
	cmds := splitScript(script)
	for _, c := range cmds {
		if trapsTerm(c.words) {
			return "", true
		}
	}
	if len(cmds) == 0 {
		return "", true
	}
	i := len(cmds) - 1
	closers := []string{"fi", "done", "esac", "}"}
	if w := body(cmds[i].words); len(w) == 1 && slices.Contains(closers, w[0]) && i > 0 {
		i--
	}
	if w := body(cmds[i].words); len(w) > 0 {
		last = w[0]
	}
	for ; i >= 0; i-- {
		c := cmds[i]
		if isExec(body(c.words)) && c.before != "|" && c.after != "|" && c.after != "&" && c.after != "|&" {
			return "", true
		}
		if c.before != "||" {
			break
		}
	}
	return last, false
}

// body is a command's words without the reserved words that open a compound (then, else, do, {, !)
// and the VAR=value words before the command.
func body(words []string) []string {
	for len(words) > 0 && (slices.Contains([]string{"then", "else", "do", "{", "!"}, words[0]) || assignment.MatchString(words[0])) {
		words = words[1:]
	}
	return words
}

// isExec: exec with a program to run, after exec's own options and redirections.
func isExec(words []string) bool {
	if len(words) == 0 || words[0] != "exec" {
		return false
	}
	rest := words[1:]
	for len(rest) > 0 {
		w := rest[0]
		switch {
		case w == "-a":
			rest = rest[min(2, len(rest)):]
		case strings.HasPrefix(w, "-") && len(w) > 1:
			rest = rest[1:]
		case redirection.MatchString(w):
			if strings.HasSuffix(w, ">") || strings.HasSuffix(w, "<") {
				// The target is the next word: exec > /var/log/app.log.
				rest = rest[min(2, len(rest)):]
			} else {
				rest = rest[1:]
			}
		default:
			return true
		}
	}
	return false
}

// redirection is a word that starts with a redirection operator (>log, 2>&1, &>log, <in, 2>).
var redirection = regexp.MustCompile(`^([0-9]*[<>]|&>)`)

// trapsTerm: a trap command that handles TERM.
func trapsTerm(words []string) bool {
	words = body(words)
	// trap '' TERM ignores the signal and trap - TERM resets it: neither forwards it.
	if len(words) < 3 || words[0] != "trap" || words[1] == "" || words[1] == "-" {
		return false
	}
	for _, sig := range words[2:] {
		if s := strings.ToUpper(sig); s == "TERM" || s == "SIGTERM" || s == "15" {
			return true
		}
	}
	return false
}

// splitScript splits a script into its top-level commands. Quotes are removed from words; what is
// inside $(...), `...`, ${...} and (...) stays in its word, unsplit.
func splitScript(script string) []shellCommand {
	s := &scriptScanner{r: []rune(script)}
	for ; s.i < len(s.r); s.i++ {
		switch ch := s.r[s.i]; {
		case s.scanQuoted(ch), s.scanOperator(ch):
		case ch == ' ' || ch == '\t' || ch == '\r':
			s.endWord()
		default:
			s.add(string(ch))
		}
	}
	s.endCommand("")
	return s.cmds
}

// scriptScanner is splitScript's state: where it is in the script, the word and the command being
// read, and the commands read.
type scriptScanner struct {
	r    []rune
	i    int
	cmds []shellCommand
	cur  shellCommand
	word strings.Builder
	// inWord: a word has begun (it may be empty: '').
	inWord bool
	// pending is the operator before the next command.
	pending string
}

func (s *scriptScanner) add(text string) {
	s.word.WriteString(text)
	s.inWord = true
}

// through adds the script's text from the scanner's position to end, both included, and moves
// there.
func (s *scriptScanner) through(end int) {
	s.add(string(s.r[s.i:min(end+1, len(s.r))]))
	s.i = end
}

func (s *scriptScanner) next() (rune, bool) {
	if s.i+1 < len(s.r) {
		return s.r[s.i+1], true
	}
	return 0, false
}

func (s *scriptScanner) endWord() {
	if s.inWord {
		s.cur.words = append(s.cur.words, s.word.String())
		s.word.Reset()
		s.inWord = false
	}
}

func (s *scriptScanner) endCommand(op string) {
	s.endWord()
	if len(s.cur.words) > 0 {
		s.cur.after = op
		s.cmds = append(s.cmds, s.cur)
		s.pending = op
	} else if op != ";" {
		// Keep the strongest operator seen since the last command (a || after a new line).
		s.pending = op
	}
	s.cur = shellCommand{before: s.pending}
}

// scanQuoted reads what a word keeps whole: an escaped character, quotes, substitutions, a
// subshell; and skips a comment. It says whether ch was one of them.
func (s *scriptScanner) scanQuoted(ch rune) bool {
	next, hasNext := s.next()
	switch {
	case ch == '\\':
		if hasNext {
			s.i++
			if next != '\n' {
				s.add(string(next))
			}
		}
	case ch == '\'':
		end := indexFrom(s.r, s.i+1, '\'')
		s.add(string(s.r[s.i+1 : end]))
		s.i = end
	case ch == '"':
		end := closeDouble(s.r, s.i+1, 0)
		s.add(unescapeDouble(string(s.r[s.i+1 : end])))
		s.i = end
	case ch == '`':
		s.through(closeBacktick(s.r, s.i+1))
	case ch == '$' && (next == '(' || next == '{'):
		s.through(closeGroup(s.r, s.i+2, next, 0))
	case ch == '(' && !s.inWord:
		s.through(closeGroup(s.r, s.i+1, '(', 0))
	case ch == '#' && !s.inWord:
		s.i = indexFrom(s.r, s.i, '\n') - 1
	default:
		return false
	}
	return true
}

// scanOperator reads redirections, which stay in their word (2>&1, >&2, &>log), and the operators
// that end a command. It says whether ch was one of them.
func (s *scriptScanner) scanOperator(ch rune) bool {
	next, _ := s.next()
	switch {
	case ch == '>' || ch == '<':
		s.add(string(ch))
		for next, ok := s.next(); ok && strings.ContainsRune("&><|", next); next, ok = s.next() {
			s.i++
			s.add(string(next))
		}
	case ch == '&' && next == '>':
		s.add(string(ch))
	case ch == '&' || ch == '|' || ch == ';':
		op := string(ch)
		if next == ch || (ch == '|' && next == '&') {
			op += string(next)
			s.i++
		}
		if op == ";;" {
			op = ";"
		}
		s.endCommand(op)
	case ch == '\n':
		s.endCommand(";")
	default:
		return false
	}
	return true
}

// indexFrom is the index of ch in r from start on, len(r) when it is not there.
func indexFrom(r []rune, start int, ch rune) int {
	for i := start; i < len(r); i++ {
		if r[i] == ch {
			return i
		}
	}
	return len(r)
}

// maxNesting is how deep quotes and groups may nest before the scanner takes the rest of the script
// as one word: a script is user input, and the operator must not recurse as deep as it nests.
const maxNesting = 32

// closeDouble is the index of the quote that closes a double-quoted string opened before start, at
// the nesting depth (len(r) when it is not closed).
func closeDouble(r []rune, start, depth int) int {
	if depth > maxNesting {
		return len(r)
	}
	for i := start; i < len(r); i++ {
		switch {
		case r[i] == '\\':
			i++
		case r[i] == '"':
			return i
		case r[i] == '$' && i+1 < len(r) && (r[i+1] == '(' || r[i+1] == '{'):
			i = closeGroup(r, i+2, r[i+1], depth+1)
		case r[i] == '`':
			i = closeBacktick(r, i+1)
		}
	}
	return len(r)
}

// unescapeDouble removes the backslashes that escape a character in double quotes.
func unescapeDouble(s string) string {
	var b strings.Builder
	r := []rune(s)
	for i := 0; i < len(r); i++ {
		if r[i] == '\\' && i+1 < len(r) && strings.ContainsRune("$`\"\\\n", r[i+1]) {
			i++
			if r[i] == '\n' {
				continue
			}
		}
		b.WriteRune(r[i])
	}
	return b.String()
}

// closeBacktick is the index of the backtick that closes a command substitution opened before start.
func closeBacktick(r []rune, start int) int {
	for i := start; i < len(r); i++ {
		switch r[i] {
		case '\\':
			i++
		case '`':
			return i
		}
	}
	return len(r)
}

// closeGroup is the index of what closes a group opened (by "(" or "{") before start, with quotes
// and nested groups inside, at the nesting depth (len(r) when it is not closed).
func closeGroup(r []rune, start int, open rune, depth int) int {
	closing := ')'
	if open == '{' {
		closing = '}'
	}
	if depth > maxNesting {
		return len(r)
	}
	for i := start; i < len(r); i++ {
		switch r[i] {
		case '\\':
			i++
		case '\'':
			i = indexFrom(r, i+1, '\'')
		case '"':
			i = closeDouble(r, i+1, depth+1)
		case '`':
			i = closeBacktick(r, i+1)
		case open:
			i = closeGroup(r, i+1, open, depth+1)
		case closing:
			return i
		}
	}
	return len(r)
}
