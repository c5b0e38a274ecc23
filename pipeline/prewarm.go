package main

import (
	"context"
	"sync"

	"github.com/charmbracelet/log"
)

// prewarm readies the tools of later stages while the earlier ones run. On a cold engine compiling
// Trivy and installing libguestfs take longer than fetching the installer and running Packer, and
// none of them depends on the image: started at once they cost almost nothing on the critical path.
// A failure here is only logged; the stage that needs the tool reports it properly. The returned
// stop cancels what is still running and waits for it; call it once the build no longer needs it.
func prewarm(ctx context.Context, log *log.Logger, tools map[string]func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for name, ready := range tools {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ready(ctx); err != nil && ctx.Err() == nil {
				log.Warn("preparing a later stage's tools failed; that stage will report it", "tools", name)
			}
		}()
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// laterStageTools are the containers and binaries validate, scan and convert use.
func (m *CloudstackTemplates) laterStageTools(validation, scanning bool) map[string]func(context.Context) error {
	tools := map[string]func(context.Context) error{
		"disk tools": func(ctx context.Context) error { _, err := diskTools().Sync(ctx); return err },
	}
	if validation {
		tools["libguestfs"] = func(ctx context.Context) error { _, err := guestfsImage().Sync(ctx); return err }
		tools["boot test"] = func(ctx context.Context) error { _, err := m.zoneTool().Sync(ctx); return err }
	}
	if scanning {
		tools["trivy"] = func(ctx context.Context) error { _, err := m.trivyBinary().Sync(ctx); return err }
	}
	return tools
}
