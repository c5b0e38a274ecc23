// Command bkparse reads a Buildkite pipeline on stdin and parses it with github.com/buildkite/go-pipeline,
// the parser `buildkite-agent pipeline upload` uses; ci/pipelines_test.go runs it on
// ci/buildkite/pipeline.yml and on what ci/buildkite/build-steps.sh prints.
//
//	bkparse [-interpolate] [NAME=VALUE ...] < pipeline.yml
//
// With -interpolate it then interpolates the pipeline the way an upload without --no-interpolation
// does, with the NAME=VALUE pairs as the agent's environment. It prints the result as JSON,
//
//	{"env": {...}, "steps": [{"type": "command", "step": {...}}, {"type": "group", "key": ..., "group": ..., "steps": [...]}]}
//
// where a command step's "step" is go-pipeline's own JSON of it ("command" is its commands joined by
// newlines). A parse error, or any warning (the agent logs them, and Buildkite then refuses the
// upload: a `commands` item that YAML reads as a map, a step of no known type, ...), exits 1.
//
// It is a module of its own so that go-pipeline, which needs a newer Go and golang.org/x/sys than the
// main module, stays out of the main go.mod (the Dagger module in pipeline/ builds against that).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/buildkite/go-pipeline"
	"github.com/buildkite/go-pipeline/warning"
)

type environ map[string]string

func (e environ) Get(k string) (string, bool) { v, ok := e[k]; return v, ok }
func (e environ) Set(k, v string)             { e[k] = v }

type step struct {
	Type  string          `json:"type"`
	Key   string          `json:"key,omitempty"`
	Group *string         `json:"group,omitempty"`
	Steps []step          `json:"steps,omitempty"`
	Step  json.RawMessage `json:"step,omitempty"`
}

func describe(steps pipeline.Steps) ([]step, error) {
	out := []step{}
	for _, s := range steps {
		var d step
		switch s := s.(type) {
		case *pipeline.GroupStep:
			inner, err := describe(s.Steps)
			if err != nil {
				return nil, err
			}
			d = step{Type: "group", Key: s.Key, Group: s.Group, Steps: inner}
			out = append(out, d)
			continue
		case *pipeline.CommandStep:
			d.Type = "command"
		case *pipeline.WaitStep:
			d.Type = "wait"
		case *pipeline.InputStep:
			d.Type = "input"
		case *pipeline.TriggerStep:
			d.Type = "trigger"
		case *pipeline.UnknownStep:
			d.Type = "unknown"
		default:
			d.Type = fmt.Sprintf("%T", s)
		}
		b, err := json.Marshal(s)
		if err != nil {
			return nil, err
		}
		d.Step = b
		out = append(out, d)
	}
	return out, nil
}

func main() {
	interp := flag.Bool("interpolate", false, "interpolate as `pipeline upload` does without --no-interpolation")
	flag.Parse()
	env := environ{}
	for _, kv := range flag.Args() {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			fail(fmt.Errorf("argument %q is not NAME=VALUE", kv))
		}
		env[k] = v
	}

	p, err := pipeline.Parse(os.Stdin)
	if w := warning.As(err); w != nil {
		fail(fmt.Errorf("pipeline parsed with warnings (Buildkite refuses such an upload):\n%v", w))
	} else if err != nil {
		fail(fmt.Errorf("parse: %w", err))
	}
	if *interp {
		if err := p.Interpolate(env, false); err != nil {
			fail(fmt.Errorf("interpolate: %w", err))
		}
	}
	steps, err := describe(p.Steps)
	if err != nil {
		fail(err)
	}
	pipelineEnv := map[string]string{}
	if p.Env != nil {
		for k, v := range p.Env.All {
			pipelineEnv[k] = v
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]any{"env": pipelineEnv, "steps": steps}); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bkparse:", err)
	os.Exit(1)
}
