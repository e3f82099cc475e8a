package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBinDirWalksUpToTheModuleRoot(t *testing.T) {
	root := t.TempDir()
	pkg := filepath.Join(root, "internal", "pkg")
	bin := filepath.Join(root, "bin")
	for _, dir := range []string{pkg, bin} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path string) {
		t.Helper()
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "go.mod"))

	write(filepath.Join(bin, "kube-apiserver"))
	if _, err := BinDir(pkg); err == nil || !strings.Contains(err.Error(), filepath.Join(bin, "etcd")) {
		t.Errorf("without etcd: error %v, want one naming %s", err, filepath.Join(bin, "etcd"))
	}

	write(filepath.Join(bin, "etcd"))
	got, err := BinDir(pkg)
	if err != nil {
		t.Fatal(err)
	}
	if got != bin {
		t.Errorf("BinDir(%s) = %s, want %s", pkg, got, bin)
	}
}

func TestBinDirWithoutAModule(t *testing.T) {
	if _, err := os.Stat("/go.mod"); err == nil {
		t.Skip("the file system's root holds a go.mod")
	}
	dir := t.TempDir()
	if _, err := BinDir(dir); err == nil || !strings.Contains(err.Error(), "no go.mod") {
		t.Errorf("error %v, want one saying there is no go.mod", err)
	}
}
