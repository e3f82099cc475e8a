package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/advice"
)

// Exit codes of check: 0 when no advice applies, 1 when some does, 2 when the manifests cannot be
// read (a file that is not there, a document that is not YAML or not a valid app).
const (
	checkAdviceExit  = 1
	checkInvalidExit = 2
)

// manifestExtensions are the files of a directory that check reads, as kubectl apply -f does.
var manifestExtensions = []string{".yaml", ".yml", ".json"}

func newCheckCommand(streams genericiooptions.IOStreams) *cobra.Command {
	var (
		files     []string
		recursive bool
	)
	cmd := &cobra.Command{
		Use:   "check -f FILE [-f FILE...] [-R]",
		Short: "Check HighlyAvailableApp manifests against the HA practices, without a cluster: exit 1 when advice applies",
		Long: `Evaluate the advice rules the operator reports in status.advice on manifests, without a cluster
(no kubeconfig is read): for CI and GitOps pipelines, before the apps are applied.

-f takes files, directories (their .yaml, .yml and .json files; -R descends into subdirectories) and
- for standard input. Documents of other kinds are skipped, except StorageClasses, which the
ImmediateZonalStorage rule reads (storage that names no class uses the one annotated as the default);
give the cluster's classes with kubectl get storageclass -o yaml > classes.yaml, -f classes.yaml.

Exit 0 when no advice applies, 1 when some does (advice never blocks the operator: the pipeline
decides), 2 when a manifest cannot be read.

  kubectl haapp check -f config/samples
  kustomize build overlays/prod | kubectl haapp check -f -`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return &exitError{code: checkInvalidExit, msg: fmt.Sprintf(
					"check takes no arguments, only -f FILE (got %q)", strings.Join(args, " "))}
			}
			if len(files) == 0 {
				return &exitError{code: checkInvalidExit, msg: "check needs at least one -f FILE (- for standard input)"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out bytes.Buffer
			err := runCheck(&out, streams.In, files, recursive, terminalWidth(streams.Out))
			if _, werr := streams.Out.Write(out.Bytes()); werr != nil && err == nil {
				err = fmt.Errorf("write output: %w", werr)
			}
			return err
		},
	}
	cmd.Flags().StringSliceVarP(&files, "filename", "f", nil,
		"manifests to check: a file, a directory or - for standard input (repeat -f for more)")
	cmd.Flags().BoolVarP(&recursive, "recursive", "R", false,
		"read the directories given with -f and their subdirectories")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: checkInvalidExit, msg: err.Error()}
	})
	return cmd
}

// checkedApp is an app read from the manifests and where it was.
type checkedApp struct {
	app    *appsv1alpha1.HighlyAvailableApp
	source string
}

// manifests is what check reads: the apps, in the order met, and the StorageClasses.
type manifests struct {
	apps    []checkedApp
	classes []storagev1.StorageClass
}

// runCheck reads the manifests, evaluates the rules on each app and writes the advice to out.
func runCheck(out *bytes.Buffer, stdin io.Reader, files []string, recursive bool, width int) error {
	var m manifests
	for _, f := range files {
		if err := m.readPath(f, stdin, recursive); err != nil {
			return &exitError{code: checkInvalidExit, msg: err.Error()}
		}
	}
	if len(m.apps) == 0 {
		fmt.Fprintln(out, "no HighlyAvailableApp in the manifests")
		return nil
	}
	type finding struct {
		checked checkedApp
		advice  []appsv1alpha1.Advice
	}
	var found []finding
	total := 0
	for _, a := range m.apps {
		if adv := advice.For(advice.Input{App: a.app, StorageClasses: m.classes}); len(adv) > 0 {
			found = append(found, finding{a, adv})
			total += len(adv)
		}
	}
	if len(found) == 0 {
		fmt.Fprintf(out, "%s checked: no advice\n", countApps(len(m.apps)))
		return nil
	}
	// One layout for every app, so that the tables line up.
	ruleWidth, containerWidth := len("RULE"), len("CONTAINER")
	for _, f := range found {
		for _, a := range f.advice {
			ruleWidth = max(ruleWidth, len(a.Rule))
			containerWidth = max(containerWidth, utf8.RuneCountInString(containerCell(a)))
		}
	}
	for i, f := range found {
		if i > 0 {
			fmt.Fprintln(out)
		}
		app := f.checked.app
		// Where the app is, as compilers and linters say it; a path is never cut.
		fmt.Fprintf(out, "%s: app %s (%s)\n", f.checked.source, appLabel(app), app.Spec.AppType())
		writeAdvice(out, width, ruleWidth, containerWidth, f.advice)
	}
	return &exitError{code: checkAdviceExit, msg: fmt.Sprintf("advice applies to %d of %s (%d in all)",
		len(found), countApps(len(m.apps)), total)}
}

// writeAdvice writes one app's advice as a table under it, the messages wrapped to the terminal's
// width (whole when the output is not a terminal).
func writeAdvice(out *bytes.Buffer, width, ruleWidth, containerWidth int, adv []appsv1alpha1.Advice) {
	const indent = "  "
	prefix := len(indent) + ruleWidth + len(columnGap) + containerWidth + len(columnGap)
	messageWidth := 0
	if width > 0 {
		messageWidth = max(width-prefix, minLastColumn)
	}
	row := func(rule, container string, message []string) {
		fmt.Fprintf(out, "%s%-*s%s%-*s%s%s\n",
			indent, ruleWidth, rule, columnGap, containerWidth, container, columnGap, message[0])
		for _, more := range message[1:] {
			fmt.Fprintf(out, "%s%s\n", strings.Repeat(" ", prefix), more)
		}
	}
	row("RULE", "CONTAINER", []string{"MESSAGE"})
	for _, a := range adv {
		row(a.Rule, containerCell(a), wrap(a.Message, messageWidth))
	}
}

// containerCell is the CONTAINER of a piece of advice, "-" when it is about the whole app.
func containerCell(a appsv1alpha1.Advice) string {
	if a.Container == "" {
		return "-"
	}
	return a.Container
}

func appLabel(app *appsv1alpha1.HighlyAvailableApp) string {
	if app.Namespace == "" {
		return app.Name
	}
	return app.Namespace + "/" + app.Name
}

func countApps(n int) string {
	if n == 1 {
		return "1 HighlyAvailableApp"
	}
	return fmt.Sprintf("%d HighlyAvailableApps", n)
}

// readPath reads a file, the manifest files of a directory, or standard input ("-").
func (m *manifests) readPath(path string, stdin io.Reader, recursive bool) error {
	if path == "-" {
		return m.readStream("standard input", stdin)
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return m.readFile(path)
	}
	var paths []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != path && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		if slices.Contains(manifestExtensions, strings.ToLower(filepath.Ext(p))) {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// WalkDir visits in lexical order, so the output does not depend on the file system.
	for _, p := range paths {
		if err := m.readFile(p); err != nil {
			return err
		}
	}
	return nil
}

func (m *manifests) readFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	return m.readStream(path, f)
}

// readStream reads the YAML (or JSON) documents of one source. A document is named by its number,
// counted from 1 between the --- separators, when the source holds more than one.
func (m *manifests) readStream(source string, r io.Reader) error {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var docs [][]byte
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", source, err)
		}
		docs = append(docs, doc)
	}
	for i, doc := range docs {
		where := source
		if len(docs) > 1 {
			where = fmt.Sprintf("%s, document %d", source, i+1)
		}
		if err := m.readDocument(where, doc); err != nil {
			return err
		}
	}
	return nil
}

// typeMeta is what tells the kind of a document.
type typeMeta struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Items      []json.RawMessage `json:"items"`
}

// readDocument keeps the document if it is a HighlyAvailableApp or a StorageClass, or a list of
// them; any other kind is skipped.
func (m *manifests) readDocument(where string, doc []byte) error {
	data, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if trimmed := bytes.TrimSpace(data); len(trimmed) == 0 || string(trimmed) == "null" {
		return nil
	}
	var meta typeMeta
	if err := json.Unmarshal(data, &meta); err != nil {
		return fmt.Errorf("%s: not a Kubernetes object: %w", where, err)
	}
	gv, err := schema.ParseGroupVersion(meta.APIVersion)
	if err != nil {
		return fmt.Errorf("%s: apiVersion %q: %w", where, meta.APIVersion, err)
	}
	switch {
	case gv.Group == appsv1alpha1.GroupVersion.Group && meta.Kind == "HighlyAvailableApp":
		if gv != appsv1alpha1.GroupVersion {
			return fmt.Errorf("%s: apiVersion %s: this plugin knows %s", where, meta.APIVersion, appsv1alpha1.GroupVersion)
		}
		app := &appsv1alpha1.HighlyAvailableApp{}
		if err := strictUnmarshal(data, app); err != nil {
			return fmt.Errorf("%s: HighlyAvailableApp %s: %w", where, nameOf(data), err)
		}
		m.apps = append(m.apps, checkedApp{app: app, source: where})
	case gv == storagev1.SchemeGroupVersion && meta.Kind == "StorageClass":
		sc := storagev1.StorageClass{}
		if err := json.Unmarshal(data, &sc); err != nil {
			return fmt.Errorf("%s: StorageClass %s: %w", where, nameOf(data), err)
		}
		m.classes = append(m.classes, sc)
	case strings.HasSuffix(meta.Kind, "List"):
		// kubectl get -o yaml writes a v1 List; its items are whole objects.
		for i, item := range meta.Items {
			if err := m.readDocument(fmt.Sprintf("%s, item %d", where, i+1), item); err != nil {
				return err
			}
		}
	}
	return nil
}

// strictUnmarshal decodes an app and refuses fields the API does not have: a misspelt field
// (readinesProbe) would otherwise be dropped in silence and the advice would be about another app
// than the one the API server is given (which refuses it with kubectl's strict field validation).
func strictUnmarshal(data []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// nameOf is the document's metadata.name, for messages about a document that does not decode.
func nameOf(data []byte) string {
	var obj struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if json.Unmarshal(data, &obj) != nil || obj.Metadata.Name == "" {
		return "(no name)"
	}
	return obj.Metadata.Name
}
