package advice

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// zonalProvisioners are the provisioners whose volumes are block devices bound to one zone: a pod
// can only use its volume from a node of that zone. The last one is the local cluster's
// (hack/cluster), whose volumes get a zone the way a cloud's do.
var zonalProvisioners = []string{
	"ebs.csi.aws.com", "kubernetes.io/aws-ebs",
	"pd.csi.storage.gke.io", "kubernetes.io/gce-pd",
	"disk.csi.azure.com", "kubernetes.io/azure-disk",
	"cinder.csi.openstack.org", "kubernetes.io/cinder",
	"local.haoperator.dev/zonal",
}

// zoneKeys are the node labels of a zone that a StorageClass's allowedTopologies may name.
var zoneKeys = []string{corev1.LabelTopologyZone, corev1.LabelFailureDomainBetaZone}

// Annotations that mark the cluster's default StorageClass.
const (
	annotationDefaultClass     = "storageclass.kubernetes.io/is-default-class"
	annotationDefaultClassBeta = "storageclass.beta.kubernetes.io/is-default-class"
)

// checkImmediateZonalStorage: a Stateful app's storage uses (by name, or through the default class
// when it names none) a StorageClass that binds volumes as soon as the claim exists
// (volumeBindingMode Immediate, or unset) and whose volumes are zonal. Such a class picks each
// volume's zone before the scheduler picks the pod's node: the volumes of a ring can all land in one
// zone, and each pod is then held to its volume's zone whatever the spread asks. A class that is not
// among the input's, and storage that names the empty class (no dynamic provisioning), yield none.
func checkImmediateZonalStorage(in Input) (string, string, bool) {
	if in.App.Spec.AppType() != appsv1alpha1.Stateful {
		return "", "", false
	}
	def := defaultClass(in.StorageClasses)
	var found []string
	for _, st := range in.App.Spec.Storage {
		var class *storagev1.StorageClass
		how := ""
		switch {
		case st.StorageClassName == nil:
			class, how = def, " (the default class)"
		case *st.StorageClassName != "":
			i := slices.IndexFunc(in.StorageClasses, func(sc storagev1.StorageClass) bool { return sc.Name == *st.StorageClassName })
			if i >= 0 {
				class = &in.StorageClasses[i]
			}
		}
		if class == nil || !bindsImmediately(class) {
			continue
		}
		if why := zonal(class); why != "" {
			found = append(found, fmt.Sprintf("storage %s uses StorageClass %s%s, whose volumes are zonal (%s) and "+
				"bound as soon as the claim exists (volumeBindingMode %s)", st.Name, class.Name, how, why, bindingMode(class)))
		}
	}
	if len(found) == 0 {
		return "", "", false
	}
	return ImmediateZonalStorage, strings.Join(found, "; ") + ": each volume's zone is chosen before its pod " +
		"is scheduled, so the volumes of several ordinals can land in one zone and hold their pods there, and " +
		"the loss of that zone takes them all; use a StorageClass with volumeBindingMode WaitForFirstConsumer " +
		"(the class of existing claims cannot change: their data has to move to new claims)", true
}

// defaultClass is the class the API server gives a claim that names none: the one annotated as the
// default, the newest when several are (ties: the first by name), as the DefaultStorageClass
// admission plugin chooses. Nil when there is none.
func defaultClass(classes []storagev1.StorageClass) *storagev1.StorageClass {
	var def *storagev1.StorageClass
	for i := range classes {
		sc := &classes[i]
		if sc.Annotations[annotationDefaultClass] != "true" && sc.Annotations[annotationDefaultClassBeta] != "true" {
			continue
		}
		if def == nil || cmp.Or(sc.CreationTimestamp.Compare(def.CreationTimestamp.Time), cmp.Compare(def.Name, sc.Name)) > 0 {
			def = sc
		}
	}
	return def
}

// bindsImmediately: volumeBindingMode Immediate, which is also what an unset mode means.
func bindsImmediately(sc *storagev1.StorageClass) bool {
	return sc.VolumeBindingMode == nil || *sc.VolumeBindingMode == storagev1.VolumeBindingImmediate
}

func bindingMode(sc *storagev1.StorageClass) string {
	if sc.VolumeBindingMode == nil {
		return "unset, so Immediate"
	}
	return string(*sc.VolumeBindingMode)
}

// zonal says why the class's volumes are bound to a zone, "" when they are not known to be: its
// allowedTopologies name the zone label, or its provisioner makes zonal block volumes and its
// parameters do not ask for regional (pd regional-pd) or zone-redundant (Azure *_ZRS) disks.
func zonal(sc *storagev1.StorageClass) string {
	for _, term := range sc.AllowedTopologies {
		for _, expr := range term.MatchLabelExpressions {
			if slices.Contains(zoneKeys, expr.Key) {
				return "its allowedTopologies name " + expr.Key
			}
		}
	}
	if !slices.Contains(zonalProvisioners, sc.Provisioner) || spansZones(sc) {
		return ""
	}
	return "provisioner " + sc.Provisioner
}

// spansZones: parameters that make a zonal provisioner's volumes span zones.
func spansZones(sc *storagev1.StorageClass) bool {
	for k, v := range sc.Parameters {
		switch strings.ToLower(k) {
		case "replication-type":
			if strings.EqualFold(v, "regional-pd") {
				return true
			}
		case "skuname", "storageaccounttype":
			if strings.HasSuffix(strings.ToUpper(v), "_ZRS") {
				return true
			}
		}
	}
	return false
}
