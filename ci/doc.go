// Package ci holds the tests of the project's CI definitions: the GitHub Actions workflows
// (.github/workflows), GitLab CI (.gitlab-ci.yml, ci/gitlab) and Buildkite (ci/buildkite), which all
// run the same `dagger call`s, their build matrix included (`dagger call matrix`, osdefs.CIMatrix).
//
// The tests check that
//   - the GitLab and Buildkite files, and the pipelines their generators print for the real catalogue,
//     pass their platforms' own parsers: gitlab-ci-local (GitLab's schema, includes, extends, stages,
//     needs) and github.com/buildkite/go-pipeline (what `buildkite-agent pipeline upload` runs,
//     wrapped in the separate module ci/bkparse), besides the structure checks of pipelines_test.go;
//   - every file a CI file names exists;
//   - every `dagger call` in any CI file, the README and docs/*.md names a function the module in
//     pipeline/ really has, with flags that function really takes (see [CheckCall]);
//   - the run: blocks that decide something (the matrix and full-catalogue flag, doctor's disk gate,
//     the job summary, the release's size check) do so under bash with a fake `dagger` that prints
//     what the module prints (the matrix of osdefs.CIMatrix, whose own cases are in osdefs).
//
// Run them with `go test ./ci/...` after `scripts/ci-tools.sh` (which installs jq, gitlab-ci-local and
// go-pipeline's modules). actionlint, with ShellCheck on every run: block, is the module's Dagger check
// lint-workflows (`dagger checks`), run in a container.
package ci
