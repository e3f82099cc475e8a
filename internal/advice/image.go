package advice

import (
	"fmt"
	"regexp"
	"strings"
)

// checkMutableImage: an image reference without a digest whose tag is missing (which pulls latest)
// or is latest. A port in the registry's host name is not a tag: registry:5000/app has none.
func checkMutableImage(in containerInput) (string, string, bool) {
	image := in.Container.Image
	repo, tag, digest := parseImage(image)
	if digest || (tag != "" && tag != "latest") {
		return "", "", false
	}
	what := "has no tag, so it means latest,"
	if tag == "latest" {
		what = "is tagged latest, a tag that moves,"
	}
	return MutableImage, fmt.Sprintf("%s runs image %s, which %s and has no digest: every revision names the "+
		"same moving image, so a rollback cannot bring the old code back, and the pods of one revision can "+
		"run different code depending on when they pulled it; name a version tag (%s:1.2.3) or pin a digest "+
		"(%s@sha256:...)", in.what(), image, what, repo, repo), true
}

// digestRef is the digest part of an image reference: @algorithm:hex.
var digestRef = regexp.MustCompile(`@[A-Za-z0-9_+.-]+:[0-9a-fA-F]{32,}$`)

// parseImage splits an image reference into its repository and tag, and says whether it names a
// digest. The tag is what follows the last colon after the last slash, so that registry:5000/app
// has no tag and registry:5000/app:1 has tag 1.
func parseImage(image string) (repo, tag string, digest bool) {
	name := image
	if loc := digestRef.FindStringIndex(image); loc != nil {
		name, digest = image[:loc[0]], true
	}
	repo = name
	if colon := strings.LastIndex(name, ":"); colon > strings.LastIndex(name, "/") {
		repo, tag = name[:colon], name[colon+1:]
	}
	return repo, tag, digest
}
