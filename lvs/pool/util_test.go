package pool

import (
	"bytes"
	"fmt"
	"sync"
)

func fmtInts(v []int) string { return fmt.Sprint(v) }

// syncBuf is a goroutine-safe log sink for tests.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
