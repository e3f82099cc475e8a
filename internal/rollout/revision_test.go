package rollout

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

func testApp(name string) *appsv1alpha1.HighlyAvailableApp {
	return &appsv1alpha1.HighlyAvailableApp{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNamespace}}
}

func TestNewRevision(t *testing.T) {
	user := baseTemplate()
	built := baseTemplate()
	built.Labels = map[string]string{appsv1alpha1.LabelName: webName, LabelRevisionHash: someHash}
	data := RevisionData{Template: *user, PodTemplate: *built}

	cr, err := NewRevision(testApp(webName), someHash, 3, data)
	if err != nil {
		t.Fatalf("NewRevision: %v", err)
	}
	if cr.Name != "web-bcdfghjklm" || cr.Namespace != testNamespace || cr.Revision != 3 {
		t.Errorf("got name %s/%s revision %d", cr.Namespace, cr.Name, cr.Revision)
	}
	wantLabels := map[string]string{
		appsv1alpha1.LabelName:      webName,
		appsv1alpha1.LabelInstance:  webName,
		appsv1alpha1.LabelManagedBy: appsv1alpha1.ManagedByValue,
		LabelRevisionHash:           someHash,
	}
	if !equality.Semantic.DeepEqual(cr.Labels, wantLabels) {
		t.Errorf("labels %v, want %v", cr.Labels, wantLabels)
	}
	if len(cr.OwnerReferences) != 0 || len(cr.Annotations) != 0 {
		t.Errorf("want no owner references or annotations, got %v %v", cr.OwnerReferences, cr.Annotations)
	}
	if OutcomeOf(cr) != OutcomeNone {
		t.Errorf("new revision outcome %q, want none", OutcomeOf(cr))
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(cr.Data.Raw, &fields); err != nil {
		t.Fatalf("data is not a JSON object: %v", err)
	}
	if _, ok := fields["template"]; !ok {
		t.Error("data has no template field")
	}
	if _, ok := fields["podTemplate"]; !ok {
		t.Error("data has no podTemplate field")
	}
	got, err := DecodeRevision(cr)
	if err != nil {
		t.Fatalf("DecodeRevision: %v", err)
	}
	if !equality.Semantic.DeepEqual(got, data) {
		t.Errorf("round trip lost data:\n got %+v\nwant %+v", got, data)
	}
}

func TestNewRevisionRejectsBadInput(t *testing.T) {
	tests := []struct {
		name   string
		app    *appsv1alpha1.HighlyAvailableApp
		hash   string
		number int64
		want   string
	}{
		{"nil app", nil, someHash, 1, "app is nil"},
		{"no name", testApp(""), someHash, 1, "metadata.name"},
		{"no hash", testApp(webName), "", 1, "hash is empty"},
		{"hash not a label value", testApp(webName), "a b", 1, "label value"},
		{"number zero", testApp(webName), someHash, 0, "revision number 0"},
		{"name too long", testApp(strings.Repeat("a", 250)), someHash, 1, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRevision(tt.app, tt.hash, tt.number, RevisionData{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestDecodeRevision(t *testing.T) {
	tpl := baseTemplate()
	tests := []struct {
		name    string
		cr      *appsv1.ControllerRevision
		wantErr string
		image   string
	}{
		{"nil", nil, "nil", ""},
		{"empty data", &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: revName2}}, "web-x: data is empty", ""},
		{"not JSON", &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: revName2},
			Data: runtime.RawExtension{Raw: []byte("{")}}, "web-x: data", ""},
		{"decoded object", &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: revName2},
			Data: runtime.RawExtension{Object: &runtime.Unknown{
				Raw: mustJSON(t, RevisionData{Template: *tpl}), ContentType: runtime.ContentTypeJSON,
			}}}, "", testImage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeRevision(tt.cr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeRevision: %v", err)
			}
			if img := got.Template.Spec.Containers[0].Image; img != tt.image {
				t.Errorf("image %q, want %q", img, tt.image)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestRecordOutcome(t *testing.T) {
	inProgress := &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: revName}}
	failed := &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: revName, Annotations: map[string]string{
		AnnotationOutcome: "Failed", AnnotationFailure: "pod web-a-1: Unschedulable: no nodes",
	}}}
	complete := &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: revName, Annotations: map[string]string{
		AnnotationOutcome: "Complete", AnnotationCompleted: "true", "keep": "me",
	}}}
	tests := []struct {
		name        string
		cr          *appsv1.ControllerRevision
		outcome     Outcome
		message     string
		wantChanged bool
	}{
		{"in progress to complete", inProgress, OutcomeComplete, "", true},
		{"complete again", complete, OutcomeComplete, "", false},
		{"failed to complete drops message", failed, OutcomeComplete, "", true},
		{"in progress to failed", inProgress, OutcomeFailed, "pod web-a-1 container web: ImagePullBackOff: back-off", true},
		{"failed again, same message", failed, OutcomeFailed, "pod web-a-1: Unschedulable: no nodes", false},
		{"failed, new message", failed, OutcomeFailed, "other", true},
		{"retry clears failure", failed, OutcomeNone, "", true},
		{"clear in progress", inProgress, OutcomeNone, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.cr.DeepCopy()
			rec := ReadRecord(tt.cr)
			rec.Outcome, rec.Failure = tt.outcome, tt.message
			got, changed := rec.WriteTo(tt.cr)
			if !equality.Semantic.DeepEqual(before, tt.cr) {
				t.Error("the argument was modified")
			}
			if changed != tt.wantChanged {
				t.Errorf("changed %v, want %v", changed, tt.wantChanged)
			}
			if o := OutcomeOf(got); o != tt.outcome {
				t.Errorf("outcome %q, want %q", o, tt.outcome)
			}
			if m := FailureMessage(got); m != tt.message {
				t.Errorf("message %q, want %q", m, tt.message)
			}
			if _, has := got.Annotations[AnnotationFailure]; has && tt.outcome != OutcomeFailed {
				t.Error("failure annotation left on a revision that is not Failed")
			}
			if tt.cr == complete && got.Annotations["keep"] != "me" {
				t.Error("other annotations were dropped")
			}
		})
	}
}

func TestOutcomeOfUnknownValue(t *testing.T) {
	cr := &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{AnnotationOutcome: "Maybe"}}}
	if OutcomeOf(cr) != OutcomeNone {
		t.Errorf("unknown outcome read as %q", OutcomeOf(cr))
	}
	if OutcomeOf(nil) != OutcomeNone || RevisionHash(nil) != "" {
		t.Error("nil revision not handled")
	}
}

func TestRecordDefaults(t *testing.T) {
	cr := &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: revName}}
	if got := ReadRecord(cr).Defaults; got != 1 {
		t.Errorf("a revision that does not say reads defaults %d, want 1", got)
	}
	rec := ReadRecord(cr)
	if out, changed := rec.WriteTo(cr); changed || out.Annotations[AnnotationDefaults] != "" {
		t.Errorf("the first generation was written: %v", out.Annotations)
	}
	rec.Defaults = 2
	out, changed := rec.WriteTo(cr)
	if !changed || out.Annotations[AnnotationDefaults] != "2" || ReadRecord(out).Defaults != 2 {
		t.Errorf("defaults 2 written as %v", out.Annotations)
	}
	if restarted := ReadRecord(out).Restart(time.Now()); restarted.Defaults != 2 {
		t.Errorf("a restart forgets the defaults: %d", restarted.Defaults)
	}
}
