package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/testenv"
)

// TestAgainstTheAPIServer runs the plugin's writes against a real kube-apiserver with the CRD, where
// the fake client could hide a difference: the API server's defaulting of spec.template (which undo's
// "already there" check must see through), the JSON patch test on resourceVersion, and the CRD's
// validation of the merge patches. The subtests run in order, each on the state the one before left.
func TestAgainstTheAPIServer(t *testing.T) {
	h := startAPIServer(t)
	t.Run("history lists the stored revisions", func(t *testing.T) { historyListsStoredRevisions(t, h) })
	t.Run("undo goes back to the serving revision, spec.template only", func(t *testing.T) { undoGoesBackToServing(t, h) })
	t.Run("undo to the revision the spec already asks for changes nothing", func(t *testing.T) {
		undoToCurrentChangesNothing(t, h)
	})
	t.Run("undo does not overwrite a change made meanwhile", func(t *testing.T) { undoKeepsConcurrentChange(t, h) })
	t.Run("pause, resume and retry pass the CRD's validation", func(t *testing.T) { pauseResumeRetryPassValidation(t, h) })
	t.Run("status waits while the operator has not seen the new spec", func(t *testing.T) {
		statusWaitsForObservedGeneration(t, h)
	})
	t.Run("the command line connects through a kubeconfig", func(t *testing.T) { commandLineUsesKubeconfig(t, h) })
	t.Run("get draws the tree without a workload yet", func(t *testing.T) { getDrawsTreeWithoutWorkload(t, h) })
}

// serverHarness is a kube-apiserver holding the nginx sample's story after the rollback of nginx:1.91.
type serverHarness struct {
	env        *testenv.Env
	client     client.WithWatch
	session    *session
	out        *bytes.Buffer
	generation int64
}

// startAPIServer starts kube-apiserver and etcd with the CRD and writes the app, its revisions and
// its status as the operator would have left them.
func startAPIServer(t *testing.T) *serverHarness {
	t.Helper()
	env, err := testenv.Start(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stop envtest: %v", err)
		}
	})
	c, err := client.NewWithWatch(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testNamespace}}); err != nil {
		t.Fatal(err)
	}

	// The app asks for nginx:1.91 (revision 3), which failed; revision 2 serves.
	sent := userTemplate(imageBad)
	app := &appsv1alpha1.HighlyAvailableApp{
		ObjectMeta: metav1.ObjectMeta{Name: appName, Namespace: testNamespace},
		Spec: appsv1alpha1.HighlyAvailableAppSpec{
			Type: appsv1alpha1.Stateless, Replicas: ptr.To[int32](3), Template: *sent.DeepCopy(),
		},
	}
	if err := c.Create(ctx, app); err != nil {
		t.Fatalf("create app: %v", err)
	}
	stored := getWeb(t, c)
	if p := stored.Spec.Template.Spec.Containers[0].Ports[0].Protocol; p != corev1.ProtocolTCP {
		t.Fatalf("the API server did not default the port protocol (got %q): this test proves nothing", p)
	}
	if rollout.Hash(&stored.Spec.Template) != rollout.Hash(&sent) {
		t.Fatal("the template the API server stored hashes unlike the one sent")
	}

	for _, r := range []struct {
		number  int64
		image   string
		outcome rollout.Outcome
	}{
		{1, imageOld, rollout.OutcomeComplete},
		{2, imageGood, rollout.OutcomeComplete},
		{3, imageBad, rollout.OutcomeFailed},
	} {
		cr := revision(t, stored, r.number, r.image, r.outcome, "pod web-x container web: ImagePullBackOff: Back-off", 0)
		cr.OwnerReferences = nil
		cr.CreationTimestamp = metav1.Time{}
		if err := controllerutil.SetControllerReference(stored, cr, scheme); err != nil {
			t.Fatal(err)
		}
		if err := c.Create(ctx, cr); err != nil {
			t.Fatalf("create revision %d: %v", r.number, err)
		}
	}
	stored.Status = webApp().Status
	for i := range stored.Status.Conditions {
		stored.Status.Conditions[i].LastTransitionTime = metav1.NewTime(time.Now().Truncate(time.Second))
	}
	stored.Status.ObservedGeneration = stored.Generation
	if err := c.Status().Update(ctx, stored); err != nil {
		t.Fatalf("write status: %v", err)
	}
	generation := stored.Generation
	out := &bytes.Buffer{}
	return &serverHarness{
		env: env, client: c, out: out, generation: generation,
		session: &session{
			client: c, namespace: testNamespace, out: out,
			now: func() time.Time { return now }, interval: time.Millisecond,
		},
	}
}

func historyListsStoredRevisions(t *testing.T, h *serverHarness) {
	ctx, s, out := context.Background(), h.session, h.out
	out.Reset()
	if err := s.history(ctx, appName); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Complete (serving)", imageOld, "revision 3 failed: pod web-x"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("history lacks %q:\n%s", want, out)
		}
	}
}

func undoGoesBackToServing(t *testing.T, h *serverHarness) {
	ctx, s, out, c, generation := context.Background(), h.session, h.out, h.client, h.generation
	out.Reset()
	if err := s.undo(ctx, appName, 0); err != nil {
		t.Fatal(err)
	}
	got := getWeb(t, c)
	if img := got.Spec.Template.Spec.Containers[0].Image; img != imageGood {
		t.Errorf("image %q after undo", img)
	}
	if got.Generation != generation+1 || got.Status.CurrentRevision != 2 || *got.Spec.Replicas != 3 {
		t.Errorf("generation %d (was %d), status.currentRevision %d, replicas %d",
			got.Generation, generation, got.Status.CurrentRevision, *got.Spec.Replicas)
	}
}

func undoToCurrentChangesNothing(t *testing.T, h *serverHarness) {
	ctx, s, out, c := context.Background(), h.session, h.out, h.client
	out.Reset()
	before := getWeb(t, c).ResourceVersion
	if err := s.undo(ctx, appName, 2); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "skipped rollback") || getWeb(t, c).ResourceVersion != before {
		t.Errorf("undo wrote although the spec already matches: %s", out)
	}
}

func undoKeepsConcurrentChange(t *testing.T, h *serverHarness) {
	ctx, s, c := context.Background(), h.session, h.client
	racing := interceptor.NewClient(c, interceptor.Funcs{Patch: func(ctx context.Context, c client.WithWatch,
		obj client.Object, p client.Patch, o ...client.PatchOption) error {
		other := getWeb(t, c)
		other.Spec.Template.Spec.Containers[0].Image = imageOther
		if err := c.Update(ctx, other); err != nil {
			return err
		}
		return c.Patch(ctx, obj, p, o...)
	}})
	racer := *s
	racer.client = racing
	err := racer.undo(ctx, appName, 1)
	if err == nil || !strings.Contains(err.Error(), "the app changed while undoing") {
		t.Fatalf("error %v", err)
	}
	if img := getWeb(t, c).Spec.Template.Spec.Containers[0].Image; img != imageOther {
		t.Errorf("image %q: the other change was overwritten", img)
	}
}

func pauseResumeRetryPassValidation(t *testing.T, h *serverHarness) {
	ctx, s, c := context.Background(), h.session, h.client
	if err := s.setPaused(ctx, appName, true); err != nil {
		t.Fatal(err)
	}
	if !getWeb(t, c).Spec.Paused() {
		t.Error("not paused")
	}
	if err := s.setPaused(ctx, appName, false); err != nil {
		t.Fatal(err)
	}
	if getWeb(t, c).Spec.Paused() {
		t.Error("still paused")
	}
	if err := s.retry(ctx, appName); err != nil {
		t.Fatal(err)
	}
	if got := getWeb(t, c).Annotations[appsv1alpha1.AnnotationRetry]; got != "2026-03-01T12:00:00Z" {
		t.Errorf("retry annotation %q", got)
	}
}

func statusWaitsForObservedGeneration(t *testing.T, h *serverHarness) {
	ctx, s, out := context.Background(), h.session, h.out
	out.Reset()
	if err := s.status(ctx, appName, false, 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "waiting for the operator to observe generation") {
		t.Errorf("status: %s", out)
	}
}

func commandLineUsesKubeconfig(t *testing.T, h *serverHarness) {
	ctx, env := context.Background(), h.env
	user, err := env.AddUser(envtest.User{Name: "dev", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	streams, _, stdout, _ := genericiooptions.NewTestIOStreams()
	cmd := newRootCommand(streams, connect)
	cmd.SetArgs([]string{"--kubeconfig", path, "-n", testNamespace, "history", appName})
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "REVISION") || !strings.Contains(stdout.String(), imageOld) {
		t.Errorf("history through the command line:\n%s", stdout)
	}
	// Without -n, the kubeconfig's namespace (here none, so default) is used, as kubectl does.
	streams, _, _, _ = genericiooptions.NewTestIOStreams()
	cmd = newRootCommand(streams, connect)
	cmd.SetArgs([]string{"--kubeconfig", path, "history", appName})
	if err := cmd.ExecuteContext(ctx); err == nil || !strings.Contains(err.Error(), `not found in namespace "default"`) {
		t.Errorf("without -n: error %v", err)
	}
}

func getDrawsTreeWithoutWorkload(t *testing.T, h *serverHarness) {
	ctx, s, out := context.Background(), h.session, h.out
	out.Reset()
	if err := s.tree(ctx, appName, out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Deployment/web") || !strings.Contains(out.String(), "Missing") {
		t.Errorf("tree:\n%s", out)
	}
}
