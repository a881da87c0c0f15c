package main

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"

	"github.com/mocoedge/mocoedge/internal/repo"
)

// image is one CIFAR-10 test image with its class.
type image struct {
	name  string // file name in the camera folder
	class string
	data  []byte // JPEG
}

// imageSet is what the edge stage works with.
type imageSet struct {
	classes []string
	camera  []image // played by the camera source; perClass of each are labelled
	eval    []image // held out: only ever sent to /v1/predict and queries
}

// images splits the CIFAR-10 test images into the camera's and the held-out
// ones, the same number of each class, and writes the camera's into its
// folder.
func (d *demo) images() (*imageSet, error) {
	files, err := repo.ArchiveFiles(filepath.Join(d.o.data, "test.tar.gz"), 0)
	if err != nil {
		return nil, err
	}
	byClass := map[string][]repo.ArchiveFile{}
	for _, f := range files {
		c := path.Base(path.Dir(f.Name))
		byClass[c] = append(byClass[c], f)
	}
	set := &imageSet{}
	for c := range byClass {
		set.classes = append(set.classes, c)
	}
	sort.Strings(set.classes)
	nCam, nEval := d.o.camera/len(set.classes), d.o.eval/len(set.classes)
	dir := filepath.Join(d.o.out, "camera")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for _, c := range set.classes {
		fs := byClass[c]
		if len(fs) < nCam+nEval {
			return nil, fmt.Errorf("class %s has %d test images, the demo needs %d", c, len(fs), nCam+nEval)
		}
		for i, f := range fs[:nCam] {
			img := image{name: fmt.Sprintf("%s-%04d.jpg", c, i), class: c, data: f.Data}
			if err := os.WriteFile(filepath.Join(dir, img.name), img.data, 0o644); err != nil {
				return nil, err
			}
			set.camera = append(set.camera, img)
		}
		for i, f := range fs[nCam : nCam+nEval] {
			set.eval = append(set.eval, image{name: fmt.Sprintf("%s-eval-%04d.jpg", c, i), class: c, data: f.Data})
		}
	}
	fmt.Fprintf(d.stdout, "camera: %d images in %s; held out: %d; classes: %v\n", len(set.camera), dir, len(set.eval), set.classes)
	return set, nil
}
