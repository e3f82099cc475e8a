package gitops

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	hastatus "github.com/haoperator/ha-operator/internal/status"
)

var update = flag.Bool("update", false, "rewrite config/argocd/argocd-cm-patch.yaml from health.lua")

// cond is a condition as the operator writes it.
func cond(conditionType string, conditionStatus metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{
		Type: conditionType, Status: conditionStatus, Reason: reason, Message: message,
		LastTransitionTime: metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
	}
}

// sampleApp is a HighlyAvailableApp at the given generation whose status, when conditions is not
// nil, the operator wrote at generation observed.
func sampleApp(generation, observed int64, paused bool,
	conditions ...metav1.Condition) *appsv1alpha1.HighlyAvailableApp {
	app := &appsv1alpha1.HighlyAvailableApp{
		TypeMeta:   metav1.TypeMeta{APIVersion: appsv1alpha1.GroupVersion.String(), Kind: "HighlyAvailableApp"},
		ObjectMeta: metav1.ObjectMeta{Name: appName, Namespace: "shop", Generation: generation},
		Spec: appsv1alpha1.HighlyAvailableAppSpec{
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: appName, Image: "nginx:1.27"}},
			}},
		},
	}
	if paused {
		app.Spec.Rollout = &appsv1alpha1.RolloutSpec{Paused: true}
	}
	if conditions != nil {
		// The phase as the operator writes it beside its conditions.
		app.Status = appsv1alpha1.HighlyAvailableAppStatus{ObservedGeneration: observed, Conditions: conditions,
			Phase: hastatus.PhaseOf(conditions).Phase}
	}
	return app
}

func toUnstructured(t testing.TB, app *appsv1alpha1.HighlyAvailableApp) *unstructured.Unstructured {
	t.Helper()
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(app)
	if err != nil {
		t.Fatalf("convert the app to unstructured: %v", err)
	}
	return &unstructured.Unstructured{Object: content}
}

const (
	conflictMessage   = "Deployment web exists and is not owned by the app"
	crashMessage      = "pod web-0 container web: CrashLoopBackOff"
	rollingBackReason = "rolling back: 3 of 3 replicas updated, 2 ready"
	rolledBackMessage = "revision 5 failed and was rolled back to revision 4: " +
		"pod web-7f9c-x2k container web: ImagePullBackOff: Back-off pulling image \"nginx:1.91\""
	rollingMessage = "rolling out revision 5: 1 of 3 pods updated"
)

// TestArgoCDHealth runs the shipped health script on the states an app goes through and checks what
// Argo CD would show; kstatus (what Flux reads) is computed on the same objects so that the two
// tools are seen to agree.
func TestArgoCDHealth(t *testing.T) {
	script, err := loadHealthScript()
	if err != nil {
		t.Fatal(err)
	}
	var (
		T = metav1.ConditionTrue
		F = metav1.ConditionFalse
	)
	cases := []struct {
		name string
		app  *appsv1alpha1.HighlyAvailableApp
		want argoHealth
		// kstatus is what kstatus computes; empty where kstatus has no rule of its own for the
		// state (it calls an object without any condition Current).
		kstatus status.Status
	}{
		{
			name: "just created, no status yet",
			app:  sampleApp(1, 0, false),
			want: argoHealth{progressing, "waiting for the operator to report status"},
		},
		{
			name: "status without conditions",
			app:  sampleApp(1, 1, false, []metav1.Condition{}...),
			want: argoHealth{progressing, "the operator is reconciling the app"},
		},
		{
			name: "workload being created",
			app: sampleApp(1, 1, false,
				cond(appsv1alpha1.ConditionReady, F, appsv1alpha1.ReasonCreating, "creating Deployment web"),
				cond(appsv1alpha1.ConditionReconciling, T, appsv1alpha1.ReasonCreating, "creating Deployment web"),
				cond(appsv1alpha1.ConditionStalled, F, appsv1alpha1.ReasonCreating, "")),
			want:    argoHealth{progressing, "creating Deployment web"},
			kstatus: status.InProgressStatus,
		},
		{
			name: "rolling out",
			app: sampleApp(2, 2, false,
				cond(appsv1alpha1.ConditionReady, F, appsv1alpha1.ReasonRollingOut, rollingMessage),
				cond(appsv1alpha1.ConditionReconciling, T, appsv1alpha1.ReasonRollingOut, rollingMessage),
				cond(appsv1alpha1.ConditionStalled, F, appsv1alpha1.ReasonRollingOut, "")),
			want:    argoHealth{progressing, rollingMessage},
			kstatus: status.InProgressStatus,
		},
		{
			name: "scaling, no message: the reason is shown",
			app: sampleApp(3, 3, false,
				cond(appsv1alpha1.ConditionReady, F, appsv1alpha1.ReasonScaling, ""),
				cond(appsv1alpha1.ConditionReconciling, T, appsv1alpha1.ReasonScaling, "")),
			want:    argoHealth{progressing, appsv1alpha1.ReasonScaling},
			kstatus: status.InProgressStatus,
		},
		{
			name: "rollout complete",
			app: sampleApp(2, 2, false,
				cond(appsv1alpha1.ConditionReady, T, appsv1alpha1.ReasonRolloutComplete, "3/3 pods ready on revision 2"),
				cond(appsv1alpha1.ConditionReconciling, F, appsv1alpha1.ReasonRolloutComplete, ""),
				cond(appsv1alpha1.ConditionStalled, F, appsv1alpha1.ReasonRolloutComplete, ""),
				cond(appsv1alpha1.ConditionAvailable, T, appsv1alpha1.ReasonMinimumAvailable, "")),
			want:    argoHealth{healthy, "3/3 pods ready on revision 2"},
			kstatus: status.CurrentStatus,
		},
		{
			name: "ready without a message",
			app: sampleApp(2, 2, false,
				cond(appsv1alpha1.ConditionReady, T, appsv1alpha1.ReasonRolloutComplete, "")),
			want:    argoHealth{healthy, appsv1alpha1.ReasonRolloutComplete},
			kstatus: status.CurrentStatus,
		},
		{
			name: "an object of the same name the app does not own",
			app: sampleApp(1, 1, false,
				cond(appsv1alpha1.ConditionReady, F, appsv1alpha1.ReasonConflict, conflictMessage),
				cond(appsv1alpha1.ConditionReconciling, F, appsv1alpha1.ReasonConflict, ""),
				cond(appsv1alpha1.ConditionStalled, T, appsv1alpha1.ReasonConflict, conflictMessage)),
			want:    argoHealth{degraded, conflictMessage},
			kstatus: status.FailedStatus,
		},
		{
			name: "rolling back: the old revision's pods are coming back",
			app: sampleApp(5, 5, false,
				cond(appsv1alpha1.ConditionReady, F, appsv1alpha1.ReasonRolledBack, rolledBackMessage),
				cond(appsv1alpha1.ConditionReconciling, T, appsv1alpha1.ReasonRollingOut, rollingBackReason),
				cond(appsv1alpha1.ConditionStalled, T, appsv1alpha1.ReasonRolledBack, rolledBackMessage)),
			want: argoHealth{degraded, rolledBackMessage},
			// kstatus reads Reconciling before Stalled: InProgress until the rollback settles, Failed after.
			kstatus: status.InProgressStatus,
		},
		{
			name: "rolled back after a failed update",
			app: sampleApp(5, 5, false,
				cond(appsv1alpha1.ConditionReady, F, appsv1alpha1.ReasonRolledBack, rolledBackMessage),
				cond(appsv1alpha1.ConditionReconciling, F, appsv1alpha1.ReasonRolledBack, ""),
				cond(appsv1alpha1.ConditionStalled, T, appsv1alpha1.ReasonRolledBack, rolledBackMessage)),
			want:    argoHealth{degraded, rolledBackMessage},
			kstatus: status.FailedStatus,
		},
		{
			name: "first revision failed, nothing to roll back to",
			app: sampleApp(1, 1, false,
				cond(appsv1alpha1.ConditionReady, F, appsv1alpha1.ReasonRolloutFailed, crashMessage),
				cond(appsv1alpha1.ConditionStalled, T, appsv1alpha1.ReasonRolloutFailed, crashMessage)),
			want:    argoHealth{degraded, crashMessage},
			kstatus: status.FailedStatus,
		},
		{
			name: "progress deadline exceeded, no message: the reason is shown",
			app: sampleApp(4, 4, false,
				cond(appsv1alpha1.ConditionReady, F, appsv1alpha1.ReasonProgressDeadlineExceeded, ""),
				cond(appsv1alpha1.ConditionStalled, T, appsv1alpha1.ReasonProgressDeadlineExceeded, "")),
			want:    argoHealth{degraded, appsv1alpha1.ReasonProgressDeadlineExceeded},
			kstatus: status.FailedStatus,
		},
		{
			name: "new spec not yet observed by the operator",
			app: sampleApp(3, 2, false,
				cond(appsv1alpha1.ConditionReady, T, appsv1alpha1.ReasonRolloutComplete, "3/3 pods ready on revision 2")),
			want:    argoHealth{progressing, "waiting for the operator to observe generation 3"},
			kstatus: status.InProgressStatus,
		},
		{
			name: "a fix pushed after a rollback, not yet observed: not the old failure",
			app: sampleApp(6, 5, false,
				cond(appsv1alpha1.ConditionReady, F, appsv1alpha1.ReasonRolledBack, rolledBackMessage),
				cond(appsv1alpha1.ConditionStalled, T, appsv1alpha1.ReasonRolledBack, rolledBackMessage)),
			want:    argoHealth{progressing, "waiting for the operator to observe generation 6"},
			kstatus: status.InProgressStatus,
		},
		{
			name: "paused mid-rollout",
			app: sampleApp(4, 4, true,
				cond(appsv1alpha1.ConditionReady, F, appsv1alpha1.ReasonPaused, "paused at 1 of 3 pods updated"),
				cond(appsv1alpha1.ConditionReconciling, T, appsv1alpha1.ReasonPaused, "paused at 1 of 3 pods updated")),
			want: argoHealth{suspended, "paused at 1 of 3 pods updated"},
			// kstatus has no suspended state: a held update is still in progress for it.
			kstatus: status.InProgressStatus,
		},
		{
			name: "paused with nothing to update: Ready, as the plugin and the metrics say",
			app: sampleApp(4, 4, true,
				cond(appsv1alpha1.ConditionReady, T, appsv1alpha1.ReasonRolloutComplete, "3/3 pods ready on revision 2"),
				cond(appsv1alpha1.ConditionReconciling, F, appsv1alpha1.ReasonRolloutComplete, ""),
				cond(appsv1alpha1.ConditionStalled, F, appsv1alpha1.ReasonRolloutComplete, "")),
			want:    argoHealth{healthy, "3/3 pods ready on revision 2"},
			kstatus: status.CurrentStatus,
		},
		{
			name: "retrying after an error",
			app: sampleApp(2, 2, false,
				cond(appsv1alpha1.ConditionReady, T, appsv1alpha1.ReasonRolloutComplete, "3/3 pods ready on revision 2"),
				cond(appsv1alpha1.ConditionReconciling, T, appsv1alpha1.ReasonRetryingAfterError,
					"retrying after an error: timeout"),
				cond(appsv1alpha1.ConditionStalled, F, appsv1alpha1.ReasonRolloutComplete, "")),
			want:    argoHealth{progressing, "retrying after an error: timeout"},
			kstatus: status.InProgressStatus,
		},
		{
			name: "paused, not yet observed",
			app: sampleApp(5, 4, true,
				cond(appsv1alpha1.ConditionReady, T, appsv1alpha1.ReasonRolloutComplete, "")),
			want:    argoHealth{progressing, "waiting for the operator to observe generation 5"},
			kstatus: status.InProgressStatus,
		},
		{
			name: "paused after a failure: the failure wins",
			app: sampleApp(5, 5, true,
				cond(appsv1alpha1.ConditionReady, F, appsv1alpha1.ReasonRolledBack, rolledBackMessage),
				cond(appsv1alpha1.ConditionStalled, T, appsv1alpha1.ReasonRolledBack, rolledBackMessage)),
			want:    argoHealth{degraded, rolledBackMessage},
			kstatus: status.FailedStatus,
		},
		{
			name: "Ready=False alone: neither progress nor a terminal failure is reported",
			app: sampleApp(1, 1, false,
				cond(appsv1alpha1.ConditionReady, F, appsv1alpha1.ReasonCreating, "creating Deployment web")),
			want:    argoHealth{progressing, "creating Deployment web"},
			kstatus: status.InProgressStatus,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := toUnstructured(t, tc.app)
			got, err := runHealthScript(script, obj.Object)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Argo CD health = %+v, want %+v", got, tc.want)
			}
			if tc.kstatus == "" {
				return
			}
			res, err := status.Compute(obj)
			if err != nil {
				t.Fatalf("kstatus: %v", err)
			}
			if res.Status != tc.kstatus {
				t.Errorf("kstatus = %s (%s), want %s", res.Status, res.Message, tc.kstatus)
			}
		})
	}
}

// TestArgoCDHealthReadsThePhase runs the script over every phase the operator writes and checks that
// Argo CD's health agrees with the phase the plugin and the metrics read (status.StateOf).
func TestArgoCDHealthReadsThePhase(t *testing.T) {
	script, err := loadHealthScript()
	if err != nil {
		t.Fatal(err)
	}
	want := map[appsv1alpha1.Phase]string{
		appsv1alpha1.PhaseReady: healthy, appsv1alpha1.PhaseStalled: degraded, appsv1alpha1.PhasePaused: suspended,
		appsv1alpha1.PhaseProgressing: progressing, appsv1alpha1.PhaseNotReady: progressing,
	}
	phases := []appsv1alpha1.Phase{appsv1alpha1.PhaseReady, appsv1alpha1.PhaseStalled, appsv1alpha1.PhasePaused,
		appsv1alpha1.PhaseProgressing, appsv1alpha1.PhaseNotReady}
	for _, phase := range phases {
		app := sampleApp(3, 3, false)
		app.Status = appsv1alpha1.HighlyAvailableAppStatus{ObservedGeneration: 3, Phase: phase}
		if got := hastatus.StateOf(app).Phase; got != phase {
			t.Errorf("StateOf reads %s for phase %s", got, phase)
		}
		got, err := runHealthScript(script, toUnstructured(t, app).Object)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != want[phase] {
			t.Errorf("phase %s: Argo CD health %s, want %s", phase, got.Status, want[phase])
		}
	}
	if len(want) != len(phases) {
		t.Errorf("a phase has no expected health")
	}
}

// TestArgoCDHealthOnJSONNumbers checks the script on an object decoded from JSON, where numbers are
// float64 rather than int64, as they are when Argo CD reads them from a manifest or a cache.
func TestArgoCDHealthOnJSONNumbers(t *testing.T) {
	script, err := loadHealthScript()
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte(`{"apiVersion":"apps.haoperator.dev/v1alpha1","kind":"HighlyAvailableApp",
		"metadata":{"name":"web","generation":12},
		"spec":{"rollout":{"paused":false}},
		"status":{"observedGeneration":11,"phase":"Ready",
			"conditions":[{"type":"Ready","status":"True","reason":"RolloutComplete"}]}}`)
	var obj map[string]any
	if err := yaml.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	got, err := runHealthScript(script, obj)
	if err != nil {
		t.Fatal(err)
	}
	want := argoHealth{progressing, "waiting for the operator to observe generation 12"}
	if got != want {
		t.Errorf("Argo CD health = %+v, want %+v", got, want)
	}
}

// argocdPatchPath is the argocd-cm patch users apply; it embeds health.lua.
var argocdPatchPath = filepath.Join("..", "..", "config", "argocd", "argocd-cm-patch.yaml")

const argocdHealthKey = "resource.customizations.health.apps.haoperator.dev_HighlyAvailableApp"

// argocdPatch renders the argocd-cm patch for script.
func argocdPatch(script string) []byte {
	var b bytes.Buffer
	b.WriteString(`# Merge patch for Argo CD's argocd-cm ConfigMap: teaches Argo CD the health of a HighlyAvailableApp.
# Generated from health.lua (go test ./test/gitops -run TestArgoCDConfigMapPatch -update); edit health.lua.
#   kubectl -n argocd patch configmap argocd-cm --type merge --patch-file config/argocd/argocd-cm-patch.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
data:
  ` + argocdHealthKey + `: |
`)
	for _, line := range strings.SplitAfter(script, "\n") {
		if strings.TrimSpace(line) != "" {
			b.WriteString("    ")
		}
		b.WriteString(line)
	}
	return b.Bytes()
}

// TestArgoCDConfigMapPatch keeps the ConfigMap patch in step with the tested script, and checks that
// the patch, read as YAML, hands Argo CD exactly that script under the key Argo CD looks up.
func TestArgoCDConfigMapPatch(t *testing.T) {
	script, err := loadHealthScript()
	if err != nil {
		t.Fatal(err)
	}
	want := argocdPatch(script)
	if *update {
		if err := os.WriteFile(argocdPatchPath, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(argocdPatchPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date with health.lua: run "+
			"go test ./test/gitops -run TestArgoCDConfigMapPatch -update", argocdPatchPath)
	}
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict(got, &cm); err != nil {
		t.Fatalf("parse %s: %v", argocdPatchPath, err)
	}
	if cm.Name != "argocd-cm" {
		t.Errorf("patch targets ConfigMap %q, want argocd-cm", cm.Name)
	}
	if cm.Data[argocdHealthKey] != script {
		t.Errorf("data[%s] is not health.lua as written", argocdHealthKey)
	}
}
