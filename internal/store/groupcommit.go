package store

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"
)

// maxGroup bounds how many inserts one group commit takes.
const maxGroup = 256

// groupTimeout bounds one group's transaction; it runs detached from the
// requests in it, since one caller giving up must not fail the others.
const groupTimeout = 5 * time.Second

var errStoreClosed = errors.New("the store is closed")

// groupCommit runs concurrent inserts of one statement in shared writer
// transactions: inserts that arrive while a transaction commits wait
// together and go in the next one. On a single-writer database the commit
// (its WAL writes and locks) is most of an insert's cost, so N waiting
// inserts pay for one. Each caller still returns only once its row is
// committed, or with its own error: when a group fails, its inserts are
// retried one transaction each, so a duplicate key fails only its own
// caller.
type groupCommit struct {
	s       *Store
	query   string
	pending chan *groupedInsert
	// mu guards closed; inserts hold it shared while they enqueue, so
	// once close has it nothing more arrives and the rest can be drained.
	mu      sync.RWMutex
	closed  bool
	quit    chan struct{}
	stopped sync.WaitGroup
}

type groupedInsert struct {
	ctx  context.Context
	args []any
	done chan error
}

func newGroupCommit(s *Store, query string) *groupCommit {
	g := &groupCommit{s: s, query: query, pending: make(chan *groupedInsert, maxGroup), quit: make(chan struct{})}
	g.stopped.Add(1)
	go g.loop()
	return g
}

// insert runs the statement with args and returns once it is committed.
func (g *groupCommit) insert(ctx context.Context, args ...any) error {
	in := &groupedInsert{ctx: ctx, args: args, done: make(chan error, 1)}
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return errStoreClosed
	}
	select {
	case g.pending <- in:
		g.mu.RUnlock()
	case <-ctx.Done():
		g.mu.RUnlock()
		return ctx.Err()
	}
	// The group it joined commits it or not whatever this caller does, so
	// it waits for the outcome rather than for ctx.
	return <-in.done
}

func (g *groupCommit) loop() {
	defer g.stopped.Done()
	group := make([]*groupedInsert, 0, maxGroup)
	for {
		select {
		case <-g.quit:
			g.drain()
			return
		case in := <-g.pending:
			group = append(group[:0], in)
		}
		// Let requests that are about to insert catch this group.
		runtime.Gosched()
	collect:
		for len(group) < maxGroup {
			select {
			case in := <-g.pending:
				group = append(group, in)
			default:
				break collect
			}
		}
		g.commit(group)
	}
}

// commit inserts group in one transaction, or each on its own when that
// fails.
func (g *groupCommit) commit(group []*groupedInsert) {
	live := group[:0]
	for _, in := range group {
		if err := in.ctx.Err(); err != nil {
			in.done <- err // gave up before its group began: not inserted
			continue
		}
		live = append(live, in)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	err := g.s.inTxOnce(ctx, func(tx handle) error {
		for _, in := range live {
			if _, err := tx.exec(ctx, g.query, in.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(live) == 1 || errors.As(err, new(commitError)) {
		// A failed COMMIT may have taken effect: never retried.
		for _, in := range live {
			in.done <- err
		}
		return
	}
	for _, in := range live {
		in.done <- g.s.inTxOnce(ctx, func(tx handle) error {
			_, err := tx.exec(ctx, g.query, in.args...)
			return err
		})
	}
}

// drain fails what is still queued once the store closes.
func (g *groupCommit) drain() {
	for {
		select {
		case in := <-g.pending:
			in.done <- errStoreClosed
		default:
			return
		}
	}
}

func (g *groupCommit) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	close(g.quit)
	g.stopped.Wait()
}
