package data

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Estimate is what a dataset will take in memory, worked out from the image
// headers before any image is decoded.
type Estimate struct {
	// Path is the dataset's path as given to Load or Inspect.
	Path string
	// Files is the number of image files found (JPEG or PNG by name).
	Files int
	// Unreadable is the number of those whose header could not be read.
	Unreadable int
	// Images is the number of images that will be decoded (after Limit).
	Images int
	// Classes is the number of classes; zero for an unlabelled dataset.
	Classes int
	// Height and Width are the common image size, zero when sizes differ.
	Height, Width int
	// CacheBytes is the size of the decoded uint8 RGB pixel cache.
	CacheBytes int64
	// IndexBytes is the memory for labels, names and offsets.
	IndexBytes int64
	// TransientBytes is the memory for decoding buffers while loading.
	TransientBytes int64
	// GarbageBytes is the freed decoding memory the Go collector may not
	// have reclaimed yet (the loader collects every gcEveryBytes of it).
	GarbageBytes int64
	// Budget is the memory budget in force; zero or less means none.
	Budget int64
	// BudgetSource says where Budget came from (for messages).
	BudgetSource string
}

// PeakBytes is the most memory the load is expected to hold at once.
func (e Estimate) PeakBytes() int64 {
	return e.CacheBytes + e.IndexBytes + e.TransientBytes + e.GarbageBytes
}

// Fits reports whether the load stays within the budget.
func (e Estimate) Fits() bool {
	return e.Budget <= 0 || e.PeakBytes() <= e.Budget
}

// String describes the estimate in one line.
func (e Estimate) String() string {
	size := "mixed sizes"
	if e.Height > 0 {
		size = fmt.Sprintf("%dx%d", e.Height, e.Width)
	}
	classes := "unlabelled"
	if e.Classes > 0 {
		classes = fmt.Sprintf("%d classes", e.Classes)
	}
	budget := "no budget"
	if e.Budget > 0 {
		budget = fmt.Sprintf("budget %s (%s)", FormatBytes(e.Budget), e.BudgetSource)
	}
	return fmt.Sprintf("%d of %d images, %s, %s: about %s (cache %s, index %s, decoding %s + %s), %s",
		e.Images, e.Files, size, classes, FormatBytes(e.PeakBytes()),
		FormatBytes(e.CacheBytes), FormatBytes(e.IndexBytes), FormatBytes(e.TransientBytes),
		FormatBytes(e.GarbageBytes), budget)
}

// imagesThatFit is how many images, at the estimate's average size, would
// stay within the budget; it is the --limit a refusal suggests.
func (e Estimate) imagesThatFit() int {
	if e.Images == 0 || e.Budget <= 0 {
		return e.Images
	}
	per := float64(e.CacheBytes+e.IndexBytes) / float64(e.Images)
	room := float64(e.Budget - e.TransientBytes - e.GarbageBytes)
	if room <= 0 || per <= 0 {
		return 0
	}
	n := int(room / per)
	return min(n, e.Images)
}

// BudgetError is returned when a dataset would take more memory than the
// budget allows. Nothing has been decoded when it is returned.
type BudgetError struct {
	// Estimate holds the numbers that did not fit.
	Estimate Estimate
}

// Error names the numbers and the ways out.
func (e *BudgetError) Error() string {
	est := e.Estimate
	return fmt.Sprintf("data: %s: loading %d images needs about %s (cache %s + index %s + decoding %s), "+
		"over the memory budget of %s (%s); load a class-balanced subset with --limit %d (Options.Limit) "+
		"or raise the budget (Options.MemoryBudget)",
		est.Path, est.Images, FormatBytes(est.PeakBytes()), FormatBytes(est.CacheBytes),
		FormatBytes(est.IndexBytes), FormatBytes(est.TransientBytes+est.GarbageBytes), FormatBytes(est.Budget),
		est.BudgetSource, est.imagesThatFit())
}

// memoryBudget resolves Options.MemoryBudget into bytes and a description.
func memoryBudget(opts Options) (int64, string) {
	if opts.MemoryBudget < 0 {
		return 0, "disabled"
	}
	if opts.MemoryBudget > 0 {
		return opts.MemoryBudget, "Options.MemoryBudget"
	}
	total, src, err := machineMemory()
	if err != nil {
		return fallbackMemoryBudget, fmt.Sprintf("fallback, machine memory unknown: %v", err)
	}
	return int64(float64(total) * DefaultMemoryFraction),
		fmt.Sprintf("%.0f%% of %s %s", DefaultMemoryFraction*100, FormatBytes(total), src)
}

// machineMemory returns the memory this process may use: MemTotal from
// /proc/meminfo, or the cgroup limit when that is smaller.
func machineMemory() (int64, string, error) {
	total, err := memTotal("/proc/meminfo")
	if err != nil {
		return 0, "", err
	}
	src := "RAM"
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if lim, ok := cgroupLimit(p); ok && lim < total {
			total, src = lim, "cgroup memory limit"
			break
		}
	}
	return total, src, nil
}

// memTotal reads MemTotal (in bytes) from a meminfo file.
func memTotal(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("reading total memory: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("reading total memory from %s: %w", path, err)
			}
			return kb << 10, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("reading total memory from %s: %w", path, err)
	}
	return 0, fmt.Errorf("reading total memory: no MemTotal line in %s", path)
}

// cgroupLimit reads a cgroup memory limit; ok is false when there is none.
func cgroupLimit(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, false
	}
	return v, true
}

// FormatBytes writes a byte count with a binary unit (KiB, MiB, GiB).
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
