// Package browser drives Debian's chromium through chromedp for end-to-end
// tests: headless, with the console's errors collected, DOM queries, PNG
// screenshots and a mode with JavaScript disabled.
package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// ExecPath is Debian's chromium (`make deps-chromium` installs it).
const ExecPath = "/usr/bin/chromium"

// WaitBound bounds WaitFor and every single browser action: it only stops
// a failing test, and asserts no speed.
const WaitBound = 10 * time.Second

// Browser is one headless chromium with one tab.
type Browser struct {
	t   testing.TB
	ctx context.Context // the tab's; cancelled by t.Cleanup

	mu     sync.Mutex
	errors []string // console errors and uncaught exceptions so far
}

type config struct{ noJS bool }

// Option changes how New starts the browser.
type Option func(*config)

// WithoutJavaScript disables the page's scripts, as a reader with
// JavaScript off would see the page.
func WithoutJavaScript() Option { return func(c *config) { c.noJS = true } }

// New starts headless chromium; t.Cleanup closes it. It fails the test,
// never skips it, if chromium is missing.
func New(t testing.TB, opts ...Option) *Browser {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if _, err := os.Stat(ExecPath); err != nil {
		t.Fatalf("chromium is needed for this test: %v (install it with `make deps-chromium`)", err)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocOptions()...)
	ctx, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	b := &Browser{t: t, ctx: ctx}
	// The first call starts the browser and binds its life to ctx, so it
	// has no timeout of its own.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", ExecPath, err)
	}
	b.collectConsole()
	if cfg.noJS {
		b.call("disabling JavaScript", func(ctx context.Context) error {
			_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		})
	}
	return b
}

func allocOptions() []chromedp.ExecAllocatorOption {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ExecPath),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("hide-scrollbars", true),
	)
	// Chromium's sandbox refuses to run as root without user namespaces
	// set up for it; CI and these machines run tests as root.
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	return opts
}

// collectConsole keeps the console's errors and uncaught exceptions until
// the browser closes.
func (b *Browser) collectConsole() {
	messages := chromedp.Console(b.ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && !m.IsException() {
				continue
			}
			text := m.String()
			if m.URL != "" {
				text += fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
			}
			b.mu.Lock()
			b.errors = append(b.errors, text)
			b.mu.Unlock()
		}
	}()
}

// call runs do with the tab's context bounded by WaitBound, failing the
// test with what on error.
func (b *Browser) call(what string, do func(ctx context.Context) error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, WaitBound)
	defer cancel()
	if err := do(ctx); err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

// Open navigates to url and waits for the page's load event.
func (b *Browser) Open(url string) {
	b.t.Helper()
	b.call("opening "+url, func(ctx context.Context) error { return chromedp.Do(ctx, chromedp.Navigate(url)) })
}

// WaitFor waits until selector matches an element, and fails the test if
// none does within WaitBound.
func (b *Browser) WaitFor(selector string) {
	b.t.Helper()
	deadline := time.Now().Add(WaitBound)
	for !b.query(selector, "exists", "").Found {
		if time.Now().After(deadline) {
			b.t.Fatalf("browser: %q matched nothing within %v", selector, WaitBound)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Text is the text of the first element selector matches, as rendered
// (innerText, trimmed); the test fails if none matches.
func (b *Browser) Text(selector string) string {
	b.t.Helper()
	return b.must(selector, "text", "").Value
}

// Attr is the attribute name of the first element selector matches ("" if
// it has none); the test fails if no element matches.
func (b *Browser) Attr(selector, name string) string {
	b.t.Helper()
	return b.must(selector, "attr", name).Value
}

// HasClass tells whether the first element selector matches has class;
// the test fails if no element matches.
func (b *Browser) HasClass(selector, class string) bool {
	b.t.Helper()
	return b.must(selector, "class", class).Has
}

// ConsoleErrors returns the console errors and uncaught exceptions so far.
func (b *Browser) ConsoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// Screenshot saves a full-page PNG named name+".png" in $SCREENSHOT_DIR when
// set (`make screenshots` sets docs/img), else in the test's artifact
// directory (kept with `go test -artifacts`), and returns its path.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	var png []byte
	b.call("screenshot "+name, func(ctx context.Context) error {
		var err error
		png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		return err
	})
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		dir = b.artifactDir()
	}
	path := filepath.Join(dir, fileName(name)+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatalf("browser: saving screenshot: %v", err)
	}
	b.t.Logf("screenshot %s", path)
	return path
}

func (b *Browser) artifactDir() string {
	if a, ok := b.t.(interface{ ArtifactDir() string }); ok {
		return a.ArtifactDir()
	}
	return b.t.TempDir()
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func fileName(name string) string { return unsafeName.ReplaceAllString(name, "_") }

// result is what the query script returns.
type result struct {
	Found bool   `json:"found"`
	Value string `json:"value"`
	Has   bool   `json:"has"`
}

// queryJS looks an element up and reads one thing of it.
const queryJS = `((sel, kind, name) => {
	const el = document.querySelector(sel);
	if (!el) return {found: false};
	switch (kind) {
	case "text": return {found: true, value: (el.innerText ?? el.textContent ?? "").trim()};
	case "attr": return {found: true, value: el.getAttribute(name) ?? "", has: el.hasAttribute(name)};
	case "class": return {found: true, has: el.classList.contains(name)};
	}
	return {found: true};
})(%s, %s, %s)`

func (b *Browser) query(selector, kind, name string) result {
	b.t.Helper()
	expr := fmt.Sprintf(queryJS, jsString(selector), jsString(kind), jsString(name))
	var r result
	b.call("querying "+selector, func(ctx context.Context) error {
		var err error
		r, err = chromedp.Run(ctx, chromedp.Evaluate[result](expr))
		return err
	})
	return r
}

func (b *Browser) must(selector, kind, name string) result {
	b.t.Helper()
	r := b.query(selector, kind, name)
	if !r.Found {
		b.t.Fatalf("browser: %q matched nothing", selector)
	}
	return r
}

// jsString quotes s as a JavaScript string literal (JSON is a subset).
func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}
