package fetch

import (
	"context"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// fullBacklog returns a loopback address whose listener never accepts and whose accept queue is
// full, so that Linux drops further SYNs and a connect hangs: the case of a firewalled or dead
// mirror, on 127.0.0.1.
func fullBacklog(t *testing.T) string {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skip("no socket:", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
	// A backlog of 0 still queues a connection or two; fill the queue until a connect hangs.
	for i := 0; i < 8; i++ {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Skip("the kernel accepted every connection: cannot make a connect hang here")
	return ""
}

func TestConnectTimeout(t *testing.T) {
	raw := withSecrets(t, "http://"+fullBacklog(t)+"/iso")
	logs := &logSink{}
	c := testClient(logs)
	root := t.TempDir()
	t0 := time.Now()
	_, err := c.Download(context.Background(), raw, Plan{OS: "testbed", Algorithm: "sha256", Digest: digestOf(payload), FileName: "x.iso"}.CachePath(root),
		Want{Algorithm: "sha256", Digest: digestOf(payload)})
	checkFailure(t, err, raw, []string{"GET <URL>: no connection within 300ms (attempt 2/2: gave up after 2 attempts)"}, logs)
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("the connect timeout took %s", d)
	}
	if got := dirNames(t, root); got != "" {
		t.Errorf("the failure left %q in the cache root", got)
	}
}
