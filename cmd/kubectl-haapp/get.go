package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/decide"
	"github.com/haoperator/ha-operator/internal/kinds"
	"github.com/haoperator/ha-operator/internal/rollout"
)

// clearScreen moves the cursor home and clears a terminal, so --watch redraws in place.
const clearScreen = "\033[H\033[2J"

func newGetCommand(open func() (*session, error)) *cobra.Command {
	var watch bool
	cmd := &cobra.Command{
		Use:   "get NAME [--watch]",
		Short: "Show the app as a tree: workload, revisions, pods with zone, node, readiness and failure",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := open()
			if err != nil {
				return err
			}
			if watch {
				return s.watchTree(cmd.Context(), args[0])
			}
			var buf bytes.Buffer
			if err := s.tree(cmd.Context(), args[0], &buf); err != nil {
				return err
			}
			return s.printf("%s", buf.String())
		},
	}
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "redraw when anything changes, until interrupted")
	return cmd
}

// watchTree redraws the tree whenever it changes: in place on a terminal, else one after another.
func (s *session) watchTree(ctx context.Context, name string) error {
	last := ""
	for {
		var buf bytes.Buffer
		if err := s.tree(ctx, name, &buf); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if buf.String() != last {
			separator := ""
			if s.width > 0 {
				separator = clearScreen
			} else if last != "" {
				separator = "\n"
			}
			if err := s.printf("%s%s", separator, buf.String()); err != nil {
				return err
			}
			last = buf.String()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(s.interval):
		}
	}
}

// snapshot is everything the tree shows, read from the cluster at one time.
type snapshot struct {
	app      *appsv1alpha1.HighlyAvailableApp
	workload client.Object // *appsv1.Deployment, *appsv1.StatefulSet or nil when missing
	revs     []appsv1.ControllerRevision
	pods     []corev1.Pod
	zones    map[string]string // node name → zone
	// jobs are a Job app's runs, cronJob its CronJob when it is scheduled.
	jobs    []batchv1.Job
	cronJob *batchv1.CronJob
	// clusters are the member clusters Karmada placed the app on, when this is a Karmada control
	// plane (clusters.go); nil otherwise.
	clusters []clusterShare
}

// tree renders the app's tree into w.
func (s *session) tree(ctx context.Context, name string, w *bytes.Buffer) error {
	snap, err := s.read(ctx, name)
	if err != nil {
		return err
	}
	return renderTree(w, s.width, snap, s.now())
}

func (s *session) read(ctx context.Context, name string) (*snapshot, error) {
	app, err := s.getApp(ctx, name)
	if err != nil {
		return nil, err
	}
	snap := &snapshot{app: app, zones: map[string]string{}}
	if snap.clusters, err = s.placementOf(ctx, app); err != nil || snap.clusters != nil {
		// On a Karmada control plane the workload, its revisions and pods are in the member clusters.
		return snap, err
	}
	if snap.workload, err = s.workload(ctx, app); err != nil {
		return nil, err
	}
	if snap.revs, err = s.revisions(ctx, app); err != nil {
		return nil, err
	}
	if snap.pods, err = s.pods(ctx, app); err != nil {
		return nil, err
	}
	if app.Spec.AppType() == appsv1alpha1.Job {
		if err := s.readRuns(ctx, snap); err != nil {
			return nil, err
		}
	}
	for _, p := range snap.pods {
		node := p.Spec.NodeName
		if node == "" {
			continue
		}
		if _, done := snap.zones[node]; done {
			continue
		}
		n := &corev1.Node{}
		// Nodes are cluster-scoped and a user may not read them: then the zone stays blank.
		if err := s.client.Get(ctx, client.ObjectKey{Name: node}, n); err == nil {
			snap.zones[node] = n.Labels[corev1.LabelTopologyZone]
		} else {
			snap.zones[node] = ""
		}
	}
	return snap, nil
}

// workload is the app's Deployment, StatefulSet or DaemonSet, as its type names it (decide.WorkloadRef)
// or its status says; nil when it does not exist (yet), and for a Job app, whose runs readRuns reads.
func (s *session) workload(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp) (client.Object, error) {
	if decide.ObservesOf(app).Runs {
		return nil, nil
	}
	ref := decide.WorkloadRef(app)
	if w := app.Status.Workload; w != nil {
		ref = decide.Ref{Kind: w.Kind, Name: w.Name}
	}
	if _, known := kinds.ByName(ref.Kind); !known {
		return nil, fmt.Errorf("the app's status names a workload of kind %q", ref.Kind)
	}
	obj := kinds.NewObject(ref.Kind, ref.Name, app.Namespace)
	if err := s.client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get %s %q: %w", strings.ToLower(ref.Kind), ref.Name, err)
	}
	return obj, nil
}

// treeNode is one row of the tree and the rows under it.
type treeNode struct {
	cells    []string // NAME, STATUS, READY, ZONE, NODE, AGE, INFO
	children []*treeNode
}

func renderTree(w *bytes.Buffer, width int, snap *snapshot, now time.Time) error {
	app := snap.app
	state := stateOf(app)
	writeSummary(w, width, app, state, zoneProgress(snap))
	fmt.Fprintln(w)

	root := &treeNode{cells: []string{
		"HighlyAvailableApp/" + app.Name, string(state.Phase), readyOf(app), "", "",
		age(now, app.CreationTimestamp), state.Reason,
	}}
	parent := root
	if snap.clusters != nil {
		root.children = clusterNodes(app, snap.clusters)
	} else if app.Spec.AppType() == appsv1alpha1.Job {
		root.children = runNodes(snap, now)
	} else if snap.workload != nil {
		wl := workloadNode(snap.workload, now)
		root.children = append(root.children, wl)
		parent = wl
	} else {
		ref := decide.WorkloadRef(app)
		root.children = append(root.children, &treeNode{cells: []string{
			ref.Kind + "/" + ref.Name, "Missing", "", "", "", "", "not created yet",
		}})
	}
	if app.Spec.AppType() != appsv1alpha1.Job && snap.clusters == nil {
		revNodes, err := revisionNodes(snap, now)
		if err != nil {
			return err
		}
		parent.children = append(parent.children, revNodes...)
	}

	var rows [][]string
	var walk func(n *treeNode, prefix, childPrefix string)
	walk = func(n *treeNode, prefix, childPrefix string) {
		row := slices.Clone(n.cells)
		row[0] = prefix + row[0]
		rows = append(rows, row)
		for i, c := range n.children {
			if i == len(n.children)-1 {
				walk(c, childPrefix+"└─", childPrefix+"  ")
			} else {
				walk(c, childPrefix+"├─", childPrefix+"│ ")
			}
		}
	}
	walk(root, "", "")
	// Node names are the longest and least needed: they are cut first, then zones.
	writeTable(w, width, []string{"NAME", "STATUS", "READY", "ZONE", "NODE", "AGE", "INFO"}, rows, 4, 3)
	return nil
}

// writeSummary is the block above the tree: what a person wants first.
func writeSummary(w *bytes.Buffer, width int, app *appsv1alpha1.HighlyAvailableApp, state appState, zones string) {
	st := app.Status
	// Values wrap under themselves, so the cause of a failure is read whole in any terminal.
	const indent = 13
	line := func(label, value string) {
		valueWidth := 0
		if width > 0 {
			valueWidth = max(width-indent, 20)
		}
		for i, part := range wrap(value, valueWidth) {
			if i == 0 {
				fmt.Fprintf(w, "%-*s%s\n", indent, label+":", part)
			} else {
				fmt.Fprintf(w, "%*s%s\n", indent, "", part)
			}
		}
	}
	line("Name", app.Namespace+"/"+app.Name)
	line("Type", string(app.Spec.AppType()))
	status := string(state.Phase)
	if state.Reason != "" {
		status += " (" + state.Reason + ")"
	}
	line("Status", status)
	if state.Message != "" {
		line("Message", state.Message)
	}
	if label, value, ok := typeSummary(app); ok {
		line(label, value)
	} else {
		line("Replicas", fmt.Sprintf("%d desired | %d ready | %d updated | %d available",
			app.Spec.DesiredReplicas(), st.ReadyReplicas, st.UpdatedReplicas, st.AvailableReplicas))
	}
	revs := fmt.Sprintf("serving %s | spec %s", revisionNumber(st.CurrentRevision), revisionNumber(st.UpdateRevision))
	if st.LastFailedRevision != 0 {
		revs += fmt.Sprintf(" | last failed %d", st.LastFailedRevision)
	}
	line("Revision", revs)
	if st.Resilience != "" {
		line("Resilience", fmt.Sprintf("%s (%d zones, %d nodes)", st.Resilience, st.Zones, st.Nodes))
	}
	if zl := zoneLossLine(st.ZoneLoss); zl != "" {
		line("Zone loss", zl)
	}
	if zones != "" {
		line("Zones", zones)
	}
	if clusters := clusterLossLine(st); clusters != "" {
		line("Clusters", clusters)
	}
	conds := make([]string, 0, len(st.Conditions))
	for _, c := range st.Conditions {
		conds = append(conds, c.Type+"="+string(c.Status))
	}
	if len(conds) > 0 {
		line("Conditions", strings.Join(conds, " "))
	}
	writeAdviceSummary(w, width, indent, app)
}

// writeAdviceSummary lists the app's advice by what is wrong, the first part of each message, under
// the label Advice; the whole message, with what to change, is on the status. A piece of advice that
// wraps hangs under its first line.
func writeAdviceSummary(w *bytes.Buffer, width, indent int, app *appsv1alpha1.HighlyAvailableApp) {
	const hang = 2
	valueWidth := 0
	if width > 0 {
		valueWidth = max(width-indent-hang, 20)
	}
	label := "Advice:"
	for _, a := range app.Status.Advice {
		what, _, _ := strings.Cut(a.Message, ": ")
		for i, part := range wrap(a.Rule+": "+what, valueWidth) {
			if i == 0 {
				fmt.Fprintf(w, "%-*s%s\n", indent, label, part)
			} else {
				fmt.Fprintf(w, "%*s%s\n", indent+hang, "", part)
			}
		}
		label = ""
	}
	if len(app.Status.Advice) > 0 {
		fmt.Fprintf(w, "%*s(what to change: kubectl describe haapp %s -n %s)\n", indent, "", app.Name, app.Namespace)
	}
}

func revisionNumber(n int64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

func readyOf(app *appsv1alpha1.HighlyAvailableApp) string {
	if app.Status.ReadySummary != "" {
		return app.Status.ReadySummary
	}
	return fmt.Sprintf("%d/%d", app.Status.ReadyReplicas, app.Spec.DesiredReplicas())
}

func workloadNode(obj client.Object, now time.Time) *treeNode {
	switch wl := obj.(type) {
	case *appsv1.Deployment:
		status := "Progressing"
		if wl.Spec.Paused {
			status = "Paused"
		} else if wl.Status.ObservedGeneration >= wl.Generation && wl.Status.UpdatedReplicas == replicas(wl.Spec.Replicas) &&
			wl.Status.AvailableReplicas == replicas(wl.Spec.Replicas) && wl.Status.Replicas == wl.Status.UpdatedReplicas {
			status = "Available"
		}
		return &treeNode{cells: []string{
			"Deployment/" + wl.Name, status, fmt.Sprintf("%d/%d", wl.Status.ReadyReplicas, replicas(wl.Spec.Replicas)),
			"", "", age(now, wl.CreationTimestamp),
			fmt.Sprintf("updated %d, available %d", wl.Status.UpdatedReplicas, wl.Status.AvailableReplicas),
		}}
	case *appsv1.StatefulSet:
		status := "Progressing"
		if wl.Status.ObservedGeneration >= wl.Generation && wl.Status.UpdatedReplicas == replicas(wl.Spec.Replicas) &&
			wl.Status.ReadyReplicas == replicas(wl.Spec.Replicas) && wl.Status.CurrentRevision == wl.Status.UpdateRevision {
			status = "Available"
		}
		info := fmt.Sprintf("updated %d", wl.Status.UpdatedReplicas)
		if u := wl.Spec.UpdateStrategy.RollingUpdate; u != nil && u.Partition != nil && *u.Partition > 0 {
			info += fmt.Sprintf(", partition %d", *u.Partition)
		}
		return &treeNode{cells: []string{
			"StatefulSet/" + wl.Name, status, fmt.Sprintf("%d/%d", wl.Status.ReadyReplicas, replicas(wl.Spec.Replicas)),
			"", "", age(now, wl.CreationTimestamp), info,
		}}
	case *appsv1.DaemonSet:
		return daemonSetNode(wl, now)
	}
	return &treeNode{cells: []string{obj.GetName(), "", "", "", "", "", ""}}
}

func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

// revisionNodes are the revisions that have pods, plus the serving one and the one the spec asks
// for, newest first, each with its pods. Pods of no known revision come last.
func revisionNodes(snap *snapshot, now time.Time) ([]*treeNode, error) {
	app := snap.app
	byHash := map[string][]corev1.Pod{}
	for _, p := range snap.pods {
		byHash[p.Labels[rollout.LabelRevisionHash]] = append(byHash[p.Labels[rollout.LabelRevisionHash]], p)
	}
	var nodes []*treeNode
	ordered := rollout.ByNumber(snap.revs)
	slices.Reverse(ordered)
	for _, cr := range ordered {
		hash := rollout.RevisionHash(cr)
		pods := byHash[hash]
		delete(byHash, hash)
		if len(pods) == 0 && cr.Revision != app.Status.CurrentRevision && cr.Revision != app.Status.UpdateRevision {
			continue
		}
		data, err := rollout.DecodeRevision(cr)
		if err != nil {
			return nil, err
		}
		// The cause of a failure is in the summary above and in history: the row keeps to images.
		info := images(builtOrUser(data))
		state := string(rollout.OutcomeOf(cr))
		switch {
		case cr.Revision == app.Status.CurrentRevision:
			state = "Serving"
		case state == "" && cr.Revision == app.Status.UpdateRevision:
			state = "Updating"
		case state == "":
			state = "Superseded"
		}
		n := &treeNode{cells: []string{
			fmt.Sprintf("Revision %d", cr.Revision), state, podsReady(pods), "", "",
			age(now, cr.CreationTimestamp), info,
		}}
		n.children = podNodes(pods, snap.zones, now)
		if app.Spec.AppType() == appsv1alpha1.Daemon {
			sortByNode(n.children)
		}
		nodes = append(nodes, n)
	}
	var unknown []corev1.Pod
	for _, pods := range byHash {
		unknown = append(unknown, pods...)
	}
	if len(unknown) > 0 {
		n := &treeNode{cells: []string{"Revision ?", "unknown", podsReady(unknown), "", "", "", "pods of no stored revision"}}
		n.children = podNodes(unknown, snap.zones, now)
		nodes = append(nodes, n)
	}
	return nodes, nil
}

func podsReady(pods []corev1.Pod) string {
	ready := 0
	for i := range pods {
		if rollout.PodReady(&pods[i]) {
			ready++
		}
	}
	return fmt.Sprintf("%d/%d", ready, len(pods))
}

func podNodes(pods []corev1.Pod, zones map[string]string, now time.Time) []*treeNode {
	slices.SortFunc(pods, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	out := make([]*treeNode, 0, len(pods))
	for i := range pods {
		p := &pods[i]
		readyContainers := 0
		var restarts int32
		for _, c := range p.Status.ContainerStatuses {
			if c.Ready {
				readyContainers++
			}
			restarts += c.RestartCount
		}
		status, info := podStatus(p), ""
		if v := rollout.PodFailure(p, now, rollout.Tolerances{}); v.Failed {
			// The reason is often the status already: then the message alone says more.
			info = v.Message
			if string(v.Reason) != status {
				info = strings.TrimSuffix(string(v.Reason)+": "+v.Message, ": ")
			}
		}
		if restarts > 0 {
			info = strings.TrimPrefix(info+fmt.Sprintf(", restarts: %d", restarts), ", ")
		}
		out = append(out, &treeNode{cells: []string{
			"Pod/" + p.Name, status, fmt.Sprintf("%d/%d", readyContainers, len(p.Spec.Containers)),
			orDash(zones[p.Spec.NodeName]), orDash(p.Spec.NodeName), age(now, p.CreationTimestamp), info,
		}})
	}
	return out
}

// podStatus is the pod's state in one word, as kubectl get pods shows it: a waiting container's
// reason wins over the phase, since it says what is wrong.
func podStatus(p *corev1.Pod) string {
	if p.DeletionTimestamp != nil {
		return "Terminating"
	}
	for _, group := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, c := range group {
			if w := c.State.Waiting; w != nil && w.Reason != "" && w.Reason != "PodInitializing" {
				return w.Reason
			}
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason != "" {
			return c.Reason
		}
	}
	if p.Status.Phase == "" {
		return string(corev1.PodPending)
	}
	return string(p.Status.Phase)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
