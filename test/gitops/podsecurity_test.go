package gitops

import (
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// managerManifest is the manager's Namespace and Deployment as `make deploy` and dist/install.yaml
// ship them (kustomize only renames them and adds the metrics flag).
var managerManifest = filepath.Join("..", "..", "config", "manager", "manager.yaml")

var _ = Describe("The manager's pod", func() {
	It("meets the restricted Pod Security Standard, which its namespace enforces", func() {
		raw, err := os.ReadFile(managerManifest)
		Expect(err).NotTo(HaveOccurred())
		docs := strings.Split(string(raw), "\n---\n")
		Expect(docs).To(HaveLen(2), "manager.yaml holds the Namespace and the Deployment")
		var ns corev1.Namespace
		Expect(yaml.UnmarshalStrict([]byte(docs[0]), &ns)).To(Succeed())
		var deploy appsv1.Deployment
		Expect(yaml.UnmarshalStrict([]byte(docs[1]), &deploy)).To(Succeed())
		Expect(ns.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))

		By("creating the namespace with the shipped labels, and the manager's service account")
		ns.Name = "ha-operator-system-" + rand.String(5)
		Expect(k8sClient.Create(ctx, &ns)).To(Succeed())
		Expect(k8sClient.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{
			Name: deploy.Spec.Template.Spec.ServiceAccountName, Namespace: ns.Name}})).To(Succeed())

		By("the API server's Pod Security admission accepts the manager's pod there")
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "manager", Namespace: ns.Name, Labels: deploy.Spec.Template.Labels},
			Spec:       deploy.Spec.Template.Spec,
		}
		Expect(k8sClient.Create(ctx, pod.DeepCopy(), client.DryRunAll)).To(Succeed())

		By("and refuses the same pod without its security settings, so the check has teeth")
		loose := pod.DeepCopy()
		loose.Spec.SecurityContext = nil
		loose.Spec.Containers[0].SecurityContext = nil
		err = k8sClient.Create(ctx, loose, client.DryRunAll)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring(`violates PodSecurity "restricted`))
	})
})
