package keyqueue

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Environment of the crash test's child process.
const (
	crashEnvDir   = "KEYQUEUE_CRASH_CHILD_DIR"
	crashEnvSeed  = "KEYQUEUE_CRASH_CHILD_SEED"
	crashEnvKills = "KEYQUEUE_CRASH_KILLS" // parent: how many kills (default 25)
)

// crashSpec and crashOptions are shared by the child and the parent.
func crashSpec() genSpec { return genSpec{dim: 32, thumb: 400} }

func crashOptions() Options {
	return Options{Capacity: 1500, SegmentBytes: 64 << 10}
}

// TestCrashChild is the child role of TestCrashKill9: it appends, labels
// and compacts in a loop, printing each operation after it returned, until
// the parent kills it. It is skipped unless the parent started it.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnvDir)
	if dir == "" {
		t.Skip("child process of TestCrashKill9")
	}
	seed, _ := strconv.ParseUint(os.Getenv(crashEnvSeed), 10, 64)
	rng := rand.New(rand.NewPCG(seed, 1))
	fail := func(err error) {
		fmt.Fprintf(os.Stdout, "error %v\n", err)
		os.Exit(2)
	}
	q, err := Open(dir, crashOptions())
	if err != nil {
		fail(err)
	}
	g := crashSpec()
	fmt.Fprintf(os.Stdout, "open %d\n", q.Stats().NextID)
	for {
		id := q.Stats().NextID
		got, err := q.Append(g.gen(id))
		if err != nil || got != id {
			fail(fmt.Errorf("append %d: got %d, %v", id, got, err))
		}
		fmt.Fprintf(os.Stdout, "a %d\n", id) // os.Stdout is unbuffered: one write(2)
		switch r := rng.IntN(1000); {
		case r < 100:
			lid := id - uint64(rng.IntN(min(q.Len(), 200)))
			if err := q.SetLabel(lid, genLabel(lid)); err != nil {
				fail(fmt.Errorf("label %d: %v", lid, err))
			}
			fmt.Fprintf(os.Stdout, "l %d\n", lid)
		case r < 103:
			fmt.Fprintf(os.Stdout, "C\n") // compaction starting
			if err := q.Compact(t.Context()); err != nil {
				fail(fmt.Errorf("compact: %v", err))
			}
			fmt.Fprintf(os.Stdout, "c\n")
		}
	}
}

// crashRun is what the parent learnt from one child.
type crashRun struct {
	opened   bool
	appended uint64          // last id whose Append returned
	labelled map[uint64]bool // ids whose SetLabel returned
	compacts int
	starts   int // compactions started
	err      string
	// compacting is closed when the child starts its first compaction.
	compacting chan struct{}
}

// readChild parses the child's progress lines.
func readChild(out *bufio.Scanner, run *crashRun, openedCh chan<- struct{}) {
	for out.Scan() {
		f := strings.Fields(out.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "open":
			run.opened = true
			close(openedCh)
		case "a":
			run.appended, _ = strconv.ParseUint(f[1], 10, 64)
		case "l":
			id, _ := strconv.ParseUint(f[1], 10, 64)
			run.labelled[id] = true
		case "C":
			run.starts++
			if run.compacting != nil {
				close(run.compacting)
				run.compacting = nil
			}
		case "c":
			run.compacts++
		case "error":
			run.err = out.Text()
		}
	}
}

// TestCrashKill9 kills a child process that writes to the queue with
// SIGKILL at random moments, reopens the queue after each kill and checks
// that every entry the child saw returned is there and intact, that ids are
// contiguous, and that nothing but a torn tail was ever found (the sync
// policy: a kill -9 loses nothing that Append returned).
func TestCrashKill9(t *testing.T) {
	if os.Getenv(crashEnvDir) != "" {
		t.Skip("in the child")
	}
	kills := 25
	if s := os.Getenv(crashEnvKills); s != "" {
		kills, _ = strconv.Atoi(s)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	dir := t.TempDir()
	g, opts := crashSpec(), crashOptions()
	labelled := map[uint64]bool{}
	var baseline uint64 // ids up to here must survive
	var checked, compacts, torn, midCompaction int
	for kill := range kills {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnvDir+"="+dir, crashEnvSeed+"="+strconv.FormatUint(rng.Uint64(), 10))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		compacting := make(chan struct{})
		run := &crashRun{labelled: map[uint64]bool{}, compacting: compacting}
		opened, done := make(chan struct{}), make(chan struct{})
		go func() {
			readChild(bufio.NewScanner(stdout), run, opened)
			close(done)
		}()
		switch kill % 4 {
		case 0:
			// Kill at any moment, recovery in Open included.
			time.Sleep(time.Duration(rng.IntN(15000)) * time.Microsecond)
		case 1:
			// Kill during a compaction.
			select {
			case <-compacting:
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("child did not compact")
			}
			time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		default:
			select {
			case <-opened:
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("child did not open the queue")
			}
			time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-done
		werr := cmd.Wait()
		if run.err != "" {
			t.Fatalf("kill %d: child failed: %s\n%s", kill, run.err, stderr.String())
		}
		var ee *exec.ExitError
		if !errors.As(werr, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("kill %d: child ended with %v, not by SIGKILL\n%s", kill, werr, stderr.String())
		}
		for id := range run.labelled {
			labelled[id] = true
		}
		compacts += run.compacts
		if run.starts > run.compacts {
			midCompaction++
		}

		q, err := Open(dir, opts)
		if err != nil {
			t.Fatalf("kill %d: reopen: %v", kill, err)
		}
		r := q.Recovery()
		for _, d := range r.Damage {
			if !errors.Is(d, ErrTorn) {
				t.Fatalf("kill %d: a kill -9 caused more than a torn tail: %v", kill, d)
			}
			torn++
		}
		st := q.Stats()
		last := st.NextID - 1
		if last < max(run.appended, baseline) {
			t.Fatalf("kill %d: the queue ends at id %d, but the child saw id %d returned (baseline %d)", kill, last, run.appended, baseline)
		}
		firstID := uint64(1)
		if k := uint64(opts.Capacity); last > k {
			firstID = last - k + 1
		}
		want := idRange(firstID, last)
		if got := ids(t, q); !equalIDs(got, want) {
			t.Fatalf("kill %d: ids %d..%d (%d), want %d..%d", kill, first(got), first(got)+uint64(len(got))-1, len(got), firstID, last)
		}
		for _, id := range want {
			e, err := q.Get(id)
			if err != nil {
				t.Fatal(err)
			}
			label := ""
			if labelled[id] || e.Label != "" {
				label = genLabel(id) // a label that was written must be right
				labelled[id] = true  // and must stay
			}
			checkEntry(t, g, e, id, label)
			checkThumb(t, q, g, id)
			checked++
		}
		limit := int64(DefaultCompactRatio*float64(st.LiveBytes)) + 3*opts.SegmentBytes
		if st.DiskBytes > limit {
			t.Fatalf("kill %d: %d bytes on disk for %d live bytes", kill, st.DiskBytes, st.LiveBytes)
		}
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
		baseline = last
		t.Logf("kill %2d: child opened %-5v last returned id %6d, queue ends at %6d, %4d entries checked, torn tails %d",
			kill, run.opened, run.appended, last, len(want), len(r.Damage))
	}
	t.Logf("%d kills (%d during a compaction), %d entries checked, %d torn tails repaired, %d compactions completed by children, last id %d",
		kills, midCompaction, checked, torn, compacts, baseline)
	if baseline == 0 {
		t.Fatal("the children never appended anything")
	}
}

// equalIDs compares id lists (nil equals empty).
func equalIDs(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// first returns a[0] or 0.
func first(a []uint64) uint64 {
	if len(a) == 0 {
		return 0
	}
	return a[0]
}
