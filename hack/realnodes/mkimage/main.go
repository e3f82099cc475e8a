/*
Copyright 2026.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Command mkimage writes a container image holding one static binary as a docker archive (the
// format of `docker save`), which `ctr images import` reads: no Docker and no registry needed.
//
//	mkimage -binary bin/app -tag ha-operator.local/app:v1 [-tag ...] [-arg -flag ...] -o app.tar
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var (
		binary, out string
		tags, args  listFlag
	)
	flag.StringVar(&binary, "binary", "", "the static binary to put in the image (its entrypoint, /"+"<name>)")
	flag.Var(&tags, "tag", "a name:tag of the image (repeatable)")
	flag.Var(&args, "arg", "an argument the entrypoint gets by default (repeatable; the image's Cmd)")
	flag.StringVar(&out, "o", "", "the docker archive to write")
	flag.Parse()
	if binary == "" || out == "" || len(tags) == 0 {
		fmt.Fprintln(os.Stderr, "usage: mkimage -binary FILE -tag NAME:TAG [-tag ...] [-arg ARG ...] -o OUT.tar")
		os.Exit(2)
	}
	if err := writeArchiveFile(out, binary, tags, args); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func writeArchiveFile(out, binary string, tags, args []string) error {
	content, err := os.ReadFile(binary)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	img := Image{Binary: content, Entrypoint: "/" + baseName(binary), Cmd: args, Tags: tags}
	if err := img.WriteDockerArchive(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", out, err)
	}
	return f.Close()
}

func baseName(path string) string {
	return path[strings.LastIndex(path, "/")+1:]
}
