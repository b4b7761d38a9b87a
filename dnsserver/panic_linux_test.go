//go:build linux

package dnsserver

import (
	"io"
	"log/slog"
	"slices"
	"testing"
	"unsafe"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// fillBatch puts packets into b as recvmmsg would, all from 127.0.0.1.
func fillBatch(b *udpBatchState, pkts [][]byte) {
	for i, p := range pkts {
		copy(b.inBuf[i][:], p)
		b.in[i].len = uint32(len(p))
		b.in[i].hdr.Flags = 0
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&b.names[i]))
		sa.Family, sa.Addr = unix.AF_INET, [4]byte{127, 0, 0, 1}
	}
}

// One panicking packet in a recvmmsg batch drops only itself: the packets
// before and after it are answered, in order, into the same sendmmsg
// batch, and the reader goes on with a fresh worker.
func TestPanicInBatchDropsOnlyThatPacket(t *testing.T) {
	tests := []struct {
		name    string
		bad     []int // indexes of panicking packets
		n       int
		replies []uint16 // ids answered, in order
	}{
		{"middle", []int{2}, 5, []uint16{0, 1, 3, 4}},
		{"first and last", []int{0, 4}, 5, []uint16{1, 2, 3}},
		{"every packet", []int{0, 1, 2}, 3, nil},
		{"none", nil, 3, []uint16{0, 1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			st := new(Stats)
			r := &udpReader{st: st, wk: newUDPWorker(st), b: newUDPBatchState()}
			pkts := make([][]byte, tt.n)
			for i := range pkts {
				ecs := "203.0.113.0"
				for _, b := range tt.bad {
					if b == i {
						ecs = "198.18.0.0"
					}
				}
				pkts[i] = packed(t, withECS(query("www.dyn.test.", dns.TypeA), 1, 24, ecs), uint16(i))
			}
			fillBatch(r.b, pkts)
			first := r.wk
			snap := panickySnapshot(t)
			for i := 0; i < tt.n; {
				i = s.answerBatch(r, snap, i, tt.n)
			}
			var ids []uint16
			for i := range r.b.pending {
				m := new(dns.Msg)
				reply := unsafe.Slice(r.b.outIov[i].Base, r.b.outIov[i].Len)
				if err := m.Unpack(reply); err != nil || len(m.Answer) != 1 {
					t.Fatalf("reply %d: %v %v", i, m, err)
				}
				ids = append(ids, m.Id)
			}
			if !slices.Equal(ids, tt.replies) {
				t.Fatalf("answered ids %v, want %v", ids, tt.replies)
			}
			if st.Panics[0].Load() != uint64(len(tt.bad)) || st.UDP.Load() != uint64(tt.n) {
				t.Errorf("panics %d, udp %d; want %d, %d", st.Panics[0].Load(), st.UDP.Load(), len(tt.bad), tt.n)
			}
			if (r.wk != first) != (len(tt.bad) > 0) {
				t.Error("the worker was replaced without a panic, or kept after one")
			}
			if r.wk.cache != first.cache {
				t.Error("the answer cache was reallocated instead of emptied")
			}
		})
	}
}
