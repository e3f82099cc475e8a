package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// scheme knows the app types and the built-in types the plugin reads (apps/v1, core/v1).
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(appsv1alpha1.AddToScheme(s))
	return s
}()

// resourceName is how the plugin names an app in its messages, as kubectl names objects.
const resourceName = "highlyavailableapp.apps.haoperator.dev"

// connectFunc makes the client and finds the namespace from kubectl's flags; tests replace it with
// a fake client.
type connectFunc func(flags *genericclioptions.ConfigFlags) (client.Client, string, error)

// connect uses the kubeconfig, context and namespace the flags (or their defaults) select.
func connect(flags *genericclioptions.ConfigFlags) (client.Client, string, error) {
	cfg, err := flags.ToRESTConfig()
	if err != nil {
		return nil, "", fmt.Errorf("load kubeconfig: %w", err)
	}
	ns, _, err := flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("find namespace: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, "", fmt.Errorf("create client: %w", err)
	}
	return c, ns, nil
}

// exitError ends the plugin with a given exit code, as `status` does on a failed rollout.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// session is what every subcommand works with.
type session struct {
	client    client.Client
	namespace string
	out       io.Writer
	// width is the terminal's width; 0 (not a terminal) means no truncation.
	width int
	// now is the clock, fixed in tests.
	now func() time.Time
	// interval is how often --watch and status poll.
	interval time.Duration
}

func newRootCommand(streams genericiooptions.IOStreams, connectTo connectFunc) *cobra.Command {
	flags := genericclioptions.NewConfigFlags(true)
	root := &cobra.Command{
		Use:   "kubectl-haapp",
		Short: "Inspect and steer HighlyAvailableApps: tree view, revision history, undo, pause, status, check",
		Long: `kubectl haapp works on HighlyAvailableApps the way kubectl rollout works on Deployments.

  kubectl haapp get web --watch         the app as a tree: workload, revisions, pods
  kubectl haapp history web             the revisions, with images and outcome
  kubectl haapp undo web                put the previous revision's template back into the spec
  kubectl haapp status web              wait for the rollout; exit 0 when Ready, 1 when Stalled
  kubectl haapp pause|resume|retry web  hold an update, let it go on, or retry a rolled-back revision
  kubectl haapp check -f app.yaml       the advice rules on manifests, without a cluster; exit 1 when any applies`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// Help shows the command as a person types it through kubectl.
		Annotations: map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl haapp"},
		CompletionOptions: cobra.CompletionOptions{
			HiddenDefaultCmd: true,
		},
	}
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	flags.AddFlags(root.PersistentFlags())

	open := func() (*session, error) {
		c, ns, err := connectTo(flags)
		if err != nil {
			return nil, err
		}
		return &session{
			client: c, namespace: ns, out: streams.Out, width: terminalWidth(streams.Out),
			now: time.Now, interval: 2 * time.Second,
		}, nil
	}
	root.AddCommand(
		newGetCommand(open),
		newHistoryCommand(open),
		newUndoCommand(open),
		newPauseCommand(open, true),
		newPauseCommand(open, false),
		newRetryCommand(open),
		newStatusCommand(open),
		newCheckCommand(streams),
	)
	return root
}

// printf writes one message to the output; a failed write (a closed pipe) is the command's error.
func (s *session) printf(format string, args ...any) error {
	if _, err := fmt.Fprintf(s.out, format, args...); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// terminalWidth is the width of the terminal out writes to, 0 when it is not a terminal.
func terminalWidth(out io.Writer) int {
	f, ok := out.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0
	}
	w, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return w
}

// getApp reads the app, with an error a person understands when it is not there.
func (s *session) getApp(ctx context.Context, name string) (*appsv1alpha1.HighlyAvailableApp, error) {
	app := &appsv1alpha1.HighlyAvailableApp{}
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: name}, app); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("highlyavailableapp %q not found in namespace %q", name, s.namespace)
		}
		return nil, fmt.Errorf("get highlyavailableapp %q: %w", name, err)
	}
	return app, nil
}

// revisions are the app's ControllerRevisions (those it controls), in any order.
func (s *session) revisions(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp) (
	[]appsv1.ControllerRevision, error) {
	list := &appsv1.ControllerRevisionList{}
	if err := s.client.List(ctx, list, client.InNamespace(app.Namespace), client.MatchingLabels{
		appsv1alpha1.LabelInstance: app.Name, appsv1alpha1.LabelManagedBy: appsv1alpha1.ManagedByValue,
	}); err != nil {
		return nil, fmt.Errorf("list revisions of %q: %w", app.Name, err)
	}
	var out []appsv1.ControllerRevision
	for _, cr := range list.Items {
		if metav1.IsControlledBy(&cr, app) {
			out = append(out, cr)
		}
	}
	return out, nil
}

// pods are the app's pods, by the selector the app reports (or its instance labels before it has).
func (s *session) pods(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp) ([]corev1.Pod, error) {
	selector := labels.SelectorFromSet(labels.Set{appsv1alpha1.LabelName: app.Name, appsv1alpha1.LabelInstance: app.Name})
	if app.Status.Selector != "" {
		parsed, err := labels.Parse(app.Status.Selector)
		if err != nil {
			return nil, fmt.Errorf("status.selector %q of %q: %w", app.Status.Selector, app.Name, err)
		}
		selector = parsed
	}
	list := &corev1.PodList{}
	err := s.client.List(ctx, list, client.InNamespace(app.Namespace), client.MatchingLabelsSelector{Selector: selector})
	if err != nil {
		return nil, fmt.Errorf("list pods of %q: %w", app.Name, err)
	}
	return list.Items, nil
}
