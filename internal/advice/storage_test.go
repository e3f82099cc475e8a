package advice

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// class is a StorageClass of the provisioner with the binding mode (nil: unset).
func class(name, provisioner string, mode *storagev1.VolumeBindingMode) storagev1.StorageClass {
	return storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: provisioner, VolumeBindingMode: mode}
}

func asDefault(sc storagev1.StorageClass, created time.Time) storagev1.StorageClass {
	sc.Annotations = map[string]string{annotationDefaultClass: "true"}
	sc.CreationTimestamp = metav1.NewTime(created)
	return sc
}

// stateful is a Stateful app whose storage entries use the classes named (nil: the default class).
func stateful(classes ...*string) *appsv1alpha1.HighlyAvailableApp {
	app := goodApp(appsv1alpha1.Stateful)
	for i, c := range classes {
		app.Spec.Storage = append(app.Spec.Storage, appsv1alpha1.StorageSpec{
			Name: []string{"data", "logs", "wal"}[i], MountPath: "/" + []string{"data", "logs", "wal"}[i],
			Size: resource.MustParse("1Gi"), StorageClassName: c,
		})
	}
	return app
}

func TestImmediateZonalStorage(t *testing.T) {
	immediate, wait := new(storagev1.VolumeBindingImmediate), new(storagev1.VolumeBindingWaitForFirstConsumer)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ebs := class("gp3", "ebs.csi.aws.com", immediate)
	ebsUnset := class("gp2", "kubernetes.io/aws-ebs", nil)
	ebsWait := class("gp3-wait", "ebs.csi.aws.com", wait)
	local := class("standard", "local.haoperator.dev/zonal", immediate)
	nfs := class("nfs", "nfs.csi.k8s.io", immediate)
	pinned := class("pinned", "example.com/san", immediate)
	pinned.AllowedTopologies = []corev1.TopologySelectorTerm{{MatchLabelExpressions: []corev1.TopologySelectorLabelRequirement{
		{Key: corev1.LabelTopologyZone, Values: []string{"zone-a", "zone-b"}},
	}}}
	regional := class("regional", "pd.csi.storage.gke.io", immediate)
	regional.Parameters = map[string]string{"type": "pd-balanced", "replication-type": "regional-pd"}
	zrs := class("zrs", "disk.csi.azure.com", immediate)
	zrs.Parameters = map[string]string{"skuName": "Premium_ZRS"}
	lrs := class("lrs", "disk.csi.azure.com", immediate)
	lrs.Parameters = map[string]string{"skuName": "Premium_LRS"}
	all := []storagev1.StorageClass{ebs, ebsUnset, ebsWait, local, nfs, pinned, regional, zrs, lrs}

	wfc := "use a StorageClass with volumeBindingMode WaitForFirstConsumer"
	runAppCases(t, ImmediateZonalStorage, checkImmediateZonalStorage, []appCase{
		{name: "an EBS class that binds at once", in: Input{App: stateful(new("gp3")), StorageClasses: all}, applies: true,
			says: []string{"storage data uses StorageClass gp3, whose volumes are zonal (provisioner ebs.csi.aws.com)",
				"(volumeBindingMode Immediate)", "land in one zone", wfc}},
		{name: "the binding mode unset", in: Input{App: stateful(new("gp2")), StorageClasses: all}, applies: true,
			says: []string{"(volumeBindingMode unset, so Immediate)"}},
		{name: "WaitForFirstConsumer", in: Input{App: stateful(new("gp3-wait")), StorageClasses: all}},
		{name: "the local cluster's zonal class", in: Input{App: stateful(new("standard")), StorageClasses: all}, applies: true,
			says: []string{"provisioner local.haoperator.dev/zonal"}},
		{name: "a provisioner that is not zonal", in: Input{App: stateful(new("nfs")), StorageClasses: all}},
		{name: "allowed topologies by zone", in: Input{App: stateful(new("pinned")), StorageClasses: all}, applies: true,
			says: []string{"(its allowedTopologies name topology.kubernetes.io/zone)"}},
		{name: "regional persistent disks", in: Input{App: stateful(new("regional")), StorageClasses: all}},
		{name: "zone-redundant Azure disks", in: Input{App: stateful(new("zrs")), StorageClasses: all}},
		{name: "locally redundant Azure disks", in: Input{App: stateful(new("lrs")), StorageClasses: all}, applies: true},
		{name: "a class that does not exist", in: Input{App: stateful(new("missing")), StorageClasses: all}},
		{name: "no classes known", in: Input{App: stateful(new("gp3"))}},
		{name: "the empty class: no dynamic provisioning", in: Input{App: stateful(new("")), StorageClasses: all}},
		{name: "through the default class", in: Input{App: stateful(nil), StorageClasses: []storagev1.StorageClass{
			nfs, asDefault(ebs, t0)}}, applies: true, says: []string{"StorageClass gp3 (the default class)"}},
		{name: "no default class", in: Input{App: stateful(nil), StorageClasses: all}},
		{name: "a default class that waits", in: Input{App: stateful(nil), StorageClasses: []storagev1.StorageClass{
			asDefault(ebsWait, t0), ebs}}},
		// As the API server does: the newest default class wins.
		{name: "two default classes, the newest binds at once", in: Input{App: stateful(nil), StorageClasses: []storagev1.StorageClass{
			asDefault(ebsWait, t0), asDefault(ebs, t0.Add(time.Hour))}}, applies: true},
		{name: "two default classes, the newest waits", in: Input{App: stateful(nil), StorageClasses: []storagev1.StorageClass{
			asDefault(ebs, t0), asDefault(ebsWait, t0.Add(time.Hour))}}},
		{name: "two default classes of the same age: the first by name binds at once", in: Input{App: stateful(nil),
			StorageClasses: []storagev1.StorageClass{asDefault(ebsWait, t0), asDefault(ebs, t0)}}, applies: true,
			says: []string{"StorageClass gp3 (the default class)"}},
		{name: "two default classes of the same age: the first by name waits", in: Input{App: stateful(nil),
			StorageClasses: []storagev1.StorageClass{asDefault(ebs, t0), asDefault(class("a-wait", "ebs.csi.aws.com", wait), t0)}}},
		{name: "several entries, one message", in: Input{App: stateful(new("gp3"), new("nfs"), nil),
			StorageClasses: []storagev1.StorageClass{ebs, nfs, asDefault(local, t0)}}, applies: true,
			says: []string{"storage data uses StorageClass gp3", "; storage wal uses StorageClass standard (the default class)"}},
		{name: "not Stateful", in: Input{App: goodApp(appsv1alpha1.Stateless), StorageClasses: []storagev1.StorageClass{asDefault(ebs, t0)}}},
	})
	_, msg, _ := checkImmediateZonalStorage(Input{App: stateful(new("gp3"), new("nfs")), StorageClasses: all})
	assertNotSaid(t, msg, "storage logs")
}

// TestDefaultClassBetaAnnotation: the beta annotation still marks the default class.
func TestDefaultClassBetaAnnotation(t *testing.T) {
	sc := class("old", "kubernetes.io/gce-pd", nil)
	sc.Annotations = map[string]string{annotationDefaultClassBeta: "true"}
	if got := defaultClass([]storagev1.StorageClass{sc}); got == nil || got.Name != "old" {
		t.Errorf("default class %v, want old", got)
	}
	sc.Annotations = map[string]string{annotationDefaultClass: "false"}
	if got := defaultClass([]storagev1.StorageClass{sc}); got != nil {
		t.Errorf("default class %s, annotated false", got.Name)
	}
}
