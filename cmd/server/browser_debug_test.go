package main

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestBrowserDebugPopup(t *testing.T) {
	b := newBrowser(t, true)
	s := startServer(t, nil)
	openDemoSignedIn(b, s, "alice")
	popup := b.popupAfter("connect Oura", chromedp.Click(chromedp.CSS(`[data-connect="oura"]`)))
	for i := 0; i < 10; i++ {
		loc, err := chromedp.Run(popup.ctx, chromedp.Location())
		html, _ := chromedp.Run(popup.ctx, chromedp.Evaluate[string]("document.documentElement.outerHTML.slice(0,300)"))
		t.Logf("%v %q %v %q", i, loc, err, html)
		time.Sleep(300 * time.Millisecond)
	}
	t.Logf("outcome %q", b.text("#outcome"))
}
