package data

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// entry is one image file found by the first pass.
type entry struct {
	name  string // slash-separated path relative to the dataset root
	ord   int    // position of the file in the source's own order
	size  int64  // file size in bytes
	h, w  int    // from the image header
	label int    // class index, -1 when unlabelled
	bad   string // why the file cannot be used; empty when it can
}

// isImageName reports whether a file name is one the loader reads: a .jpg,
// .jpeg or .png name (any case) with no hidden (dot) element, so that macOS
// "._x.jpg" and "__MACOSX/" debris in archives is ignored.
func isImageName(name string) bool {
	for _, part := range strings.Split(name, "/") {
		if strings.HasPrefix(part, ".") || part == "__MACOSX" {
			return false
		}
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".jpg", ".jpeg", ".png":
		return true
	}
	return false
}

// cleanArchiveName turns a tar header name into a slash path relative to the
// archive root ("./train/cat/1.jpg" -> "train/cat/1.jpg").
func cleanArchiveName(name string) string {
	name = path.Clean("/" + name)
	return strings.TrimPrefix(name, "/")
}

// classOf is the class folder of an image: the folder directly above it, or
// "" for an image at the root.
func classOf(name string) string {
	dir := path.Dir(name)
	if dir == "." || dir == "/" {
		return ""
	}
	return path.Base(dir)
}

// assignLabels sets each entry's label from its class folder and returns the
// class names sorted (label = index). When every image sits at the root the
// dataset is unlabelled: labels are -1 and classes is nil. A mix of root-level
// images and class folders is an error, since the loose images have no class.
func assignLabels(entries []entry) ([]string, error) {
	loose, inFolders := 0, 0
	set := map[string]bool{}
	for _, e := range entries {
		c := classOf(e.name)
		if c == "" {
			loose++
			continue
		}
		inFolders++
		set[c] = true
	}
	if loose > 0 && inFolders > 0 {
		return nil, fmt.Errorf("mixed layout: %d images lie directly in the root and %d in class folders; "+
			"move the loose images into a class folder, or point at a folder that holds only one kind", loose, inFolders)
	}
	if inFolders == 0 {
		for i := range entries {
			entries[i].label = -1
		}
		return nil, nil
	}
	classes := make([]string, 0, len(set))
	for c := range set {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	index := make(map[string]int, len(classes))
	for i, c := range classes {
		index[c] = i
	}
	for i := range entries {
		entries[i].label = index[classOf(entries[i].name)]
	}
	return classes, nil
}
