// Command server runs linkbff. With no JUNCTION_API_KEY it runs on its
// embedded default: a Junction emulator, a dev sign-in and SQLite.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "linkbff:", err)
		os.Exit(1)
	}
}
