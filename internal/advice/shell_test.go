package advice

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

func running(command, args []string) *appsv1alpha1.HighlyAvailableApp {
	return withWeb(appsv1alpha1.Stateless, func(c *corev1.Container) { c.Command, c.Args = command, args })
}

func shC(script string) *appsv1alpha1.HighlyAvailableApp {
	return running([]string{"sh", "-c", script}, nil)
}

func TestShellAsPID1(t *testing.T) {
	says := func(shell, last string) []string {
		return []string{"through " + shell + " -c", "last command (" + last + ")", "SIGTERM", "exec as the script's last command"}
	}
	runContainerCases(t, ShellAsPID1, checkShellAsPID1, []containerCase{
		// What the brief names.
		{name: "exec nginx", app: shC(`exec nginx -g 'daemon off;'`)},
		{name: "nginx without exec", app: shC(`nginx -g 'daemon off;'`), applies: true, says: says("sh", "nginx")},
		{name: "prepare && run", app: shC("prepare && run"), applies: true, says: says("sh", "run")},
		{name: "prepare && exec run", app: shC("prepare && exec run")},
		// No shell, or a shell that runs a file it cannot read.
		{name: "no command", app: goodApp(appsv1alpha1.Stateless)},
		{name: "the app itself", app: running([]string{"/usr/bin/nginx"}, []string{"-g", "daemon off;"})},
		{name: "a script file", app: running([]string{"/bin/sh", "/start.sh"}, nil)},
		{name: "a program named like a shell option", app: running([]string{"shellcheck", "-c", "x"}, nil)},
		{name: "an empty script", app: shC("  ")},
		// Where the shell and its script are.
		{name: "/bin/bash -c in command", app: running([]string{"/bin/bash", "-c", "run"}, nil), applies: true,
			says: says("bash", "run")},
		{name: "the script in args", app: running([]string{"/bin/sh", "-c"}, []string{"run --port 80"}), applies: true},
		{name: "shell and script in args, no command", app: running(nil, []string{"/bin/ash", "-c", "run"}), applies: true,
			says: says("ash", "run")},
		{name: "dash -ec", app: running([]string{"dash", "-ec", "run"}, nil), applies: true},
		{name: "bash -o pipefail -c", app: running([]string{"bash", "-o", "pipefail", "-c", "run"}, nil), applies: true},
		{name: "bash -eo pipefail -c exec", app: running([]string{"bash", "-eo", "pipefail", "-c", "exec run"}, nil)},
		{name: "bash --login -c", app: running([]string{"bash", "--login", "-c", "run"}, nil), applies: true},
		{name: "env sh -c", app: running([]string{"/usr/bin/env", "-i", "A=b", "sh", "-c", "run"}, nil), applies: true},
		{name: "busybox sh -c", app: running([]string{"busybox", "sh", "-c", "exec run"}, nil)},
		{name: "exec \"$@\" with the program as arguments", app: running([]string{"sh", "-c", `exec "$@"`, "--", "run"}, nil)},
		// The script's last command.
		{name: "exec after a new line", app: shC("set -e\nprepare\nexec run --port 80\n")},
		{name: "exec with variables and redirections", app: shC("cd /app; FOO=bar exec run >/dev/stdout 2>&1")},
		{name: "exec -a", app: shC("exec -a app /usr/bin/run")},
		{name: "exec of redirections only", app: shC("exec > /var/log/app.log 2>&1; run"), applies: true, says: says("sh", "run")},
		{name: "exec with nothing but redirections at the end", app: shC("run; exec 2>&1"), applies: true},
		{name: "exec in a pipeline", app: shC("exec run | tee /log"), applies: true},
		{name: "a pipeline into exec", app: shC("produce | exec consume"), applies: true},
		{name: "exec in the background", app: shC("exec run & wait"), applies: true, says: says("sh", "wait")},
		{name: "a fallback after exec", app: shC("exec run || echo 'cannot start' >&2")},
		{name: "a fallback after a command", app: shC("run || echo failed"), applies: true},
		{name: "exec in both branches", app: shC("if [ -n \"$DEBUG\" ]; then exec run --debug; else exec run; fi")},
		{name: "exec in one branch only", app: shC("if [ -n \"$DEBUG\" ]; then exec run --debug; else run; fi"), applies: true},
		{name: "a loop", app: shC("while true; do run; done"), applies: true},
		{name: "a group that ends in exec", app: shC("{ prepare; exec run; }")},
		{name: "a subshell", app: shC("(exec run)"), applies: true},
		{name: "a semicolon in quotes", app: shC(`prepare "a;b" && exec run 'x; y'`)},
		{name: "exec in quotes is an argument", app: shC(`echo "; exec run"`), applies: true, says: says("sh", "echo")},
		{name: "exec in a command substitution", app: shC(`echo $(exec run; true)`), applies: true},
		{name: "a comment after exec", app: shC("exec run # the app\n")},
		{name: "a comment that names exec", app: shC("run # not exec"), applies: true},
		{name: "a line continuation", app: shC("prepare && \\\n  exec run")},
		{name: "an escaped semicolon", app: shC(`find . -exec rm {} \; && exec run`)},
		{name: "an unterminated quote", app: shC(`run 'oops`), applies: true},
		{name: "a script of comments only", app: shC("# nothing to run\n")},
		{name: "backticks and double quotes", app: shC("export HOST=`hostname; true`; echo \"$(date; true) \\\"q;\\\" `x;y`\" && exec run")},
		{name: "backticks with an escaped backtick", app: shC("A=`echo \\`x\\`;`; run"), applies: true, says: says("sh", "run")},
		{name: "parameter expansion", app: shC("exec run --name=${NAME:-a;b} --n=$((1+(2*3)))")},
		{name: "a substitution with quotes and groups", app: shC(`V=$(echo ')' "(" $(echo x) ` + "`y`" + `); exec run`)},
		{name: "exec -cl", app: shC("exec -cl run")},
		{name: "sh -c without a script", app: running([]string{"sh", "-c"}, nil)},
		{name: "bash --rcfile FILE -c", app: running([]string{"bash", "--rcfile", "/etc/rc", "-c", "run"}, nil), applies: true},
		{name: "sh - ends the options", app: running([]string{"sh", "-c", "-", "run"}, nil), applies: true},
		{name: "a shell without -c", app: running([]string{"sh"}, nil)},
		// A shell that forwards the signal itself.
		{name: "a trap that forwards TERM", app: shC("trap 'kill -TERM $PID' TERM; run & PID=$!; wait $PID")},
		{name: "a trap on SIGTERM and INT", app: shC("trap \"kill $PID\" INT SIGTERM\nrun & PID=$!\nwait")},
		{name: "a trap that ignores TERM", app: shC("trap '' TERM; run"), applies: true},
		{name: "a trap on EXIT only", app: shC("trap 'cleanup' EXIT; run"), applies: true},
	})
}

// TestShellAsPID1InitContainers: the rule is about the containers that serve, not init containers.
func TestShellAsPID1InitContainers(t *testing.T) {
	app := goodApp(appsv1alpha1.Stateless)
	init := goodContainer("migrate")
	init.Command = []string{"sh", "-c", "migrate up"}
	app.Spec.Template.Spec.InitContainers = []corev1.Container{init}
	for _, a := range For(Input{App: app}) {
		if a.Rule == ShellAsPID1 {
			t.Errorf("advice on an init container: %+v", a)
		}
	}
}

// FuzzShellAsPID1: a container's command is user input that the operator reads on every reconcile:
// whatever it holds, the rule returns (no panic, no unbounded recursion) and a verdict with a
// message when it applies.
func FuzzShellAsPID1(f *testing.F) {
	for _, seed := range []string{
		`exec nginx -g 'daemon off;'`, "prepare && run", "a || exec b", "if x; then exec a; else b; fi",
		`V=$(echo ')' "(" $(echo x) ` + "`y`" + `); exec run`, `"$("$("`, "((((", "'", `\`, "# x\nexec a",
		"exec > /log 2>&1; run", "trap 'kill $p' TERM; run & p=$!; wait", "a |& b; c &> d",
		strings.Repeat(`$("`, 10000),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, script string) {
		app := shC(script)
		reason, message, applies := checkShellAsPID1(containerInput{App: app, Container: &app.Spec.Template.Spec.Containers[0]})
		if applies != (reason == ShellAsPID1) || applies != (message != "") {
			t.Errorf("%q: %q %q %v", script, reason, message, applies)
		}
	})
}
