package ci

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/iancoleman/strcase"
)

// Param is one argument of a module function, as the Dagger CLI spells it.
type Param struct {
	Flag string // kebab-case flag name without dashes, e.g. skip-validation
	Bool bool   // a bool flag takes no separate value word (--flag or --flag=false)
}

// Function is one function of the module, as `dagger call` names it.
type Function struct {
	Name   string // kebab-case, e.g. build-all
	Params map[string]Param
}

// Module is what `dagger call` can reach on the module: its functions and the constructor's flags.
type Module struct {
	Functions   map[string]Function
	Constructor map[string]Param
}

// ModuleType is the Go type whose exported methods are the module's functions.
const ModuleType = "CloudstackTemplates"

// LoadModule parses the Go files of a Dagger module (pipeline/) and collects the exported methods on
// *CloudstackTemplates (each a function), their parameters (context.Context excluded) and the
// parameters of New (the constructor, whose flags come before the function name).
func LoadModule(dir string) (*Module, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	m := &Module{Functions: map[string]Function{}, Constructor: map[string]Param{}}
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") || strings.HasSuffix(path, ".gen.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || !fn.Name.IsExported() {
				continue
			}
			if fn.Recv == nil {
				if fn.Name.Name == "New" {
					for k, v := range params(fn.Type) {
						m.Constructor[k] = v
					}
				}
				continue
			}
			if !isModuleReceiver(fn.Recv) {
				continue
			}
			name := Kebab(fn.Name.Name)
			if _, dup := m.Functions[name]; dup {
				return nil, fmt.Errorf("%s: two functions named %s", path, name)
			}
			m.Functions[name] = Function{Name: name, Params: params(fn.Type)}
		}
	}
	if len(m.Functions) == 0 {
		return nil, fmt.Errorf("%s: no exported methods on *%s", dir, ModuleType)
	}
	return m, nil
}

func isModuleReceiver(recv *ast.FieldList) bool {
	if recv == nil || len(recv.List) != 1 {
		return false
	}
	t := recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	id, ok := t.(*ast.Ident)
	return ok && id.Name == ModuleType
}

func params(ft *ast.FuncType) map[string]Param {
	out := map[string]Param{}
	for _, field := range ft.Params.List {
		if sel, ok := field.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Context" {
			if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "context" {
				continue
			}
		}
		id, isIdent := field.Type.(*ast.Ident)
		isBool := isIdent && id.Name == "bool"
		for _, n := range field.Names {
			p := Param{Flag: Kebab(n.Name), Bool: isBool}
			out[p.Flag] = p
		}
	}
	return out
}

// Kebab is the Dagger CLI's name for a Go or GraphQL identifier: strcase.ToKebab, the function the
// CLI itself calls (cmd/dagger's cliName, with the same library version). An acronym is one word
// (trivyDB -> trivy-db) and digits are a word of their own (qcow2Compression -> qcow-2-compression);
// the CLI also normalizes every flag it is given through the same function, so --qcow2-compression
// reaches the same argument.
func Kebab(s string) string { return strcase.ToKebab(s) }

// Call is one `dagger call` command line found in a file.
type Call struct {
	Source string   // file and location, for messages
	Args   []string // the words after `dagger call`, up to the end of the shell command
}

func (c Call) String() string { return c.Source + ": dagger call " + strings.Join(c.Args, " ") }

// Calls that are not the module's: core API functions chained on a function's result. Flags after
// the first of them are that core function's, not the module's.
var coreChain = map[string]bool{
	"export": true, "contents": true, "stdout": true, "stderr": true, "file": true, "directory": true,
	"entries": true, "sync": true, "size": true, "name": true, "terminal": true, "with-exec": true,
	"as-service": true, "up": true, "id": true,
}

// Flags `dagger call` itself takes before the function name, and whether each takes a value word.
var daggerCallFlags = map[string]bool{
	"m": true, "mod": true, "progress": true, "o": true, "output": true, "q": false, "quiet": false,
	"s": false, "silent": false, "v": false, "verbose": false, "d": false, "debug": false, "json": false,
	"i": false, "interactive": false, "E": false, "no-exit": false, "x": false, "allow-llm": true,
}

// ExtractCalls finds every `dagger call` in a block of shell text (a run: block, a script line, a
// Buildkite command, a README code block): backslash-newline continuations are joined, comments
// dropped, and each call's words run until a shell operator (|, >, ;, &&, ||, a closing paren).
// Words are split as a shell would, keeping quotes' contents; $VARS are left as they are.
func ExtractCalls(source, text string) []Call {
	text = strings.ReplaceAll(text, "\\\r\n", " ")
	text = strings.ReplaceAll(text, "\\\n", " ")
	var calls []Call
	for lineNo, line := range strings.Split(text, "\n") {
		words := shellWords(line)
		for i := 0; i < len(words); i++ {
			if words[i].text != "dagger" || words[i].quoted {
				continue
			}
			// dagger [global flags] call ...
			j := i + 1
			for j < len(words) && strings.HasPrefix(words[j].text, "-") && !words[j].op {
				j++
				if !strings.Contains(words[j-1].text, "=") && j < len(words) && daggerGlobalTakesValue(words[j-1].text) {
					j++
				}
			}
			if j >= len(words) || words[j].text != "call" || words[j].quoted {
				continue
			}
			var args []string
			for k := j + 1; k < len(words) && !words[k].op; k++ {
				args = append(args, words[k].text)
			}
			calls = append(calls, Call{Source: fmt.Sprintf("%s:%d", source, lineNo+1), Args: args})
			i = j
		}
	}
	return calls
}

func daggerGlobalTakesValue(flag string) bool {
	switch strings.TrimLeft(flag, "-") {
	case "progress", "m", "mod", "workdir", "interactive-command":
		return true
	}
	return false
}

type word struct {
	text   string
	quoted bool // any part came from quotes (so it is never a command name or operator)
	op     bool // a shell operator ends the command
}

// shellWords splits one line of shell into words and operators; a # at a word's start ends the line.
func shellWords(line string) []word {
	var out []word
	var cur strings.Builder
	inWord, quoted := false, false
	flush := func() {
		if inWord {
			out = append(out, word{text: cur.String(), quoted: quoted})
		}
		cur.Reset()
		inWord, quoted = false, false
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				end = len(line) - i - 1
			}
			cur.WriteString(line[i+1 : i+1+end])
			inWord, quoted = true, true
			i += end + 1
		case c == '"':
			inWord, quoted = true, true
			for i++; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && strings.ContainsRune("\"\\$`", rune(line[i+1])) {
					i++
				}
				cur.WriteByte(line[i])
			}
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		case c == ' ' || c == '\t' || c == '\r':
			flush()
		case c == '#' && !inWord:
			flush()
			return out
		case strings.IndexByte("|&;<>()", c) >= 0:
			flush()
			out = append(out, word{text: string(c), op: true})
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return out
}

// CheckCall checks one call against the module: constructor flags (if any) before a function name
// the module has, then only flags that function takes, up to the first chained core call. Values
// that come from the environment or a CI template ($OS, {{matrix}}) are not judged; names are.
func (m *Module) CheckCall(c Call) error {
	args := c.Args
	i := 0
	// Flags before the function: dagger call's own, or the constructor's.
	for ; i < len(args) && strings.HasPrefix(args[i], "-"); i++ {
		name, hasValue := flagName(args[i])
		if p, ok := m.Constructor[name]; ok {
			if !hasValue && !p.Bool {
				i++
			}
			continue
		}
		takesValue, ok := daggerCallFlags[name]
		if !ok {
			return fmt.Errorf("%s: --%s is neither a `dagger call` flag nor one of New's (%s)", c, name, keys(m.Constructor))
		}
		if takesValue && !hasValue {
			i++
		}
	}
	if i >= len(args) {
		return fmt.Errorf("%s: no function named", c)
	}
	fn, ok := m.Functions[args[i]]
	if !ok {
		return fmt.Errorf("%s: the module has no function %q (it has: %s)", c, args[i], functionNames(m))
	}
	for i++; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			if coreChain[a] {
				return nil
			}
			return fmt.Errorf("%s: %q after %s is neither a flag nor a chained core call (%s)", c, a, fn.Name, keys(coreChain))
		}
		name, hasValue := flagName(a)
		p, ok := fn.Params[name]
		if !ok {
			return fmt.Errorf("%s: %s has no flag --%s (it takes: %s)", c, fn.Name, name, keys(fn.Params))
		}
		if !hasValue && !p.Bool {
			i++
			if i >= len(args) {
				return fmt.Errorf("%s: --%s needs a value", c, name)
			}
		}
	}
	return nil
}

var flagRe = regexp.MustCompile(`^--?([^=]+)(=.*)?$`)

func flagName(a string) (name string, hasValue bool) {
	sub := flagRe.FindStringSubmatch(a)
	if sub == nil {
		return a, false
	}
	// The CLI normalizes flag names (`--trivyDb`, `--qcow2-compression`) before it looks them up.
	return Kebab(sub[1]), sub[2] != ""
}

func functionNames(m *Module) string { return keys(m.Functions) }

func keys[V any](mp map[string]V) string {
	var ks []string
	for k := range mp {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}
