package rollout

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// Annotations on a revision's ControllerRevision that record how its update ended.
const (
	// AnnotationOutcome is Complete or Failed once the revision's update has ended; it is absent
	// while the update is in progress (or was superseded before it ended).
	AnnotationOutcome = "apps.haoperator.dev/outcome"
	// AnnotationFailure is, on a Failed revision, the human-readable cause ("pod web-7f9c-x2
	// container web: ImagePullBackOff: ...").
	AnnotationFailure = "apps.haoperator.dev/failure"
)

// Outcome is how a revision's update ended.
type Outcome string

const (
	// OutcomeNone means the update has not ended (it is in progress, or a newer revision replaced it
	// before it ended).
	OutcomeNone Outcome = ""
	// OutcomeComplete means every replica ran the revision; it is a good revision to roll back to.
	OutcomeComplete Outcome = "Complete"
	// OutcomeFailed means the update failed (see AnnotationFailure).
	OutcomeFailed Outcome = "Failed"
)

// RevisionData is what a ControllerRevision stores, as JSON in its .data.
type RevisionData struct {
	// Template is the user's spec.template at this revision: what an undo copies back into the spec.
	Template corev1.PodTemplateSpec `json:"template"`
	// PodTemplate is the template the operator built from it, as the workload gets it: what an
	// automatic rollback puts back on the workload.
	PodTemplate corev1.PodTemplateSpec `json:"podTemplate"`
}

// RevisionName is the name of the app's ControllerRevision for a hash: <app>-<hash>.
func RevisionName(appName, hash string) string {
	return appName + "-" + hash
}

// NewRevision builds the ControllerRevision that keeps revision number `number` (1, 2, 3…) of the
// app, whose pod template hashes to `hash`. It sets name, namespace, labels, revision number and
// data; it sets no owner reference: the caller adds the app as controller (controllerutil.
// SetControllerReference), since that needs the scheme. No outcome annotation is set: a new
// revision is in progress.
func NewRevision(app *appsv1alpha1.HighlyAvailableApp, hash string, number int64, data RevisionData) (*appsv1.ControllerRevision, error) {
	if app == nil {
		return nil, errors.New("new revision: app is nil")
	}
	if app.Name == "" {
		return nil, errors.New("new revision: app metadata.name is empty")
	}
	if hash == "" {
		return nil, errors.New("new revision: hash is empty")
	}
	if errs := validation.IsValidLabelValue(hash); len(errs) > 0 {
		return nil, fmt.Errorf("new revision: hash %q is not a valid label value: %s", hash, strings.Join(errs, "; "))
	}
	if number < 1 {
		return nil, fmt.Errorf("new revision: revision number %d: must be 1 or more", number)
	}
	name := RevisionName(app.Name, hash)
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return nil, fmt.Errorf("new revision: name %q: %s", name, strings.Join(errs, "; "))
	}
	raw, err := json.Marshal(&data)
	if err != nil {
		return nil, fmt.Errorf("new revision: encode data: %w", err)
	}
	return &appsv1.ControllerRevision{
		TypeMeta: metav1.TypeMeta{APIVersion: appsv1.SchemeGroupVersion.String(), Kind: "ControllerRevision"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      name,
			Namespace: app.Namespace,
			Labels: map[string]string{
				appsv1alpha1.LabelName:      app.Name,
				appsv1alpha1.LabelInstance:  app.Name,
				appsv1alpha1.LabelManagedBy: appsv1alpha1.ManagedByValue,
				LabelRevisionHash:           hash,
			},
		},
		Data:     runtime.RawExtension{Raw: raw},
		Revision: number,
	}, nil
}

// DecodeRevision reads the RevisionData that NewRevision stored.
func DecodeRevision(cr *appsv1.ControllerRevision) (RevisionData, error) {
	var data RevisionData
	if cr == nil {
		return data, errors.New("decode revision: revision is nil")
	}
	raw := cr.Data.Raw
	if len(raw) == 0 && cr.Data.Object != nil {
		var err error
		if raw, err = json.Marshal(cr.Data.Object); err != nil {
			return data, fmt.Errorf("decode revision %s: encode data object: %w", cr.Name, err)
		}
	}
	if len(raw) == 0 {
		return data, fmt.Errorf("decode revision %s: data is empty", cr.Name)
	}
	if err := json.Unmarshal(raw, &data); err != nil {
		return data, fmt.Errorf("decode revision %s: data: %w", cr.Name, err)
	}
	return data, nil
}

// RevisionHash is the hash a revision keeps, from its LabelRevisionHash label.
func RevisionHash(cr *appsv1.ControllerRevision) string {
	if cr == nil {
		return ""
	}
	return cr.Labels[LabelRevisionHash]
}

// OutcomeOf is how the revision's update ended, from its AnnotationOutcome. Any value other than
// Complete or Failed reads as OutcomeNone.
func OutcomeOf(cr *appsv1.ControllerRevision) Outcome {
	if cr == nil {
		return OutcomeNone
	}
	switch o := Outcome(cr.Annotations[AnnotationOutcome]); o {
	case OutcomeComplete, OutcomeFailed:
		return o
	default:
		return OutcomeNone
	}
}

// FailureMessage is the cause recorded on a Failed revision, "" on any other.
func FailureMessage(cr *appsv1.ControllerRevision) string {
	if OutcomeOf(cr) != OutcomeFailed {
		return ""
	}
	return cr.Annotations[AnnotationFailure]
}
