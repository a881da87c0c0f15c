package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/fsnotify/fsnotify"
)

// pending is a watched file not yet known to be complete.
type pending struct {
	size    int64
	mod     time.Time
	changed time.Time // last write event or change of size or time seen
}

// watchOnce watches the folder and emits each image file created or moved
// into it once the file has stayed unchanged for the settle time (see the
// package documentation for why). It fails when the folder is missing or
// goes away; the supervisor then starts it again after the back-off.
func (s *src) watchOnce(ctx context.Context) (outcome, error) {
	dir := filepath.Clean(s.cfg.Path)
	st, err := os.Stat(dir)
	if err != nil {
		return retry, fmt.Errorf("watch folder: %w", err)
	}
	if !st.IsDir() {
		return retry, fmt.Errorf("watch folder %s: not a folder", dir)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return retry, fmt.Errorf("watch folder %s: %w", dir, err)
	}
	defer w.Close()
	if err := w.Add(dir); err != nil {
		return retry, fmt.Errorf("watch folder %s: %w", dir, err)
	}
	s.setState(StateRunning)

	settle := s.h.opts.settle
	tick := time.NewTicker(min(max(settle/4, 10*time.Millisecond), 250*time.Millisecond))
	defer tick.Stop()
	files := map[string]*pending{}
	for {
		select {
		case <-ctx.Done():
			return retry, nil
		case ev, ok := <-w.Events:
			if !ok {
				return retry, fmt.Errorf("watch folder %s: watcher closed", dir)
			}
			name := filepath.Clean(ev.Name)
			if name == dir {
				if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
					return retry, fmt.Errorf("watch folder %s: removed or renamed", dir)
				}
				continue
			}
			if !isImageName(name) {
				continue
			}
			switch {
			case ev.Has(fsnotify.Create) || ev.Has(fsnotify.Write):
				if p := files[name]; p != nil {
					p.changed = time.Now()
				} else {
					files[name] = &pending{size: -1, changed: time.Now()}
				}
			case ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename):
				delete(files, name) // gone, or moved away (a move in is a Create)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return retry, fmt.Errorf("watch folder %s: watcher closed", dir)
			}
			// An overflow loses events (files may be missed); keep watching.
			s.fail(fmt.Errorf("watch folder %s: %w", dir, err))
		case now := <-tick.C:
			var ready []string
			for name, p := range files {
				st, err := os.Stat(name)
				if err != nil || !st.Mode().IsRegular() {
					if err != nil && !errors.Is(err, os.ErrNotExist) {
						s.fail(fmt.Errorf("watch: %w", err))
					}
					delete(files, name)
					continue
				}
				if st.Size() != p.size || !st.ModTime().Equal(p.mod) {
					p.size, p.mod, p.changed = st.Size(), st.ModTime(), now
					continue
				}
				if now.Sub(p.changed) >= settle {
					ready = append(ready, name)
				}
			}
			slices.Sort(ready)
			for _, name := range ready {
				delete(files, name)
				s.readFile(name)
			}
		}
	}
}
