package decide

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// FieldManager is the field manager of every server-side apply of the generated objects.
//
// Whether an apply would change anything is judged without a mark on the objects: the API server
// records, in the object's managed fields, the set of fields each apply of this manager set. An
// object needs no apply when that set is the one the desired object would set (no field dropped or
// added) and every desired value is already there (isSubset). The cache keeps of the managed fields
// only a digest of this manager's set (AppliedEntry), and decide computes the same digest from the
// desired object with the schema of the built-in types (AppliedDigest).
const FieldManager = "ha-operator"

// typeConverter types an unstructured object of a built-in kind with its schema, as the API server
// does before it computes the fields an apply sets.
var typeConverter = sync.OnceValue(func() managedfields.TypeConverter {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		panic(err)
	}
	return applyconfigurations.NewTypeConverter(scheme)
})

// unmanaged are the fields the API server leaves out of a manager's set (its identity and type).
var unmanaged = fieldpath.NewSet(
	fieldpath.MakePathOrDie("apiVersion"),
	fieldpath.MakePathOrDie("kind"),
	fieldpath.MakePathOrDie("metadata"),
	fieldpath.MakePathOrDie("metadata", "name"),
	fieldpath.MakePathOrDie("metadata", "namespace"),
	fieldpath.MakePathOrDie("metadata", "creationTimestamp"),
	fieldpath.MakePathOrDie("metadata", "selfLink"),
	fieldpath.MakePathOrDie("metadata", "uid"),
	fieldpath.MakePathOrDie("metadata", "clusterName"),
	fieldpath.MakePathOrDie("metadata", "generation"),
	fieldpath.MakePathOrDie("metadata", "managedFields"),
	fieldpath.MakePathOrDie("metadata", "resourceVersion"),
)

// AppliedDigest is the digest of the fields an apply of obj makes FieldManager own, as the API
// server records them (FieldsDigest of its managed-fields entry).
func AppliedDigest(obj *unstructured.Unstructured) (string, error) {
	tv, err := typeConverter().ObjectToTyped(obj)
	if err != nil {
		return "", err
	}
	set, err := tv.ToFieldSet()
	if err != nil {
		return "", err
	}
	raw, err := set.Difference(unmanaged).ToJSON()
	if err != nil {
		return "", err
	}
	return FieldsDigest(raw), nil
}

// FieldsDigest is the digest of a managed-fields entry's field set, as the API server encodes it.
func FieldsDigest(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:12])
}

// AppliedEntry is FieldManager's managed-fields entry as the cache keeps it: the digest of its
// field set, as a JSON string, in place of the set. It exists in memory only: the operator never
// sends an object's managed fields.
func AppliedEntry(apiVersion, digest string) metav1.ManagedFieldsEntry {
	return metav1.ManagedFieldsEntry{Manager: FieldManager, Operation: metav1.ManagedFieldsOperationApply,
		APIVersion: apiVersion, FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(strconv.Quote(digest))}
}

// IsDigest tells whether an entry's fields are the digest that AppliedEntry holds (a JSON string),
// rather than the field set itself (a JSON object).
func IsDigest(raw []byte) bool { return len(raw) > 0 && raw[0] == '"' }

// IsAppliedEntry tells whether an entry records the fields FieldManager's applies set.
func IsAppliedEntry(e *metav1.ManagedFieldsEntry) bool {
	return e.Manager == FieldManager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "" &&
		e.FieldsV1 != nil
}

// AppliedDigestOf is the digest of the fields FieldManager's applies set on obj, read from the
// cache's AppliedEntry or from a whole entry; "" when it has none.
func AppliedDigestOf(obj client.Object) string {
	for i, entries := 0, obj.GetManagedFields(); i < len(entries); i++ {
		e := &entries[i]
		if !IsAppliedEntry(e) {
			continue
		}
		raw := e.FieldsV1.GetRawBytes()
		if IsDigest(raw) {
			if digest, err := strconv.Unquote(string(raw)); err == nil {
				return digest
			}
			return ""
		}
		return FieldsDigest(raw)
	}
	return ""
}
